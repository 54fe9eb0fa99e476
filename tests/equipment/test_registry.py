"""The instrument registry: registering, recording a calibration or maintenance, taking an instrument out of
service and QA's signed return; each audited; storage units are instruments of the registry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tests.conftest import PASSWORD, signature
from tests.factories.equipment import make_instrument, today
from tests.factories.lab import in_db


def _audit_actions(app, record_type: str = "instrument") -> list[str]:
    with in_db(app) as session:
        rows = session.execute(text("SELECT action FROM audit_entries WHERE record_type = :t ORDER BY seq"),
                               {"t": record_type}).all()
    return [r[0] for r in rows]


def test_the_lab_registers_an_instrument_on_the_page_and_sees_its_due_dates(app, auth, client):
    auth.login("lab")
    due = (today() + timedelta(days=20)).isoformat()
    response = auth.post("/equipment/", {"code": "cf-01", "name": "Centrifuge 1", "kind": "centrifuge",
                                         "place": "cleanroom B", "calibration_due": due, "maintenance_due": ""})
    assert response.status_code == 303 and response.location.endswith("/equipment/CF-01")
    page = client.get("/equipment/CF-01").get_data(as_text=True)
    assert due in page and "Centrifuge 1" in page
    index = client.get("/equipment/").get_data(as_text=True)
    assert 'data-instrument="CF-01" data-service="calibration"' in index  # due within 30 days
    assert _audit_actions(app) == ["register"]


def test_a_registration_with_a_bad_date_names_the_field_and_writes_nothing(app, auth, client):
    auth.login("lab")
    response = auth.post("/equipment/", {"code": "CF-02", "name": "Centrifuge 2", "kind": "centrifuge",
                                         "place": "cleanroom B", "calibration_due": "31/12/2027"})
    assert response.status_code == 400 and "calibration_due" in response.get_data(as_text=True)
    assert client.get("/equipment/CF-02").status_code == 404


def test_a_calibration_moves_the_due_date_and_is_audited(app, api):
    with in_db(app) as session:
        make_instrument(session, "CF-01", calibration_in_days=-2)
    done = today().isoformat()
    response = api.post("/api/v1/instruments/CF-01/calibrations", as_="lab", json={
        "done_on": done, "next_due": (today() + timedelta(days=365)).isoformat(), "done_by": "Metrology Ltd",
        "certificate_ref": "CAL-2026-118"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["instrument"]["calibration_due"] == (today() + timedelta(days=365)).isoformat()
    assert [e["kind"] for e in body["history"]] == ["register", "register", "calibration"]
    assert api.get("/api/v1/instruments/due", as_="qa").get_json()["due"] == []
    assert _audit_actions(app) == ["register", "calibration"]


def test_a_calibration_without_its_certificate_or_due_before_it_was_done_is_refused(app, api):
    with in_db(app) as session:
        make_instrument(session, "CF-01")
    response = api.post("/api/v1/instruments/CF-01/calibrations", as_="lab", json={
        "done_on": today().isoformat(), "next_due": today().isoformat(), "done_by": "Metrology Ltd"})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"certificate_ref", "next_due"}


def test_only_qa_returns_an_instrument_to_service_and_by_signature(app, api):
    with in_db(app) as session:
        make_instrument(session, "INC-01", kind="incubator")
    out = api.post("/api/v1/instruments/INC-01/out-of-service", as_="lab", json={"reason": "CO2 alarm"})
    assert out.status_code == 200 and out.get_json()["instrument"]["status"] == "out_of_service"
    body = {"reason": "CO2 sensor replaced and checked", "signature": signature("lab", "approved")}
    assert api.post("/api/v1/instruments/INC-01/return-to-service", as_="lab", json=body).status_code == 403
    wrong = {**body, "signature": signature("qa", "approved", password=PASSWORD + "x")}
    assert api.post("/api/v1/instruments/INC-01/return-to-service", as_="qa", json=wrong).status_code == 401
    back = api.post("/api/v1/instruments/INC-01/return-to-service", as_="qa",
                    json={**body, "signature": signature("qa", "approved")})
    assert back.status_code == 200 and back.get_json()["instrument"]["status"] == "in_service"
    assert back.get_json()["history"][-1]["signature_id"] is not None
    assert _audit_actions(app)[-2:] == ["out_of_service", "return_to_service"]


def test_qa_returns_an_instrument_on_its_page(app, auth, client, api):
    with in_db(app) as session:
        make_instrument(session, "INC-01", kind="incubator")
    api.post("/api/v1/instruments/INC-01/out-of-service", as_="lab", json={"reason": "door seal"})
    auth.login("qa")
    assert "Sign and return to service" in client.get("/equipment/INC-01").get_data(as_text=True)
    response = auth.post("/equipment/INC-01/return-to-service", {
        "reason": "seal replaced", "signature_username": "qa", "signature_password": PASSWORD,
        "signature_meaning": "approved"})
    assert response.status_code == 303
    assert "in service" in client.get("/equipment/INC-01").get_data(as_text=True)


def test_a_storage_unit_set_up_in_storage_is_an_instrument_of_the_registry(app, api):
    response = api.post("/api/v1/storage/units", as_="lab", json={"code": "LN2-01", "name": "LN2 tank 1",
                                                                 "kind": "ln2_vapour"})
    assert response.status_code == 201, response.get_json()
    found = api.get("/api/v1/instruments/LN2-01", as_="qa").get_json()["instrument"]
    assert found["kind"] == "storage_unit" and found["name"] == "LN2 tank 1" and found["status"] == "in_service"


def test_a_storage_unit_renamed_in_storage_carries_its_new_name_in_the_registry(app, api):
    api.post("/api/v1/storage/units", as_="lab", json={"code": "LN2-01", "name": "LN2 tank 1", "kind": "ln2_vapour"})
    renamed = api.post("/api/v1/storage/units/LN2-01", as_="lab", json={"name": "Bank tank A", "reason": "new room"})
    assert renamed.status_code == 200, renamed.get_json()
    assert api.get("/api/v1/instruments/LN2-01", as_="qa").get_json()["instrument"]["name"] == "Bank tank A"


def test_the_openapi_document_describes_the_registry_and_each_steps_instruments(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"/instruments", "/instruments/due", "/instruments/{instrument_code}/calibrations",
            "/instruments/{instrument_code}/return-to-service"} <= set(paths)
    schemas = document["components"]["schemas"]
    fill = next(s for name, s in schemas.items() if name in ("FillIn", "Fill"))
    assert "instruments" in fill["properties"]


def test_an_instrument_already_out_of_service_cannot_be_taken_out_again(app, api):
    with in_db(app) as session:
        make_instrument(session, "CF-01")
    assert api.post("/api/v1/instruments/CF-01/out-of-service", as_="lab", json={"reason": "noise"}).status_code == 200
    again = api.post("/api/v1/instruments/CF-01/out-of-service", as_="qa", json={"reason": "noise"})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "instrument_already_out_of_service"


def test_the_lab_records_a_calibration_and_takes_an_instrument_out_of_service_on_its_page(app, auth, client):
    with in_db(app) as session:
        make_instrument(session, "CF-01", calibration_in_days=3)
    auth.login("lab")
    next_due = (today() + timedelta(days=365)).isoformat()
    done = auth.post("/equipment/CF-01/calibration", {"done_on": today().isoformat(), "next_due": next_due,
                                                      "done_by": "Metrology Ltd", "certificate_ref": "CAL-9"})
    assert done.status_code == 303
    page = client.get("/equipment/CF-01").get_data(as_text=True)
    assert next_due in page and "CAL-9" in page
    refused = auth.post("/equipment/CF-01/out-of-service", {"reason": "", "since": ""})
    assert refused.status_code == 400 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    out = auth.post("/equipment/CF-01/out-of-service", {"reason": "rotor noise", "since": ""})
    assert out.status_code == 303
    assert "rotor noise" in client.get("/equipment/CF-01").get_data(as_text=True)
    assert _audit_actions(app) == ["register", "calibration", "out_of_service"]
