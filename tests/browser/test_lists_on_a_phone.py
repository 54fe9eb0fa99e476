"""On a 390 px wide phone the bag list shows one page without sideways scroll, and its "Next page" button,
keeping the filter, opens the rest."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, phone
from tests.factories import qc

pytestmark = pytest.mark.browser


def test_the_bag_list_pages_on_a_phone_without_sideways_scroll(app, browser, live_server):
    with qc.db_session(app) as session:
        for n in range(1, 4):
            qc.make_lot(session, n=n, bags=20)  # 60 bags in quarantine
    context, page = phone(browser, live_server)
    try:
        login(page, "lab")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto("/lab/bags?status=quarantine")
        assert page.locator("[data-testid=bag-list] tbody tr").count() == 50
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        following = page.locator("[data-testid=next-page]")
        box = following.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        following.click()
        page.wait_for_selector("[data-testid=first-page]")
        assert page.locator("[data-testid=bag-list] tbody tr").count() == 10
        assert "status=quarantine" in page.url
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    finally:
        context.close()
