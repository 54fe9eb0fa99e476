"""Every list page, API list and summary sends as many SQL statements for 82 bags as for 2, and shows
no more than one page of rows (docs/rules.md, "Lists"; bench/bench_growth.py times the same pages at
100 and 10,000 lots).

Counted, not timed: a statement per row, or a page that loads every bag to show fifty, is caught here on
any machine.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from cellchain.manufacturing.models import Bag
from tests.factories import labels, qc, trial
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


# --- pages whose rows each read something more: read for the whole page at once -----------------------

def _page_rows(app, client, auth, user: str, url: str, row: str, grow) -> tuple[int, int]:
    """The page's statements and rows, before and after ``grow()`` adds rows; the statements must not change."""
    small, page = measure(app, client, auth, user, url)
    before = len(re.findall(row, page))
    grow()
    large, page = measure(app, client, auth, user, url)
    assert_same_count(small, large)
    return before, len(re.findall(row, page))


def test_the_qc_work_list_reads_as_many_statements_for_six_lots_as_for_one(app, client, auth):
    with qc.db_session(app) as session:
        qc.make_lot(session, n=1, bags=0, status="in_process")

    def grow() -> None:
        with qc.db_session(app) as session:
            for n in range(2, 7):
                lot = qc.make_lot(session, n=n, bags=0, status="in_process" if n % 2 else "awaiting_release")
                if n > 4:
                    qc.add_results(session, lot, skip=("sterility",))

    assert _page_rows(app, client, auth, "qc", "/qc/", r'<tr data-lot="', grow) == (1, 6)


def test_the_trial_home_reads_as_many_statements_for_four_subjects_as_for_one(app, client, auth, api):
    trial.randomized(api, day0=trial.site_today() - timedelta(days=27))

    def grow() -> None:
        for weeks in (0, 2, 5):
            trial.randomized(api, day0=trial.site_today() - timedelta(weeks=weeks))

    before, after = _page_rows(app, client, auth, "coordinator", "/trial/", r'<tr data-subject="', grow)
    assert (before, after) == (1, 4)


def test_the_labels_page_reads_as_many_statements_for_many_lots_labels_as_for_one(app, client, auth):
    made = labels.rows(app, lambda s: [labels.lot(s).lot_number for _ in range(3)])

    def print_for(lot: str, vessels: int) -> None:
        auth.login("lab")
        assert client.get(f"/labels/lots/{lot}/vessel-labels", query_string={"passage": 0, "vessels": vessels}
                          ).status_code == 200
        assert client.get(f"/labels/lots/{lot}/qc-tube-labels", query_string={"format": "zpl"}).status_code == 200
        auth.logout()

    print_for(made[0], 1)

    def grow() -> None:
        for lot in made[1:]:
            print_for(lot, 3)

    before, after = _page_rows(app, client, auth, "auditor", "/labels/", r'<tr data-label="', grow)
    assert 0 < before < after <= 50


def test_the_excursions_page_reads_as_many_statements_for_cords_and_bags_as_for_one_bag(app, client, auth):
    with qc.db_session(app) as session:
        lot = qc.make_lot(session, n=1, bags=4)
        made = list(session.exec(select(Bag).where(Bag.lot_id == lot.id)))
        qc.add_excursion(session, item_type="bag", item_id=made[0].id)
        cord = lot.collection_id

    def grow() -> None:
        with qc.db_session(app) as session:
            for bag in made[1:]:
                qc.add_excursion(session, item_type="bag", item_id=bag.id)
            qc.add_excursion(session, item_type="collection", item_id=cord)

    assert _page_rows(app, client, auth, "qa", "/reports/excursions", r'<tr data-excursion="', grow) == (1, 5)
