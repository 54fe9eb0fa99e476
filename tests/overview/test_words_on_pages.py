"""Pages speak words: no stored code (``at_lab``, ``ucmsc``, ``right_subject``) in the text people read.

The demo's data is loaded and every page reachable by links from the home page is read as each role reads
it; the visible text (not attributes, scripts or styles) must hold no ``snake_case`` code.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.people.accounts import Policy
from tests.conftest import FAST_HASH

CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Not pages people work in, files, or what changes state when opened.
SKIP = re.compile(r"\.(pdf|csv|svg|zpl|json)$|^/api|^/auth/logout|^/api-docs|^/static/")
# Identifiers a person types as they are: the logger file's header (storage unit page).
ALLOWED = frozenset({"temperature_c"})
PAGES_PER_ROLE = 70


class _Text(HTMLParser):
    """Visible text and same-site links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []  # the open elements whose text nobody reads as a sentence

    def handle_starttag(self, tag, attrs):
        # data-stored: values exactly as the record stores them (the audit trail's old and new values)
        if self._hidden or tag in ("script", "style", "template") or "data-stored" in dict(attrs):
            self._hidden.append(tag)
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def _read(client, path: str) -> _Text | None:
    response = client.get(path)
    if response.status_code != 200 or not response.content_type.startswith("text/html"):
        return None
    page = _Text()
    page.feed(response.get_data(as_text=True))
    return page


def _crawl(client) -> dict[str, set[str]]:
    """Each page's raw codes, over pages reached by links from the home page (one of each link shape)."""
    seen_shapes, queue, found = set(), ["/"], {}
    while queue and len(found) < PAGES_PER_ROLE:
        path = queue.pop(0)
        page = _read(client, path)
        if page is None:
            continue
        codes = set(CODE.findall(" ".join(page.text))) - ALLOWED
        found[path] = codes
        for href in page.links:
            url = urlparse(urljoin("http://localhost" + path, href))
            if url.netloc != "localhost" or SKIP.search(url.path):
                continue
            shape = re.sub(r"[A-Z0-9][A-Za-z0-9-]*\d[A-Za-z0-9-]*|\d+", "#", url.path)
            if shape not in seen_shapes:
                seen_shapes.add(shape)
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def test_no_page_shows_a_raw_code_to_the_people_who_work_in_it(app, client, auth):
    with app.app_context():
        demo.load(db.session(), policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
    raw = {}
    for role in ("lab", "qc", "qa", "coordinator", "nurse", "investigator", "auditor", "admin"):
        auth.login(role)
        pages = _crawl(client)
        assert len(pages) > 3, role
        print(role, len(pages), sorted(pages))
        raw.update({f"{role} {path}": sorted(codes) for path, codes in pages.items() if codes})
        auth.logout()
    assert raw == {}
