"""One cord to an infused bag and a completed follow-up visit, through the pages alone.

No API call and no database write from the test: every record is made by a person in the browser, as the
lab (Li Wei, with Huang Tao verifying), QC (Chen Jing), QA (Wang Fang), the coordinator and two nurses
(Liu Yang, with Zhao Lei co-signing) do it. The lab, QC and QA work at a desk (1280 px); the coordinator
and the nurses on a phone-sized tablet (390 px), where no page scrolls sideways. The bag is identified
at every step by the 2D code read back from its printed label. Four weeks later (the clock moved on,
never back) the coordinator records the week-4 follow-up. Each step's screenshot is kept under
test-artifacts/test_one_cord_to_an_infused_bag_and_a_completed_follow_up_through_the_pages/.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cellchain.identifiers.scans import wristband_data
from tests.browser.conftest import ARTIFACTS, login
from tests.browser.test_journey_lab import (
    ANTICOAGULANT_LOT,
    _handover,
    _harvest_formulate_fill,
    _print_bag_labels,
    _record_passages,
    _record_steps,
    _register_cord,
    _second_person_verifies,
)
from tests.browser.test_journey_ward import _complete, _right_patient_passes_and_starts
from tests.browser.wedge import assert_scan_focus, done, local_input, scan, submit
from tests.conftest import PASSWORD
from tests.factories import materials
from tests.factories.qc import PASSING, SAMPLED_FORM
from tests.factories.trial import eligible_answers

pytestmark = pytest.mark.browser

DESK, TABLET = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
WEIGHT_KG = "70"  # 1e6 cells/kg: the lab's 50 ml bags hold 7.0 x 10^7 cells


class Journey:
    """The people's browsers, one after another, and the numbered screenshots of every step."""

    def __init__(self, browser, live_server: str, name: str) -> None:
        self.browser, self.live_server, self.count = browser, live_server, 0
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.context = self.page = None

    def as_(self, username: str, viewport: dict[str, int]):
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(base_url=self.live_server, viewport=viewport)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.shots = self.shot
        self.user = username
        login(self.page, username)
        self.page.wait_for_selector("[data-testid=current-user]")
        return self.page

    def shot(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{self.user}-{step}.png"), full_page=True)

    def fits(self) -> None:
        """On the tablet: the page is no wider than the screen."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET["width"], f"{self.page.url} is {width} px wide on a {TABLET['width']} px screen"

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


def _lab_makes_labelled_bags(j: Journey, tz: ZoneInfo) -> tuple[str, list[str], list[str]]:
    page = j.as_("lab", DESK)
    din = _register_cord(page, tz)
    page.goto(f"/lab/collections/{din}")
    _handover(page, "shipped", "Courier box 7", "18", local_input(tz, days=10, hours=-1))
    _handover(page, "received", "Cell processing lab", "6.5", local_input(tz, days=10, hours=-3))
    submit(page, page.locator("#start button"))
    lot_url = page.url
    _record_passages(page, tz)
    _record_steps(page)
    _harvest_formulate_fill(page)
    assert sorted(_second_person_verifies(j.browser, j.live_server, lot_url)) == [
        "fill", "formulation", "tissue_processing"]
    page.reload()
    assert page.locator("[data-testid=batch-complete]").is_visible()
    bag_codes = page.locator("#genealogy li[data-bag]").evaluate_all("items => items.map(i => i.dataset.bag)")
    labels = _print_bag_labels(page, bag_codes)
    _apply_labels(page, bag_codes, labels)
    j.shot("bags-filled-and-labelled")
    return din, bag_codes, labels


def _apply_labels(page, bag_codes: list[str], labels: list[str]) -> None:
    """Each printed label put on its bag and scanned there: every label accounted for before release."""
    for bag_code, two_d in zip(bag_codes, labels, strict=True):
        page.goto(f"/labels/print/bag/{bag_code}")
        submit(page, page.locator("[data-testid=apply-by-scan]").first)
        scan(page, two_d)
        assert page.locator("[data-testid=refusal]").count() == 0, done(page)


def _qc_enters_every_result(j: Journey, lot: str) -> None:
    """The dosing lot's release panel on the whole-lot form: one value and sampling time a row, one submit."""
    page = j.as_("qc", DESK)
    page.goto("/qc/")
    submit(page, page.locator(f"[data-testid=qc-work] tr[data-lot='{lot}'] a", has_text="Enter all open results"))
    rows = set(page.locator("fieldset.qc-row").evaluate_all("rows => rows.map(r => r.dataset.row)"))
    panel = {test: value for test, value in {**PASSING, "gram_stain": "negative"}.items() if test in rows}
    for test, value in panel.items():
        page.fill(f"input[name='{test}.value']", str(value))
        page.fill(f"input[name='{test}.sampled_at']", SAMPLED_FORM["sampled_at"])
    j.shot("qc-whole-lot-form")
    submit(page, page.locator("button", has_text="Record these results"))
    assert f"{len(panel)} results recorded" in done(page)
    j.shot("qc-results-entered")


def _qa_releases(j: Journey, lot: str) -> None:
    page = j.as_("qa", DESK)
    page.goto("/qa/")
    submit(page, page.locator(f"[data-testid=qa-queue] tr[data-lot='{lot}'] a"))
    assert "Every release condition holds" in page.inner_text("[data-testid=release-gaps]")
    form = page.locator("[data-testid=release-form]")
    form.locator("input[name=signature_password]").fill(PASSWORD)
    submit(page, form.locator("button[type=submit]"))
    assert f"Lot {lot} released" in done(page)
    j.shot("lot-released-with-e-signature")


def _register_and_randomize(j: Journey, tz: ZoneInfo) -> tuple[str, str]:
    """Register eligible subjects on the tablet until one is randomized to UC-MSC (arm A)."""
    page = j.as_("coordinator", TABLET)
    for _ in range(8):
        page.goto("/trial/subjects/new")
        j.fits()
        answers = eligible_answers(day0=datetime.now(tz).date())
        for name, value in answers.items():
            if value is True or value is False:
                page.check(f"input[name={name}][value={'yes' if value else 'no'}]")
            elif name in ("sex",):
                page.check(f"input[name=sex][value={value}]")
            elif value is not None:
                page.fill(f"input[name={name}]", str(value))
        submit(page, page.locator("button", has_text="Register and screen"))
        subject = page.url.rstrip("/").split("/")[-1]
        page.fill("input[name=confirm]", subject)
        submit(page, page.locator("form", has=page.locator("input[name=confirm]")).locator("button"))
        message = done(page)
        j.fits()
        if "arm A" in message:
            j.shot("subject-randomized-to-uc-msc")
            return subject, answers["screening_number"]
    raise AssertionError("eight subjects in a row were randomized to placebo")


def _coordinator_allocates(j: Journey, subject: str, bag_2d: str, bag: str) -> None:
    page = j.page
    form = page.locator("form.allocate").first
    form.locator("input[name=scan]").fill(bag_2d)
    weight = form.locator("input[name=weight_kg]")
    if weight.count():
        weight.fill(WEIGHT_KG)
    submit(page, form.locator("button[type=submit]"))
    assert f"{bag} allocated to {subject}" in done(page)
    assert bag in page.inner_text("[data-testid=allocations]")
    j.fits()
    j.shot("bag-allocated-to-week-0")


def _lab_dispatches(j: Journey, bag_2d: str, bag: str) -> None:
    page = j.as_("lab", DESK)
    page.goto("/lab/")
    submit(page, page.locator("a.button", has_text="Dispatch bags to the ward"))
    scan(page, bag_2d)
    assert page.locator(f"tr[data-bag='{bag}']").count() == 1
    page.fill("input[name=ship_to]", "Liver transplant ward 5")
    page.fill("input[name=temperature_c]", "5")
    page.fill("input[name=handed_over_by]", "Li Wei")
    page.fill("input[name=received_by]", "Courier Wu")
    submit(page, page.locator("button", has_text="Dispatch"))
    assert "dispatched" in done(page)
    j.shot("bag-dispatched-to-the-ward")


def _nurses_infuse(j: Journey, tz: ZoneInfo, subject: str, bag_2d: str, bag: str) -> None:
    page = j.as_("nurse", TABLET)
    page.goto("/ward/")
    j.fits()
    assert bag in page.inner_text(f"tr[data-subject='{subject}']")
    assert_scan_focus(page)
    page.keyboard.type(bag_2d)
    page.keyboard.press("Enter")
    page.keyboard.type("5.4")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Bag {bag} received on the ward" in done(page)
    j.fits()
    j.shot("bag-received-on-the-ward")
    submit(page, page.locator("a.button", has_text="Bedside check"))
    scan(page, wristband_data(subject))
    assert page.inner_text("[data-testid=subject]") == subject
    j.fits()
    _right_patient_passes_and_starts(page, {"subject": subject, "bag_2d": bag_2d, "bag": bag})
    j.fits()
    _complete(page, tz)
    j.fits()


def _follow_up_four_weeks_later(j: Journey, subject: str) -> None:
    page = j.as_("coordinator", TABLET)
    page.goto(f"/trial/subjects/{subject}")
    j.fits()
    infusion = page.inner_text("[data-testid=visits] tr[data-week='0'][data-kind=infusion]")
    assert "Done" in infusion, infusion
    row = page.locator("[data-testid=visits] tr[data-week='4'][data-kind=follow_up]")
    submit(page, row.locator("button", has_text="Follow-up done today"))
    assert f"Week 4 follow-up of {subject} recorded as done" in done(page)
    assert "Done" in page.inner_text("[data-testid=visits] tr[data-week='4'][data-kind=follow_up]")
    j.fits()
    j.shot("week-4-follow-up-done")


def test_one_cord_to_an_infused_bag_and_a_completed_follow_up_through_the_pages(app, browser, live_server):
    tz = ZoneInfo(app.config["SITE_TIMEZONE"])
    materials.stocked(app, ANTICOAGULANT_LOT)
    j = Journey(browser, live_server, "test_one_cord_to_an_infused_bag_and_a_completed_follow_up_through_the_pages")
    try:
        din, bags, labels = _lab_makes_labelled_bags(j, tz)
        _qc_enters_every_result(j, din)
        _qa_releases(j, din)
        subject, _ = _register_and_randomize(j, tz)
        _coordinator_allocates(j, subject, labels[0], bags[0])
        _lab_dispatches(j, labels[0], bags[0])
        _nurses_infuse(j, tz, subject, labels[0], bags[0])
        with time_machine.travel(datetime.now(tz) + timedelta(days=28), tick=True):
            _follow_up_four_weeks_later(j, subject)
    finally:
        j.close()
