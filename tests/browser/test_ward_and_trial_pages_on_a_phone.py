"""Every page a nurse, a coordinator or an investigator reaches from their home page fits a 390 px wide
screen: the page never scrolls sideways, and no table scrolls sideways inside its card either (a table's
rows become cards of "heading: value" lines there). The site is the demo, in the middle of the trial, so
the pages hold real calendars, custody and reports.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from sqlmodel import select

from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.people.accounts import Policy
from cellchain.trial.models import Subject
from tests.browser.conftest import PHONE, login, phone
from tests.conftest import FAST_HASH

pytestmark = pytest.mark.browser
WIDTH = PHONE["width"]
HOPS = 2
SKIPPED = ("/api/", "/auth/logout", "format=", "/download", ".pdf", ".zpl", ".png", ".csv", ".json")

# Elements that scroll sideways inside the page (overflow auto or scroll, content wider than the box).
INNER_SCROLL = """() => Array.from(document.querySelectorAll('body *')).filter(e => {
  const overflow = getComputedStyle(e).overflowX;
  return (overflow === 'auto' || overflow === 'scroll') && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
}).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


@pytest.fixture
def demo_site(app):
    with app.app_context():
        demo.load(db.session(), policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
    return app


def _randomized_subject(app) -> str:
    with app.app_context():
        return db.session().exec(select(Subject.subject_code).where(Subject.subject_code.is_not(None))
                                 .order_by(Subject.id)).first()


def _links(page) -> list[str]:
    found = []
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
        if href.startswith("/") and not urlparse(href).netloc and not any(part in href for part in SKIPPED):
            found.append(href.split("#")[0])
    return found


def _walk(page, start: list[str]) -> dict[str, str]:
    """Every page within HOPS links of ``start``: what does not fit, by address."""
    hops, queue, misfits = {url: 0 for url in start}, list(start), {}
    while queue:
        url = queue.pop(0)
        if "text/html" not in (page.request.get(url).headers.get("content-type") or ""):
            continue  # a label or a document to download, not a page
        page.goto(url)
        width, inner = page.evaluate("document.documentElement.scrollWidth"), page.evaluate(INNER_SCROLL)
        if width > WIDTH or inner:
            misfits[url] = f"page {width} px wide, scrolling inside: {inner}"
        if hops[url] < HOPS:
            for link in _links(page):
                if link not in hops:
                    hops[link] = hops[url] + 1
                    queue.append(link)
    assert len(hops) > len(start), "the walk found no pages"
    return misfits


@pytest.mark.parametrize("role, start", [
    ("nurse", ["/", "/ward/", "/ward/bedside", "/handover/", "/scan/"]),
    ("coordinator", ["/", "/trial/"]),
    ("investigator", ["/", "/trial/"]),
])
def test_ward_and_trial_pages_fit_a_phone_without_sideways_scroll(demo_site, browser, live_server, role, start):
    context, page = phone(browser, live_server)
    try:
        login(page, role)
        page.wait_for_selector("[data-testid=current-user]")
        assert _walk(page, start) == {}
    finally:
        context.close()


def test_a_visit_calendar_row_reads_as_heading_and_value_on_a_phone(demo_site, browser, live_server):
    context, page = phone(browser, live_server)
    try:
        login(page, "coordinator")
        page.wait_for_selector("[data-testid=current-user]")
        page.goto(f"/trial/subjects/{_randomized_subject(demo_site)}")
        page.wait_for_selector("table.grid.stackable[data-testid=visits]")
        calendar = page.locator("table.grid.stackable[data-testid=visits]")
        cell = calendar.locator("tbody td[data-label]").first
        heading = calendar.locator("thead th").first.inner_text().strip()
        assert cell.get_attribute("data-label") == heading
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    finally:
        context.close()
