"""Every list page, API list and summary sends as many SQL statements for 82 bags as for 2, and shows
no more than one page of rows (docs/rules.md, "Lists"; bench/bench_growth.py times the same pages at
100 and 10,000 lots).

Counted, not timed: a statement per row, or a page that loads every bag to show fifty, is caught here on
any machine.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from cellchain.manufacturing.models import Bag
from tests.factories import qc
from tests.factories.queries import counting
from tests.ward.test_query_counts import assert_same_count

PAGES = (("lab", "/lab/bags", r'<tr data-bag="'), ("auditor", "/lab/bags?status=at_lab", r'<tr data-bag="'),
         ("lab", "/lab/", r'<tr data-bag="'), ("lab", "/", r'<li data-bag="'),
         ("qa", "/reports/accountability", None), ("qa", "/qa/deviations", None),
         ("qa", "/reports/excursions", None))


def measure(app, client, auth, user: str, url: str) -> tuple[list[str], str]:
    auth.login(user)
    client.get(url)  # once first: the login's own first-request work is not the page's
    with counting(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    auth.logout()
    return seen, response.get_data(as_text=True)


@pytest.mark.parametrize(("user", "url", "row"), PAGES)
def test_a_list_page_reads_as_many_statements_for_82_bags_as_for_2(app, client, auth, user, url, row):
    with qc.db_session(app) as session:
        qc.make_lot(session, n=1, bags=2, status="in_process")
    small, _ = measure(app, client, auth, user, url)
    with qc.db_session(app) as session:
        for n in range(2, 6):
            qc.make_lot(session, n=n, bags=20, status="in_process")
        for bag in session.exec(select(Bag)):
            bag.quality_status = "quarantine"
            session.add(bag)
    large, page = measure(app, client, auth, user, url)
    assert_same_count(small, large)
    if row:
        assert 0 < len(re.findall(row, page)) <= 50


def test_the_bag_api_reads_as_many_statements_for_82_bags_as_for_2(app, api):
    with qc.db_session(app) as session:
        qc.make_lot(session, n=1, bags=2)
    api.get("/api/v1/bags", as_="qa")
    with counting(app) as small:
        api.get("/api/v1/bags", as_="qa")
    with qc.db_session(app) as session:
        for n in range(2, 6):
            qc.make_lot(session, n=n, bags=20)
    with counting(app) as large:
        body = api.get("/api/v1/bags", as_="qa").get_json()
    assert_same_count(small, large)
    assert len(body["bags"]) == 50 and body["next"]
