"""The audit trail a page at a time, newest first (docs/rules.md, "Lists"): the next page continues where
the first ended even when entries are written in between, its filters kept; the count of every entry comes
from the chain head."""

from __future__ import annotations

import html
import re

from cellchain.audit import trail
from cellchain.core import db


def write_entries(app, count: int, record_type: str = "lot") -> None:
    with app.app_context():
        session = db.session()
        for n in range(count):
            trail.record(session, actor=None, record_type=record_type, record_id=f"PAGE-{n}", action="noted")
        db.commit()


def numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-seq="(\d+)">', page)]


def test_the_next_page_of_the_trail_starts_after_the_last_entry_shown_even_as_entries_arrive(app, client, auth):
    write_entries(app, 70)
    auth.login("auditor")
    first = client.get("/audit/?record_type=lot&per_page=50").get_data(as_text=True)
    shown = numbers(first)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    assert "70 entries" in first
    write_entries(app, 5)  # written while the auditor reads page one
    following = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    assert "record_type=lot" in following and "per_page=50" in following
    rest = numbers(client.get(following).get_data(as_text=True))
    assert len(rest) == 20 and max(rest) < min(shown)


def test_link_names_that_url_for_takes_itself_do_not_break_a_list(app, client, auth):
    write_entries(app, 120)
    auth.login("auditor")
    for query in ("_external=1", "endpoint=home.index", "_method=POST&record_type=lot", "_anchor=x"):
        page = client.get(f"/audit/?{query}")
        assert page.status_code == 200, query
        following = re.search(r'rel="next" href="([^"]+)"', page.get_data(as_text=True)).group(1)
        assert following.startswith("/audit/?") and "_external" not in following
        assert client.get(html.unescape(following)).status_code == 200, query

