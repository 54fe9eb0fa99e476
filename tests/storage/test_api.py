"""Storage through the API: set up a unit, rack and box, put, move, take, the box map, where-is, readings;
every answer as the OpenAPI document describes it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cellchain.core.types import utcnow
from tests.factories import banking, storage
from tests.factories.api_document import answer_problems
from tests.factories.lab import in_db, make_collection
from tests.factories.label_reading import scan_pages, zpl_symbols
from tests.factories.ward import bag_2d

P = "/api/v1/storage"


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _checked(spec, method: str, path: str, response, status: int):
    assert response.status_code == status, response.get_json()
    assert answer_problems(spec, method, path, response) == []
    return response.get_json()


def _bag(app):
    with in_db(app) as session:
        made = storage.bag(session)
        return made.bag_code, bag_2d(made)


def test_the_lab_sets_up_a_unit_rack_and_box_and_reads_the_empty_map(app, api, spec):
    unit = _checked(spec, "POST", "/storage/units",
                    api.post(f"{P}/units", as_="lab", json={"code": "ln2-02", "name": "Tank 2", "kind": "ln2_vapour"}),
                    201)["unit"]
    assert (unit["code"], unit["low_c"], unit["high_c"]) == ("LN2-02", -196.0, -150.0)
    _checked(spec, "POST", "/storage/units/{unit_code}/locations",
             api.post(f"{P}/units/LN2-02/locations", as_="lab", json={"code": "R2", "kind": "rack"}), 201)
    box = _checked(spec, "POST", "/storage/locations/{location_code}/boxes",
                   api.post(f"{P}/locations/R2/boxes", as_="lab", json={"code": "BX-9", "rows": 2, "columns": 3}),
                   201)["box"]
    assert [[c["position"] for c in line] for line in box["grid"]] == [["A1", "A2", "A3"], ["B1", "B2", "B3"]]
    assert all(c["item"] is None for line in box["grid"] for c in line) and box["taken"] == 0
    shown = _checked(spec, "GET", "/storage/units/{unit_code}", api.get(f"{P}/units/LN2-02", as_="qa"), 200)
    assert shown["unit"]["locations"][0]["boxes"] == [{"code": "BX-9", "name": "BX-9", "rows": 2, "columns": 3,
                                                       "taken": 0}]


def test_a_unit_with_a_bad_code_and_range_is_refused_naming_each_field(api):
    answer = api.post(f"{P}/units", as_="lab", json={"code": "tank one", "name": "", "kind": "room",
                                                     "low_c": 30, "high_c": 10})
    assert answer.status_code == 400
    assert set(answer.get_json()["fields"]) == {"code", "name", "high_c"}


def test_put_move_take_round_trip_through_the_api(app, api, spec):
    with in_db(app) as session:
        storage.site(session)
    code, scan = _bag(app)
    put = _checked(spec, "POST", "/storage/put",
                   api.post(f"{P}/put", as_="lab", json={"container": scan, "target": "&bBX-0001", "position": "b2"}),
                   201)
    assert (put["item"], put["custody_state"], put["placement"]["position"]) == (code, "in_storage", "B2")
    moved = _checked(spec, "POST", "/storage/move",
                     api.post(f"{P}/move", as_="lab", json={"container": code, "target": "&cBX-0001-C4"}), 201)
    assert moved["placement"]["position"] == "C4"
    box = _checked(spec, "GET", "/storage/boxes/{box_code}", api.get(f"{P}/boxes/BX-0001", as_="auditor"), 200)["box"]
    assert box["grid"][2][3]["item"] == code and box["grid"][1][1]["item"] is None
    where = _checked(spec, "GET", "/storage/where-is", api.get(f"{P}/where-is?container={code}", as_="qa"), 200)
    assert (where["now"]["unit"], where["now"]["location"], where["now"]["box"], where["now"]["position"]) == (
        "LN2-01", "R1", "BX-0001", "C4")
    assert [h["position"] for h in where["history"]] == ["C4", "B2"]
    position = _checked(spec, "GET", "/storage/positions/{position_code}",
                        api.get(f"{P}/positions/BX-0001-C4", as_="lab"), 200)
    assert position["item"] == code
    taken = _checked(spec, "POST", "/storage/take", api.post(f"{P}/take", as_="lab", json={"container": code}), 200)
    assert taken["custody_state"] == "at_lab" and taken["placement"]["taken_at"]
    custody = api.get(f"/api/v1/bags/{code}/custody", as_="qa").get_json()
    assert [e["event"] for e in custody["events"]] == ["filled", "stored", "moved", "taken"]
    assert custody["unbroken"] is True


def test_putting_into_a_taken_position_is_a_409_naming_the_rule(app, api):
    with in_db(app) as session:
        storage.site(session)
    first, second = _bag(app)[0], _bag(app)[0]
    assert api.post(f"{P}/put", as_="lab", json={"container": first, "target": "&cBX-0001-A1"}).status_code == 201
    refused = api.post(f"{P}/put", as_="lab", json={"container": second, "target": "&cBX-0001-A1"})
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["storage_position_taken"]


def test_a_box_label_without_a_position_asks_for_the_position(app, api):
    with in_db(app) as session:
        storage.site(session)
    answer = api.post(f"{P}/put", as_="lab", json={"container": _bag(app)[0], "target": "&bBX-0001"})
    assert answer.status_code == 400 and "position" in answer.get_json()["fields"]


def test_a_bank_vial_is_put_by_its_label_or_by_its_kind_and_id(app, api, spec):
    with in_db(app) as session:
        storage.site(session)
        bank = banking.make_bank(session, banking.bank_lot(session, make_collection(session)))
        first, second = banking.first_vial(session, bank), banking.first_vial(session, bank, 2)
        first_id, first_code, second_code = first.id, first.vial_code, second.vial_code
    put = _checked(spec, "POST", "/storage/put", api.post(f"{P}/put", as_="lab", json={
        "item_type": "vial", "item_id": first_id, "target": "&cBX-0001-A3"}), 201)
    assert (put["item_type"], put["item"], put["placement"]["position"]) == ("vial", first_code, "A3")
    scanned = _checked(spec, "POST", "/storage/put", api.post(f"{P}/put", as_="lab", json={
        "container": f"&a{second_code}", "target": "&cBX-0001-A4"}), 201)
    assert (scanned["item"], scanned["placement"]["position"]) == (second_code, "A4")


def test_readings_entered_and_imported_open_excursions_that_qa_then_decides(app, api, spec):
    with in_db(app) as session:
        storage.site(session)
    code, scan = _bag(app)
    api.post(f"{P}/put", as_="lab", json={"container": scan, "target": "&cBX-0001-A1"})
    entered = _checked(spec, "POST", "/storage/units/{unit_code}/readings",
                       api.post(f"{P}/units/LN2-01/readings", as_="lab", json={"temperature_c": -120}), 201)
    assert entered["out_of_range"] == 1 and len(entered["excursions"]) == 1
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    imported = _checked(spec, "POST", "/storage/units/{unit_code}/readings/import",
                        api.post(f"{P}/units/LN2-01/readings/import", as_="lab", json={
                            "file_name": "tank.csv", "content": f"time,temperature_c\n{later},-185\n"}), 201)
    assert imported == {"readings": 1, "out_of_range": 0, "excursions": []}
    bad = api.post(f"{P}/units/LN2-01/readings/import", as_="lab", json={
        "file_name": "tank.csv", "content": "time,temperature_c\n2026-12-01T00:00:00Z,cold\n"})
    assert bad.status_code == 400 and list(bad.get_json()["fields"]) == ["line 2"]
    listed = _checked(spec, "GET", "/storage/units/{unit_code}/readings",
                      api.get(f"{P}/units/LN2-01/readings", as_="auditor"), 200)["readings"]
    assert [r["excursion"] for r in listed] == [False, True]
    excursions = api.get("/api/v1/excursions?status=open", as_="qa").get_json()["excursions"]
    assert [(x["item_id"], x["custody_event_id"], x["storage_reading_id"] is not None) for x in excursions] == [
        (code, None, True)]
    from tests.conftest import signature
    decided = api.post(f"/api/v1/excursions/{entered['excursions'][0]}/decide", as_="qa", json={
        "accept": True, "reason": "vapour phase rose for 4 min during a lid opening", "signature":
        signature("qa", "accepted")})
    assert decided.status_code == 200 and decided.get_json()["excursion"]["status"] == "accepted"


def test_box_and_position_labels_scan_back_as_their_local_structures(app, api):
    with in_db(app) as session:
        storage.site(session, rows=1, columns=2)
    answer = api.get(f"{P}/boxes/BX-0001/labels.pdf", as_="lab")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pages = scan_pages(answer.data)
    assert pages == [[("Code128", "&bBX-0001"), ("DataMatrix", "&bBX-0001")],
                     [("Code128", "&cBX-0001-A1"), ("DataMatrix", "&cBX-0001-A1")],
                     [("Code128", "&cBX-0001-A2"), ("DataMatrix", "&cBX-0001-A2")]]
    rack = scan_pages(api.get(f"{P}/locations/R1/label.pdf", as_="qa").data)
    assert rack == [[("Code128", "&dR1"), ("DataMatrix", "&dR1")]]


def test_storage_labels_for_a_label_printer_carry_the_same_codes(app, api):
    with in_db(app) as session:
        storage.site(session, rows=1, columns=1)
    answer = api.get(f"{P}/boxes/BX-0001/labels.zpl", as_="lab")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert [sorted(page) for page in zpl_symbols(answer.get_data(as_text=True))] == [
        [("Code128", "&bBX-0001"), ("DataMatrix", "&bBX-0001")],
        [("Code128", "&cBX-0001-A1"), ("DataMatrix", "&cBX-0001-A1")]]
    position = zpl_symbols(api.get(f"{P}/positions/BX-0001-A1/label.zpl", as_="qa").get_data(as_text=True))
    assert sorted(position[0]) == [("Code128", "&cBX-0001-A1"), ("DataMatrix", "&cBX-0001-A1")]
    rack = zpl_symbols(api.get(f"{P}/locations/R1/label.zpl", as_="lab").get_data(as_text=True))
    assert sorted(rack[0]) == [("Code128", "&dR1"), ("DataMatrix", "&dR1")]


def test_a_box_with_a_long_code_prints_its_labels_and_leaves_out_a_linear_code_that_would_not_fit(app, api):
    with in_db(app) as session:
        storage.site(session, box_code="VIABILITY-BOX-12", rows=1, columns=1)
    zpl = api.get(f"{P}/boxes/VIABILITY-BOX-12/labels.zpl", as_="lab")
    pdf = api.get(f"{P}/boxes/VIABILITY-BOX-12/labels.pdf", as_="lab")
    assert zpl.status_code == 200 and pdf.status_code == 200
    for labels in (zpl_symbols(zpl.get_data(as_text=True)), scan_pages(pdf.data)):
        for page, code in zip(labels, ("&bVIABILITY-BOX-12", "&cVIABILITY-BOX-12-A1"), strict=True):
            assert ("DataMatrix", code) in page  # the 2D code always carries the place
            assert {data for kind, data in page if kind == "Code128"} <= {code}  # a linear code only whole


def test_racks_and_boxes_are_renamed_with_a_reason_and_keep_their_codes(app, api, spec):
    with in_db(app) as session:
        storage.site(session)
    refused = api.post(f"{P}/boxes/BX-0001", as_="lab", json={"name": "Cord blood", "reason": " "})
    assert refused.status_code == 400 and list(refused.get_json()["fields"]) == ["reason"]
    box = _checked(spec, "POST", "/storage/boxes/{box_code}", api.post(f"{P}/boxes/BX-0001", as_="lab", json={
        "name": "Placebo bags", "reason": "box now holds placebo only"}), 200)["box"]
    assert (box["code"], box["name"]) == ("BX-0001", "Placebo bags")
    rack = _checked(spec, "POST", "/storage/locations/{location_code}", api.post(f"{P}/locations/R1", as_="lab", json={
        "name": "Top rack", "reason": "racks renumbered"}), 200)["location"]
    assert (rack["code"], rack["name"], rack["boxes"][0]["name"]) == ("R1", "Top rack", "Placebo bags")
