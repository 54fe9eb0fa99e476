"""A nurse thaws a frozen bag on the ward tablet and the bedside takes only its new label.

Before the browser starts, a cryopreserved bag (frozen a day ago) has reached the ward in liquid-nitrogen
vapour and is allocated to an arm-A subject whose infusion visit is today. Pages only, by keyboard as a
wedge scanner types: the nurse opens the thaw page from the ward, scans the bag, sees its new expiry and
downloads the new label; at the bedside the frozen label is stopped by name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.identifiers.scans import wristband_data
from tests.browser.conftest import login
from tests.browser.wedge import assert_scan_focus, done, scan, submit
from tests.factories import ward
from tests.factories.qc import db_session

pytestmark = pytest.mark.browser


def _frozen_bag_on_the_ward(app) -> dict[str, str]:
    with db_session(app) as session:
        subject = ward.subject(session, arm="A", weight_kg=70.0)
        frozen_at = datetime.now(UTC) - timedelta(days=1)
        bag = ward.bag(session, expires_at=frozen_at + timedelta(days=180))
        bag.preservation, bag.frozen_at, bag.frozen_expires_at = "cryopreserved", frozen_at, bag.expires_at
        session.add(bag)
        session.flush()
        for event, minutes, by in (("stored", 50, "lab"), ("dispatched", 40, "lab"), ("received_at_ward", 30, "nurse")):
            ward.hand_over(session, bag, event, by=by, minutes_ago=minutes, temperature_c=-170.0)
        visit = ward.infusion_visit(session, subject)
        ward.allocate(session, bag, visit, subject)
        return {"subject": subject.subject_code, "bag": bag.bag_code, "frozen_2d": ward.bag_2d(bag)}


def test_a_nurse_thaws_a_frozen_bag_by_scanning_it_and_the_bedside_stops_its_frozen_label(app, live_server, page):
    s = _frozen_bag_on_the_ward(app)
    login(page, "nurse")
    page.goto("/ward/")
    submit(page, page.locator("a.button", has_text="Thaw a frozen bag"))
    scan(page, s["frozen_2d"])
    assert f"Bag {s['bag']} thawed" in done(page)
    expiry = page.inner_text("[data-testid=thawed-expiry]")
    assert expiry and page.locator("a.button", has_text="New label (PDF)").count() == 1
    page.shots("bag-thawed-new-label")
    with page.expect_download() as download:
        page.locator("a.button", has_text="New label (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.goto("/ward/")
    submit(page, page.locator("a.button", has_text="Bedside check"))
    scan(page, wristband_data(s['subject']))
    scan(page, s["frozen_2d"])
    checks = page.locator("[data-testid=checks]")
    assert checks.locator("li[data-check=thaw_label_scanned]").get_attribute("data-ok") == "fail"
    assert "thaw_label_required" in checks.locator("li[data-check=thaw_label_scanned]").inner_text()
    assert page.locator("button", has_text="Start infusion").count() == 0
    assert_scan_focus(page)
    page.shots("frozen-label-stopped")
