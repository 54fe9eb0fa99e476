"""Hand-overs through the pages only, on a 390 px wide screen, by scanning as a keyboard-wedge scanner types.

The lab dispatches a released bag from the lab's dispatch page (scan, then dispatch) and gets its shipper
label; a nurse opens the hand-over page from the ward, scans the bag, sees who sent it and receives it on
the ward. Then a coordinator replaces an allocated bag that was discarded. No page scrolls sideways.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import assert_fits, login, phone
from tests.browser.wedge import assert_scan_focus, done, scan, submit
from tests.factories import ward
from tests.factories.qc import db_session

pytestmark = pytest.mark.browser


def test_the_lab_dispatches_a_bag_and_a_nurse_receives_it_on_the_ward_at_390_px(app, browser, live_server):
    with db_session(app) as session:
        bag = ward.bag(session)
        code, data = bag.bag_code, ward.bag_2d(bag)
    context, page = phone(browser, live_server)
    try:
        login(page, "lab")
        page.goto("/lab/")
        submit(page, page.locator("a.button", has_text="Dispatch bags to the ward"))
        scan(page, data)
        assert page.locator(f"tr[data-bag='{code}']").count() == 1
        assert_scan_focus(page)
        assert_fits(page)
        page.fill("input[name=ship_to]", "Liver transplant ward 5")
        page.fill("input[name=temperature_c]", "5")
        page.fill("input[name=handed_over_by]", "Li Wei")
        page.fill("input[name=received_by]", "Courier Wu")
        submit(page, page.locator("button", has_text="Dispatch 1 bag"))
        assert "dispatched" in done(page)
        assert page.locator("[data-testid=shipper-label]").count() == 1
        assert_fits(page)
    finally:
        context.close()
    context, page = phone(browser, live_server)
    try:
        login(page, "nurse")
        page.goto("/ward/")
        submit(page, page.locator("a.button", has_text="Hand-over"))
        scan(page, data)
        custody = page.locator("[data-testid=custody]")
        assert "Li Wei" in custody.inner_text() and "Courier Wu" in custody.inner_text()
        assert_fits(page)
        page.check("input[value=received_at_ward]")
        page.fill("#record input[name=location]", ward.WARD)
        page.fill("#record input[name=temperature_c]", "6")
        page.fill("#record input[name=handed_over_by]", "Courier Wu")
        page.fill("#record input[name=received_by]", "Nurse Zhao")
        submit(page, page.locator("#record button", has_text="Record"))
        assert "received at ward" in done(page)
        assert page.inner_text("[data-testid=state]") == "on the ward"
        assert_scan_focus(page)
        assert_fits(page)
    finally:
        context.close()


def test_a_coordinator_replaces_a_discarded_allocated_bag_at_390_px(app, browser, live_server):
    with db_session(app) as session:
        who = ward.subject(session)
        visit = ward.infusion_visit(session, who)
        visit.planned_at = datetime.now(UTC) + timedelta(hours=2)
        old = ward.bag(session)
        ward.allocate(session, old, visit, who)
        ward.hand_over(session, old, "discarded", minutes_ago=5)
        new = ward.bag(session, division="B0")
        subject_code, new_code, new_scan = who.subject_code, new.bag_code, ward.bag_2d(new)
    context, page = phone(browser, live_server)
    try:
        login(page, "coordinator")
        page.wait_for_selector("[data-testid=bags-unusable]")
        assert "was discarded" in page.inner_text("[data-testid=bags-unusable]")
        submit(page, page.locator("[data-testid=bags-unusable] a", has_text=subject_code))
        assert "allocated_bag_discarded" in page.content()
        assert_fits(page)
        page.fill("form.deallocate input[name=reason]", "bag discarded: punctured")
        submit(page, page.locator("form.deallocate button"))
        assert "not fit for use" in done(page)
        form = page.locator("form.allocate")
        form.locator("input[name=scan]").fill(new_scan)
        weight = form.locator("input[name=weight_kg]")
        if weight.count():
            weight.fill("70")
        submit(page, form.locator("button[type=submit]"))
        assert "allocated" in done(page)
        assert new_code in page.inner_text("[data-testid=allocations]")
        assert_fits(page)
    finally:
        context.close()
