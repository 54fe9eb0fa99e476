"""The back button on a ward tablet: after the bedside check and the start, going back shows pages, never
the browser's "confirm form resubmission", and never sends a form again (docs/rules.md, "Page forms").

A 390 px wide tablet: Liu Yang (nurse) scans the wristband and the bag, Zhao Lei (nurse2) signs, the infusion
starts; then she presses back. The check's page comes back by GET, says the infusion has started and links
to it instead of offering the start again; nothing more is recorded.
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from cellchain.identifiers.scans import wristband_data
from cellchain.ward.models import BedsideCheck, Infusion
from tests.browser.conftest import login
from tests.browser.wedge import done, scan, submit
from tests.conftest import PASSWORD
from tests.factories import ward
from tests.factories.qc import db_session

pytestmark = pytest.mark.browser


def _counts(app) -> tuple[int, int]:
    with db_session(app) as session:
        return (session.exec(select(func.count()).select_from(BedsideCheck)).one(),
                session.exec(select(func.count()).select_from(Infusion)).one())


def test_nurse_going_back_after_starting_an_infusion_sees_the_check_page_and_sends_nothing(page, app):
    with db_session(app) as session:
        made = ward.bedside_ready(session)
        subject, bag, bag_2d = made.subject.subject_code, made.bag.bag_code, made.bag_scan
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "nurse")
    page.goto("/ward/bedside")
    scan(page, wristband_data(subject))
    scan(page, bag_2d)
    assert "/ward/bedside/checks/" in page.url  # the check's result is a page of its own, reached by GET
    check_url = page.url
    assert page.locator(".verdict").inner_text().startswith("ALL CHECKS PASSED")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.shots("check-result-page")
    page.check("input[name=ultrasound_monitored]")
    page.fill("input[name=signature_username]", "nurse2")
    page.fill("input[name=signature_password]", PASSWORD)
    submit(page, page.locator("button", has_text="Start infusion"))
    assert f"Infusion of bag {bag} started" in done(page)
    recorded = _counts(app)

    sent = []
    page.on("request", lambda request: sent.append((request.method, request.url)))
    page.go_back()
    page.wait_for_load_state("load")
    assert page.url == check_url
    assert ("GET", check_url) in sent and {method for method, _ in sent} == {"GET"}, sent
    assert page.locator("[data-testid=infused]").count() == 1
    assert page.locator("button", has_text="Start infusion").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.shots("back-after-the-start")
    assert _counts(app) == recorded
