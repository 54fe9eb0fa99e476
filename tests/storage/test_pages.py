"""Storage pages: scans put, move and take; the box map shows each position, empty ones visibly empty; a box,
position or rack label scanned at the scan station opens its place; "where is this" from a container's scan."""

from __future__ import annotations

import html
import io
import re

from tests.factories import storage
from tests.factories.lab import in_db
from tests.factories.queries import counting
from tests.factories.ward import bag_2d


def _bag(app):
    with in_db(app) as session:
        made = storage.bag(session)
        return made.bag_code, bag_2d(made)


def _cells(page: str) -> dict[str, str]:
    """Each position of the box map and the text shown in it."""
    found = re.findall(r'<td data-position="([A-Z][0-9]+)" class="([^"]*)"[^>]*>(.*?)</td>', page, re.S)
    return {name: (" ".join(re.sub(r"<[^>]+>", " ", text).split()), classes) for name, classes, text in found}


def test_the_box_map_shows_every_position_with_its_bag_linked_and_empty_ones_empty(app, client, auth):
    with in_db(app) as session:
        place = storage.site(session, rows=2, columns=3)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 2, 3)
        code = bag.bag_code
    auth.login("qa")
    page = client.get("/storage/boxes/BX-0001").get_data(as_text=True)
    cells = _cells(page)
    assert list(cells) == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert cells["B3"] == (code, "taken")
    assert all(text == "empty" and classes == "empty" for name, (text, classes) in cells.items() if name != "B3")
    assert f'href="/lab/bags/{code}"' in page


def test_a_lab_technician_puts_a_bag_by_scanning_it_then_the_box_label_and_the_position(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    code, scan = _bag(app)
    auth.login("lab")
    step = client.get("/storage/", query_string={"container": scan})
    assert step.status_code == 200 and "scan the position label, or the box label" in step.get_data(as_text=True)
    asked = auth.post("/storage/put", {"container": scan, "target": "&bBX-0001"}, follow_redirects=True)
    assert asked.status_code == 200 and "Position in box BX-0001" in asked.get_data(as_text=True)
    done = auth.post("/storage/put", {"container": scan, "target": "&bBX-0001", "position": "C2"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/storage/boxes/BX-0001")
    assert _cells(client.get("/storage/boxes/BX-0001").get_data(as_text=True))["C2"][0] == code


def test_a_position_label_scan_puts_and_a_taken_position_is_refused_on_the_page(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    (_, first), (_, second) = _bag(app), _bag(app)
    auth.login("lab")
    assert auth.post("/storage/put", {"container": first, "target": "&cBX-0001-A1"}).status_code == 303
    refused = auth.post("/storage/put", {"container": second, "target": "&cBX-0001-A1"})
    assert refused.status_code == 409
    assert 'data-reason="storage_position_taken"' in refused.get_data(as_text=True)


def test_moving_and_taking_out_through_the_pages(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    code, scan = _bag(app)
    auth.login("lab")
    auth.post("/storage/put", {"container": scan, "target": "&cBX-0001-A1"})
    assert auth.post("/storage/move", {"container": code, "target": "&cBX-0001-B2"}).status_code == 303
    assert auth.post("/storage/take", {"container": code, "reason": "to the ward"}).status_code == 303
    where = client.get("/storage/where", query_string={"scan": code}).get_data(as_text=True)
    assert "In no storage position" in where and "B2" in where and "A1" in where


def test_where_is_shows_unit_rack_box_and_position_from_a_bags_scan(app, client, auth):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 4)
        scan = bag_2d(bag)
    auth.login("auditor")
    page = client.get("/storage/where", query_string={"scan": scan}).get_data(as_text=True)
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))
    assert "In LN2-01 > R1 > BX-0001 > A4 since" in text


def test_box_position_and_rack_labels_open_their_place_from_the_scan_station(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    auth.login("qa")
    assert auth.post("/scan/", {"scan": "&bBX-0001"}).headers["Location"].endswith("/storage/boxes/BX-0001")
    opened = auth.post("/scan/", {"scan": "]C0&cBX-0001-B2\r"})
    assert opened.headers["Location"].endswith("/storage/positions/BX-0001-B2")
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-position="B2" class="empty selected"', page)
    assert auth.post("/scan/", {"scan": "&dR1"}).headers["Location"].endswith("/storage/locations/R1")


def test_the_scan_api_names_a_box_and_what_a_position_holds(app, api):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 1)
        code = bag.bag_code
    box = api.post("/api/v1/scans", as_="qa", json={"data": "&bBX-0001"}).get_json()["record"]
    assert (box["type"], box["key"], box["summary"]["taken"], box["api"]) == ("box", "BX-0001", 1,
                                                                              "/api/v1/storage/boxes/BX-0001")
    position = api.post("/api/v1/scans", as_="qa", json={"data": "&cBX-0001-A1"}).get_json()["record"]
    assert (position["type"], position["summary"]["item"]) == ("position", code)
    missing = api.post("/api/v1/scans", as_="qa", json={"data": "&bNO-SUCH-BOX"}).get_json()
    assert "record" not in missing and "no storage box" in missing["note"]


def test_a_logger_file_with_a_bad_line_is_refused_on_the_unit_page_naming_the_line(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    auth.login("lab")
    content = b"time,temperature_c\n2026-12-01T08:00:00Z,-180\n2026-12-01T08:05:00Z,\n"
    refused = auth.post("/storage/units/LN2-01/readings/import",
                        {"file": (io.BytesIO(content), "tank.csv")}, content_type="multipart/form-data")
    assert refused.status_code == 400 and "line 3" in refused.get_data(as_text=True)
    assert "No reading yet." in refused.get_data(as_text=True)
    ok = auth.post("/storage/units/LN2-01/readings/import",
                   {"file": (io.BytesIO(content.rsplit(b"\n", 2)[0] + b"\n"), "tank.csv")},
                   content_type="multipart/form-data")
    assert ok.status_code == 303


def test_the_box_map_and_where_is_cost_the_same_statements_however_many_bags_are_stored(app, client, auth):
    with in_db(app) as session:
        storage.site(session, rows=9, columns=9)
        storage.site(session, unit_code="LN2-02", rack_code="R2", box_code="BX-0002", rows=9, columns=9)
    scans = {}
    with in_db(app) as session:
        from cellchain.storage import places
        few, many = places.box_by_code(session, "BX-0001"), places.box_by_code(session, "BX-0002")
        alone = storage.bag(session)
        storage.put(session, alone, few, 1, 1)
        scans["BX-0001"] = bag_2d(alone)
        for number in range(40):
            stored = storage.bag(session)
            storage.put(session, stored, many, number // 9 + 1, number % 9 + 1)
        scans["BX-0002"] = bag_2d(stored)
    auth.login("lab")
    costs = {}
    for box in ("BX-0001", "BX-0002"):
        for page, query in ((f"/storage/boxes/{box}", {}), ("/storage/where", {"scan": scans[box]})):
            client.get(page, query_string=query)  # the same warm-up for both
            with counting(app) as seen:
                assert client.get(page, query_string=query).status_code == 200
            costs[box, page.split("/")[2]] = len(seen)
    assert costs["BX-0001", "boxes"] == costs["BX-0002", "boxes"]
    assert costs["BX-0001", "where"] == costs["BX-0002", "where"]


def test_where_is_with_a_box_label_opens_the_box_map(app, client, auth):
    with in_db(app) as session:
        storage.site(session)
    auth.login("lab")
    opened = client.get("/storage/where", query_string={"scan": "&bBX-0001"})
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/storage/boxes/BX-0001")


def test_changing_a_units_range_needs_a_reason_and_is_audited(app, client, auth, api):
    with in_db(app) as session:
        storage.site(session, kind="refrigerator", unit_code="FR-01", box_code="FR-BOX")
    auth.login("lab")
    refused = auth.post("/storage/units/FR-01", {"name": "Fridge", "low_c": "2", "high_c": "6", "reason": ""})
    assert refused.status_code == 400 and "reason" in refused.get_data(as_text=True)
    assert auth.post("/storage/units/FR-01", {"name": "Fridge", "low_c": "2", "high_c": "6",
                                              "reason": "validated to 6 °C"}).status_code == 303
    unit = api.get("/api/v1/storage/units/FR-01", as_="qa").get_json()["unit"]
    assert (unit["name"], unit["low_c"], unit["high_c"]) == ("Fridge", 2.0, 6.0)
