"""The bag list a page at a time: /lab/bags and GET /api/v1/bags (docs/rules.md, "Lists").

With more bags than fit a page, the page shows one page and a link to the next (its filters kept); the
API's ``limit`` and ``next`` walk every bag exactly once, in order, even while bags are filled between two
pages; a cursor the site did not give, or gave for other filters, is a 400 naming ``cursor``.
"""

from __future__ import annotations

import html
import re

from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Bag
from tests.factories import qc

PAGE_SIZE = 50


def fill_lots(app, first: int, lots: int, bags_per_lot: int = 20) -> None:
    with qc.db_session(app) as session:
        for n in range(first, first + lots):
            qc.make_lot(session, n=n, bags=bags_per_lot)


def bag_codes(app) -> list[str]:
    with app.app_context():
        return list(db.session().exec(select(Bag.bag_code).order_by(Bag.id)))


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-bag="([^"]+)"', page)


def next_link(page: str) -> str | None:
    found = re.search(r'<a class="button primary" rel="next" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def test_the_bag_list_shows_one_page_of_fifty_and_a_link_to_the_rest(app, client, auth):
    fill_lots(app, 1, 3)  # 60 bags
    everything = bag_codes(app)
    auth.login("qa")
    first = client.get("/lab/bags").get_data(as_text=True)
    assert rows_of(first) == everything[:PAGE_SIZE]
    following = next_link(first)
    assert following is not None and "cursor=" in following
    second = client.get(following).get_data(as_text=True)
    assert rows_of(second) == everything[PAGE_SIZE:]
    assert next_link(second) is None
    assert 'data-testid="first-page"' in second


def test_the_next_page_keeps_the_filters_and_the_page_size(app, client, auth):
    fill_lots(app, 1, 3)
    lot = bag_codes(app)[0].split("-")[0]
    auth.login("lab")
    first = client.get(f"/lab/bags?lot_id={lot}&per_page=8").get_data(as_text=True)
    assert len(rows_of(first)) == 8
    following = next_link(first)
    assert f"lot_id={lot}" in following and "per_page=8" in following
    rest = rows_of(client.get(following).get_data(as_text=True))
    assert len(rest) == 8 and all(code.startswith(lot) for code in rest)


def test_a_page_size_above_two_hundred_shows_two_hundred(app, client, auth):
    fill_lots(app, 1, 11)  # 220 bags
    auth.login("lab")
    assert len(rows_of(client.get("/lab/bags?per_page=5000").get_data(as_text=True))) == 200


def test_api_limit_and_next_walk_every_bag_once_in_order_while_bags_are_filled(app, api):
    fill_lots(app, 1, 2)  # 40 bags
    seen, url, filled = [], "/api/v1/bags?limit=7", False
    while url:
        answer = api.get(url, as_="qa")
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert len(body["bags"]) <= 7
        seen += [b["bag_id"] for b in body["bags"]]
        if not filled:  # the lab fills 40 more bags between the first and the second page
            fill_lots(app, 3, 2)
            filled = True
        url = f"/api/v1/bags?limit=7&cursor={body['next']}" if body["next"] else None
    assert seen == bag_codes(app)
    assert len(seen) == len(set(seen)) == 80


def test_api_bags_answer_fifty_by_default_with_a_next_cursor(app, api):
    fill_lots(app, 1, 3)
    body = api.get("/api/v1/bags", as_="lab").get_json()
    assert len(body["bags"]) == PAGE_SIZE and isinstance(body["next"], str)
    last = api.get(f"/api/v1/bags?cursor={body['next']}", as_="lab").get_json()
    assert len(last["bags"]) == 10 and last["next"] is None


def test_a_forged_cursor_is_refused_naming_the_cursor(app, api):
    fill_lots(app, 1, 3)
    real = api.get("/api/v1/bags?limit=5", as_="lab").get_json()["next"]
    payload, _, signature = real.rpartition(".")
    for forged in ("not-a-cursor", payload + ".AAAA" + signature[4:], "eyJzIjoiYXBpLmxpc3RfYmFncyJ9.x"):
        answer = api.get(f"/api/v1/bags?cursor={forged}", as_="lab")
        assert answer.status_code == 400, forged
        assert "cursor" in answer.get_json()["fields"]


def test_a_cursor_from_other_filters_is_refused(app, api, client, auth):
    fill_lots(app, 1, 3)
    real = api.get("/api/v1/bags?limit=5", as_="lab").get_json()["next"]
    answer = api.get(f"/api/v1/bags?status=released&cursor={real}", as_="lab")
    assert answer.status_code == 400 and "cursor" in answer.get_json()["fields"]
    auth.login("lab")
    assert client.get(f"/lab/bags?cursor={real}").status_code == 400  # another list's cursor


def test_an_api_limit_outside_one_to_two_hundred_is_refused_naming_it(app, api):
    for limit in ("0", "201", "ten"):
        answer = api.get(f"/api/v1/bags?limit={limit}", as_="lab")
        assert answer.status_code == 400 and "limit" in answer.get_json()["fields"], limit
