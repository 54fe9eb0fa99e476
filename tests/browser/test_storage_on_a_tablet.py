"""A lab technician at the tank, with a tablet and a wedge scanner: scan the bag, then the position label;
the box map opens with the bag in its place and the page never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.browser.wedge import scan
from tests.factories import storage
from tests.factories.lab import in_db
from tests.factories.ward import bag_2d

pytestmark = pytest.mark.browser


def test_lab_puts_a_bag_by_two_scans_and_sees_it_on_the_box_map(app, browser, live_server):
    with in_db(app) as session:
        storage.site(session, rows=9, columns=9)
        bag = storage.bag(session)
        code, scanned = bag.bag_code, bag_2d(bag)
    context = browser.new_context(base_url=live_server, viewport={"width": 768, "height": 1024})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, "lab")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto("/storage/")
        scan(page, scanned)
        assert "scan the position label, or the box label" in page.content()
        scan(page, "&cBX-0001-E5")
        assert page.url.endswith("/storage/boxes/BX-0001")
        cell = page.locator("td[data-position=E5]")
        assert code in cell.inner_text()
        assert page.locator("td.empty").count() == 80
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        box = page.locator(".box-scroll")  # a 9 x 9 box fits a tablet without scrolling inside either
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth")
        page.screenshot(path="test-artifacts/storage-box-map-tablet.png", full_page=True)
        page.goto("/storage/units/LN2-01")
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        page.screenshot(path="test-artifacts/storage-unit-tablet.png", full_page=True)
    finally:
        context.close()
