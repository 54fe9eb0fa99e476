"""One search box: a scan opens its record; the start of a code lists subjects, lots, bags, cords, banks, vials."""

from __future__ import annotations

from tests.factories import ward as w
from tests.factories.qc import db_session
from tests.factories.queries import counting


def _made(app):
    with db_session(app) as session:
        bag = w.bag(session)
        person = w.subject(session)
        return bag.bag_code, bag.din, person.subject_code, person.screening_number


def test_lab_finds_a_bag_and_its_lot_by_the_start_of_the_din(app, client, auth):
    bag, din, _, _ = _made(app)
    auth.login("lab")
    page = client.get(f"/scan/search?q={din[:10]}").get_data(as_text=True)
    assert f'data-hit="bag:{bag}"' in page and f'data-hit="lot:{din}"' in page
    assert f'data-hit="collection:{din}"' in page
    assert f'href="/lab/bags/{bag}"' in page and f'href="/lab/lots/{din}"' in page


def test_a_scanned_bag_opens_its_page(app, client, auth):
    bag, _, _, _ = _made(app)
    auth.login("lab")
    opened = client.get(f"/scan/search?q={bag}")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/lab/bags/{bag}")


def test_coordinator_finds_a_subject_by_screening_number_in_any_case(app, client, auth):
    _, _, subject, screening = _made(app)
    auth.login("coordinator")
    page = client.get(f"/scan/search?q={screening[:6].lower()}").get_data(as_text=True)
    assert f'data-hit="subject:{subject}"' in page and f'href="/trial/subjects/{subject}"' in page


def test_a_hit_the_role_cannot_open_is_shown_without_a_link(app, client, auth):
    _, _, subject, _ = _made(app)
    auth.login("lab")
    page = client.get(f"/scan/search?q={subject}").get_data(as_text=True)
    assert f'data-hit="subject:{subject}"' in page and f'href="/trial/subjects/{subject}"' not in page
    assert "its page is not one your role opens" in page


def test_wildcards_are_searched_as_typed_and_too_little_text_is_refused(app, client, auth):
    _made(app)
    auth.login("qa")
    assert b'data-testid="nothing-found"' in client.get("/scan/search?q=%25%25").data
    short = client.get("/scan/search?q=A")
    assert short.status_code == 400 and b"<strong>q</strong>" in short.data


def test_a_search_costs_the_same_few_statements_however_many_records(app, client, auth):
    with db_session(app) as session:
        lot = w.released_lot(session)
        for n in range(15):
            w.bag(session, lot=lot, division=f"{chr(65 + n)}0")
        din = lot.din
    auth.login("lab")
    with counting(app) as statements:
        page = client.get(f"/scan/search?q={din[:8]}").get_data(as_text=True)
    assert page.count('data-hit="bag:') == 10  # bounded per kind
    assert len([s for s in statements if "bags.bag_code LIKE" in s]) == 1


def test_the_search_api_answers_hits_with_their_api_paths(app, client, api):
    bag, din, _, _ = _made(app)
    answer = api.get(f"/api/v1/search?q={din}", as_="nurse")
    assert answer.status_code == 200
    body = answer.get_json()
    assert {(h["type"], h["key"]) for h in body["hits"]} >= {("bag", bag), ("lot", din)}
    assert any(h["api"] == f"/api/v1/bags/{bag}" for h in body["hits"])
    assert api.get("/api/v1/search?q=x", as_="nurse").status_code == 400
    assert api.get(f"/api/v1/search?q={din}", as_="admin").status_code == 403
