"""On a 390 px wide phone the bag page's code pictures fit inside their card, scaled down at most by half."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, phone
from tests.factories import labels
from tests.factories.lab import in_db

pytestmark = pytest.mark.browser


def test_bag_codes_fit_a_phone_screen(app, browser, live_server):
    with in_db(app) as session:
        bag = labels.bag(session, labels.lot(session))
        labels.allocate(session, bag, labels.subject(session))
        bag_code = bag.bag_code
    context, page = phone(browser, live_server)
    try:
        login(page, "lab")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto(f"/lab/bags/{bag_code}")
        card = page.locator("#codes").bounding_box()
        assert card["x"] >= 0 and card["x"] + card["width"] <= 390
        images = page.locator("[data-testid=code-pictures] img")
        assert images.count() == 3
        for n in range(3):
            image = images.nth(n)
            image.scroll_into_view_if_needed()
            box = image.bounding_box()
            assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            # Scaled down never below one screen pixel a module, so a scanner can still read it off the screen.
            assert image.evaluate("img => img.width / img.naturalWidth") >= 0.5
        captions = page.locator("[data-testid=code-pictures] figcaption")
        for n in range(3):
            box = captions.nth(n).bounding_box()
            assert box["x"] + box["width"] <= card["x"] + card["width"]
    finally:
        context.close()
