"""What a keyboard-wedge scanner does in a browser, and what the journeys check after each scan.

A wedge scanner is a keyboard: it types the barcode's data into whatever has focus and presses Enter.
So a scan page works only if its scan box has focus when the page opens and again after each scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MIN_TOUCH_PX = 44  # WCAG 2.5.5 target size; a gloved hand at the bedside needs at least this

FOCUS_ON_SCAN_BOX = "() => document.activeElement !== null && document.activeElement.hasAttribute('data-scan')"


def scan(page, data: str) -> None:
    """Scan ``data`` as a wedge scanner does: keystrokes into the focused element, then Enter.

    Asserts first that the scan box has focus, as a scanner never clicks."""
    assert_scan_focus(page)
    page.keyboard.type(data)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def assert_scan_focus(page) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate(FOCUS_ON_SCAN_BOX), (
        f"the scan box of {page.url} does not have focus; a scan would be lost "
        f"(focus is on {page.evaluate('() => document.activeElement && document.activeElement.outerHTML')})")


def local_input(tz: ZoneInfo, *, days: float = 0, hours: float = 0) -> str:
    """A time as a person types it (``YYYY-MM-DD HH:MM``): the site's wall clock ``days``/``hours`` before now."""
    return (datetime.now(tz) - timedelta(days=days, hours=hours)).strftime("%Y-%m-%d %H:%M")


def submit(page, button) -> None:
    """Click a form's submit button and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def done(page) -> str:
    """The page's success message; fails with the refusal's words if the page shows one instead."""
    alerts = page.locator("[role=alert]")
    if alerts.count():
        raise AssertionError(f"{page.url} refused: {alerts.first.inner_text()}")
    return page.inner_text("[role=status]")
