"""POST /scans answers what the API document says, whether or not the scan names a record here."""

from __future__ import annotations

from cellchain.core import db
from tests.factories import labels as make
from tests.factories.api_document import answer_problems
from tests.factories.label_reading import din_barcode


def test_a_scan_naming_a_record_and_one_naming_nothing_here_answer_as_documented(app, api, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    with app.app_context():
        session = db.session()
        bag = make.bags(session, make.lot(session), 1)[0]
        db.commit()
        bag_id = bag.bag_code
    found = api.post("/api/v1/scans", as_="lab", json={"data": bag_id})
    assert found.status_code == 200 and answer_problems(spec, "POST", "/scans", found) == []
    record = found.get_json()["record"]
    assert record["type"] == "bag" and record["key"] == bag_id and record["summary"]["expires_at"].endswith("Z")
    elsewhere = api.post("/api/v1/scans", as_="lab", json={"data": din_barcode("A999926999999")})
    assert elsewhere.status_code == 200 and answer_problems(spec, "POST", "/scans", elsewhere) == []
    assert "record" not in elsewhere.get_json() and elsewhere.get_json()["note"]


def test_a_scan_request_with_an_unknown_or_mistyped_field_is_refused_by_name(api):
    unknown = api.post("/api/v1/scans", as_="lab", json={"data": "=<D0001VA0", "station": "lab 1"})
    assert unknown.status_code == 400 and set(unknown.get_json()["fields"]) == {"station"}
    mistyped = api.post("/api/v1/scans", as_="lab", json={"data": 42})
    assert mistyped.status_code == 400 and set(mistyped.get_json()["fields"]) == {"data"}
