"""The everyday tools on a 390 px screen: search and the audit trail take a scan and keep focus; alerts,
expired bags and the whole-lot QC form fit without sideways scrolling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import assert_fits, login, phone
from tests.browser.wedge import assert_scan_focus, done, local_input, scan, submit
from tests.factories import ward
from tests.factories.qc import add_results, db_session, make_lot

pytestmark = pytest.mark.browser


def test_lab_searches_finds_an_expired_bag_by_its_alert_and_discards_it_at_390_px(app, browser, live_server):
    with db_session(app) as session:
        bag = ward.bag(session, expires_at=datetime.now(UTC) - timedelta(hours=1))
        code = bag.bag_code
    context, page = phone(browser, live_server)
    try:
        login(page, "lab")
        page.goto("/scan/search")
        scan(page, code[:9])
        assert page.locator(f"[data-hit='bag:{code}']").count() == 1
        assert_scan_focus(page)
        assert_fits(page)
        submit(page, page.locator("[data-testid=alerts-link]"))
        assert_fits(page)
        submit(page, page.locator("[data-alert=bags_expired] a"))
        page.check(f"input[name=bags][value='{code}']")
        page.fill("input[name=location]", "Clean room 1")
        assert_fits(page)
        submit(page, page.locator("button", has_text="Discard the ticked bags"))
        assert "1 expired bag discarded" in done(page)
    finally:
        context.close()


def test_qa_reads_a_bags_audit_trail_by_scanning_it_at_390_px(app, browser, live_server):
    with db_session(app) as session:
        bag = ward.bag(session)
        code = bag.bag_code
    context, page = phone(browser, live_server)
    try:
        login(page, "qa")
        page.goto("/audit/")
        scan(page, code)
        assert code in page.inner_text("[data-testid=audit-scope]")
        assert page.locator("dl.values dt", has_text="state").count() >= 1
        assert_scan_focus(page)
        assert_fits(page)
    finally:
        context.close()


def test_qc_enters_the_open_tests_of_a_lot_on_one_form_at_390_px(app, browser, live_server):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("viability", "endotoxin"))
        number = lot.lot_number
    tz = ZoneInfo(app.config["SITE_TIMEZONE"])
    context, page = phone(browser, live_server)
    try:
        login(page, "qc")
        page.goto(f"/qc/lots/{number}")
        submit(page, page.locator("[data-testid=batch-link]"))
        assert_fits(page)
        for test, value in (("viability", "92"), ("endotoxin", "0.8")):
            page.fill(f"input[name='{test}.value']", value)
            page.fill(f"input[name='{test}.sampled_at']", local_input(tz, hours=3))
        submit(page, page.locator("button", has_text="Record these results"))
        assert "2 results recorded" in done(page)
    finally:
        context.close()
