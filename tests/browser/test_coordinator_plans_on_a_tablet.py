"""A coordinator on a 390 px wide screen moves a subject's infusion; the page never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.factories.trial import randomized

pytestmark = pytest.mark.browser


def test_coordinator_moves_an_infusion_on_a_phone_width_screen(api, browser, live_server):
    subject = randomized(api)["subject_id"]
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, "coordinator")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto(f"/trial/subjects/{subject}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        form = page.locator("form.plan").nth(1)  # week 4
        day = form.locator("input[name=planned_at]").get_attribute("min")[:10]
        form.locator("input[name=planned_at]").fill(f"{day}T15:30")
        form.locator("input[name=reason]").fill("clinic slot moved")
        form.locator("button").click()
        page.wait_for_selector("[role=status], .flash, [data-testid=visits]")
        assert f"{day} 15:30" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
