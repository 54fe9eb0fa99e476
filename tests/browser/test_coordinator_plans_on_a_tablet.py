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
        row = page.locator("tr:has(form.plan)").nth(1)  # week 4
        form = row.locator("form.plan")
        day = row.locator("td").nth(3).inner_text()[:10]  # the window's first day, as the page writes it
        when = form.locator("input[name=planned_at]")
        # Chromium shows the time as the page writes it, never its locale's mm/dd/yyyy picker
        assert when.get_attribute("type") == "text" and when.get_attribute("placeholder") == "YYYY-MM-DD HH:MM"
        when.fill(f"{day} 15:30")
        assert when.input_value() == f"{day} 15:30" and when.evaluate("input => input.checkValidity()")
        form.locator("input[name=reason]").fill("clinic slot moved")
        form.locator("button").click()
        page.wait_for_selector("[role=status], .flash, [data-testid=visits]")
        assert f"{day} 15:30" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
