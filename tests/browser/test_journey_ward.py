"""A nurse's day in the browser: a bag arrives on the ward and is infused into the right patient.

Before the browser starts, a released UC-MSC bag has been dispatched from the lab and allocated to a
randomized arm-A subject whose infusion visit is today (``factories.ward``). From there on it is pages
only, by keyboard at the scan boxes as a wedge scanner types: Liu Yang (nurse) receives the bag with
its temperature, scans the wrong patient's wristband first and is stopped, then the right one; Zhao Lei
(nurse2) signs as the second verifier; the infusion is completed with a mild reaction, and the
coordinator sees the visit done. On every ward page the controls are big enough to touch.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cellchain.identifiers.scans import wristband_data
from tests.browser.conftest import login
from tests.browser.wedge import MIN_TOUCH_PX, assert_scan_focus, done, local_input, scan, submit
from tests.conftest import PASSWORD
from tests.factories import ward
from tests.factories.qc import db_session

pytestmark = pytest.mark.browser

CONTROLS = "main button, main .button, main select, main input:not([type=hidden]):not([type=checkbox])"
SMALL_TARGETS = """([selector, least, byStyle]) => [...document.querySelectorAll(selector)]
  .map(e => [e.outerHTML.slice(0, 80), parseFloat(getComputedStyle(e).minHeight) || 0,
             e.getBoundingClientRect().height])
  .filter(([, minHeight, height]) => (byStyle && minHeight < least) || height < least)"""


def assert_touch_targets(page) -> None:
    """Every control on a ward page is styled and drawn at least 44 px high; so is each checkbox's label."""
    assert page.locator(CONTROLS).count() > 0
    assert page.evaluate(SMALL_TARGETS, [CONTROLS, MIN_TOUCH_PX, True]) == []
    assert page.evaluate(SMALL_TARGETS, ["main label.check", MIN_TOUCH_PX, False]) == []


def _start_state(app) -> dict[str, str]:
    with db_session(app) as session:
        subject = ward.subject(session, arm="A", weight_kg=70.0)
        bystander = ward.subject(session, arm="A", weight_kg=64.0)  # in the next bed, not this bag's patient
        bag = ward.to_ward(session, ward.bag(session), receive=False)
        visit = ward.infusion_visit(session, subject)
        ward.allocate(session, bag, visit, subject)
        return {"subject": subject.subject_code, "bystander": bystander.subject_code, "bag": bag.bag_code,
                "bag_2d": ward.bag_2d(bag), "visit": str(visit.id)}


def _receive_bag(page, s: dict[str, str]) -> None:
    page.goto("/ward/")
    due = page.inner_text(f"tr[data-subject='{s['subject']}']")
    assert s["bag"] in due and "dispatched" in due and "not started" in due, due
    assert_touch_targets(page)
    page.shots("ward-before-receipt")
    assert_scan_focus(page)
    page.keyboard.type(s["bag_2d"])
    page.keyboard.press("Enter")  # the form still needs the temperature: the browser moves there
    assert page.evaluate("() => document.activeElement.name") == "temperature_c"
    page.keyboard.type("5.2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Bag {s['bag']} received on the ward" in done(page)
    assert page.locator(f"li[data-bag='{s['bag']}']").count() == 1
    assert "on the ward" in page.inner_text(f"tr[data-subject='{s['subject']}']")
    assert_scan_focus(page)  # ready for the next bag
    page.shots("bag-received-on-ward")


def _bedside_scans(page, wristband_subject: str, bag_2d: str) -> None:
    page.goto("/ward/")
    submit(page, page.locator("a.button", has_text="Bedside check"))
    scan(page, wristband_data(wristband_subject))
    assert page.inner_text("[data-testid=subject]") == wristband_subject
    scan(page, bag_2d)


def _wrong_patient_is_stopped(page, s: dict[str, str]) -> None:
    _bedside_scans(page, s["bystander"], s["bag_2d"])
    checks = page.locator("[data-testid=checks]")
    verdict = checks.locator(".verdict").inner_text()
    assert verdict.startswith("STOP: DO NOT INFUSE.") and "Right subject" in verdict, verdict
    wrong = checks.locator("li[data-check=right_subject]")
    assert wrong.get_attribute("data-ok") == "fail"
    assert s["subject"] in wrong.inner_text() and s["bystander"] in wrong.inner_text(), wrong.inner_text()
    assert wrong.locator(".check-tag").inner_text() == "FAIL"  # the word, not only the red
    assert page.locator("button", has_text="Start infusion").count() == 0
    assert_scan_focus(page)  # the next scan still lands in the box
    assert_touch_targets(page)
    page.shots("wrong-patient-stop")


def _right_patient_passes_and_starts(page, s: dict[str, str]) -> None:
    submit(page, page.locator("a.button", has_text="Start again with another wristband"))
    assert_scan_focus(page)
    scan(page, wristband_data(s['subject']))
    assert_scan_focus(page)
    scan(page, s["bag_2d"])
    checks = page.locator("[data-testid=checks]")
    assert checks.locator(".verdict").inner_text().startswith("ALL CHECKS PASSED")
    results = checks.locator("li[data-check]").evaluate_all("items => items.map(i => [i.dataset.check, i.dataset.ok])")
    assert {name for name, _ in results} >= {"right_subject", "released", "not_expired", "received_on_ward"}
    assert all(ok == "pass" for _, ok in results), results
    assert_touch_targets(page)
    page.shots("right-patient-all-checks-pass")
    page.check("input[name=ultrasound_monitored]")
    page.fill("input[name=heart_rate]", "78")
    page.fill("input[name=signature_username]", "nurse2")
    page.fill("input[name=signature_password]", PASSWORD)
    page.shots("second-nurse-signs")
    submit(page, page.locator("button", has_text="Start infusion"))
    assert f"Infusion of bag {s['bag']} started" in done(page)
    assert page.inner_text("[data-testid=status]") != "completed"
    assert "Zhao Lei (nurse)" in page.inner_text("dl.facts")
    page.shots("infusion-started")


def _complete(page, tz: ZoneInfo) -> None:
    """Volume, end time (empty: now, as the bag runs out) and a mild reaction; too much volume is refused."""
    assert_touch_targets(page)
    assert page.input_value("input[name=ended_at]") == ""  # no stale time from when the page was drawn
    page.fill("input[name=volume_ml]", "55")
    submit(page, page.locator("button", has_text="Complete infusion"))
    refusal = page.inner_text("[data-testid=refusal]")
    assert page.locator("[data-testid=refusal] [data-reason=volume_exceeds_bag]").count() == 1
    assert "55 ml is more than bag" in refusal and "volume_exceeds_bag" not in refusal, refusal
    page.shots("too-much-volume-refused")
    page.fill("input[name=volume_ml]", "48")
    page.fill("input[name=partial_reason]", "line flushed; 2 ml left in the bag's dead space")
    page.fill("input[name=reaction_0_description]", "Chills 20 min into the infusion, settled without treatment")
    page.select_option("select[name=reaction_0_severity]", "mild")
    page.fill("input[name=reaction_0_onset]", local_input(tz))
    before = datetime.now(tz).strftime("%Y-%m-%d %H:%M")
    submit(page, page.locator("button", has_text="Complete infusion"))
    assert "completed" in done(page)
    assert page.inner_text("[data-testid=status]") == "completed"
    facts = page.inner_text("dl.facts")
    assert "48 ml of 50 ml" in facts and "PARTIAL INFUSION" in facts, facts
    assert "Chills 20 min into the infusion" in page.inner_text("main")
    ended = facts.split("Ended")[1].split(" by ")[0].strip()
    assert before <= ended[:16] <= datetime.now(tz).strftime("%Y-%m-%d %H:%M"), ended
    page.shots("infusion-completed")


def test_nurse_takes_a_bag_from_ward_receipt_to_a_completed_infusion(page, app):
    s = _start_state(app)
    login(page, "nurse")
    _receive_bag(page, s)
    _wrong_patient_is_stopped(page, s)
    _right_patient_passes_and_starts(page, s)
    _complete(page, ZoneInfo(app.config["SITE_TIMEZONE"]))

    page.click("text=Log out")
    login(page, "coordinator")
    page.goto(f"/trial/subjects/{s['subject']}")
    visit = page.inner_text(f"[data-testid=visits] tr[data-visit='{s['visit']}']")
    assert "Done" in visit and s["bag"] in visit, visit
    assert "completed" in page.inner_text("[data-testid=infusions]")
    page.shots("coordinator-sees-visit-done")
