"""Collections, lots and bags answer exactly what the API document says, and refuse fields it does not name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cellchain.core import db
from cellchain.identifiers.isbt128 import Din
from tests.conftest import signature
from tests.factories import labels as make
from tests.factories import materials
from tests.factories.api_document import answer_problems
from tests.factories.lab import SCREENING, days_ago, iso
from tests.factories.qc import SAMPLED


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def conforms(spec, method: str, path: str, response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert answer_problems(spec, method, path, response) == []
    return response.get_json()


def register(api, **changes):
    body = {"donor_code": "DONOR-0200", "collected_at": iso(days_ago(12)), "site": "Delivery suite 1",
            "consent_obtained": True, "screening": SCREENING, **changes}
    return api.post("/api/v1/collections", as_="lab", json=body)


def hand_over(api, din: str, event: str, temperature: float, hours: float) -> None:
    response = api.post("/api/v1/custody", as_="lab", json={
        "item": f"={din}{Din.parse(din).flags_type3}", "event": event, "location": "cell processing lab",
        "temperature_c": temperature, "occurred_at": iso(days_ago(12) + timedelta(hours=hours))})
    assert response.status_code == 201, response.get_json()


def test_a_collection_answers_as_documented_with_its_custody_and_open_excursion(api, spec):
    din = conforms(spec, "POST", "/collections", register(api), 201)["din"]
    hand_over(api, din, "shipped", 18.0, 1)
    hand_over(api, din, "received", 31.5, 3)
    body = conforms(spec, "GET", "/collections/{din}", api.get(f"/api/v1/collections/{din}", as_="auditor"), 200)
    events = body["custody"]
    assert [e["event"] for e in events] == ["collected", "shipped", "received"]
    assert all(e["id"] == e["event_id"] and e["item_id"] == din for e in events)
    assert events[1]["recorded_by"] == "lab" and events[1]["recorded_by_name"]
    assert body["open_excursions"][0]["temperature_c"] == 31.5 and body["lot_id"] is None


def test_a_cord_carried_to_verified_steps_and_bags_answers_as_documented_at_every_step(app, api, spec):
    din = register(api).get_json()["din"]
    hand_over(api, din, "shipped", 18.0, 1)
    hand_over(api, din, "received", 6.5, 3)
    lot = f"/api/v1/lots/{din}"
    started = conforms(spec, "POST", "/lots", api.post("/api/v1/lots", as_="lab", json={"collection_din": din}), 201)
    assert started["lot_id"] == din and started["status"] == "in_process"
    seeded = days_ago(11)
    passage = api.post(f"{lot}/passages", as_="lab", json={
        "number": 0, "seeded_cells": 1_000_000, "harvested_cells": 8_000_000, "viability_pct": 95,
        "seeded_at": iso(seeded), "harvested_at": iso(seeded + timedelta(hours=70))})
    assert conforms(spec, "POST", "/lots/{lot_id}/passages", passage, 201)["population_doublings"] == 3
    step = conforms(spec, "POST", "/lots/{lot_id}/batch-steps",
                    api.post(f"{lot}/batch-steps", as_="lab", json={"step": "wash"}), 201)
    assert step["lot_id"] == din and step["performed_by"] == "lab" and step["verification"] is None
    harvest = api.post(f"{lot}/harvest", as_="lab", json={"harvested_cells": 8_000_000})
    assert conforms(spec, "POST", "/lots/{lot_id}/harvest", harvest, 201)["harvested_cells"] == 8_000_000
    formulation = api.post(f"{lot}/formulation", as_="lab", json={"cells_per_ml": 1e5, "volume_ml": 50})
    assert conforms(spec, "POST", "/lots/{lot_id}/formulation", formulation, 201)["total_cells"] == 5_000_000
    verified = api.post(f"{lot}/batch-steps/{step['step_id']}/verify", as_="qa",
                        json={"signature": signature("qa", "verified")})
    body = conforms(spec, "POST", "/lots/{lot_id}/batch-steps/{step_id}/verify", verified, 201)
    assert body["verified_by"] == "qa" and body["meaning"] == "verified"
    assert api.post(f"{lot}/qc-results", as_="qc", json={**SAMPLED,
                                                         "test": "viability", "value": 93}).status_code == 201
    materials.stocked(app, "ACD2611")
    fill = api.post(f"{lot}/bags", as_="lab", json={"count": 2, "volume_ml": 20, "total_cells": 2_000_000,
                                                     "anticoagulant": "ACD-A", "anticoagulant_lot": "ACD2611"})
    bags = conforms(spec, "POST", "/lots/{lot_id}/bags", fill, 201)["bags"]
    assert [b["lot_id"] for b in bags] == [din, din] and bags[0]["status"] == bags[0]["quality_status"]

    shown = conforms(spec, "GET", "/lots/{lot_id}", api.get(lot, as_="qa"), 200)
    assert shown["bags"] == [b["bag_id"] for b in bags] and shown["qc_results"][0]["test"] == "viability"
    wash = next(s for s in shown["batch_record"]["steps"] if s["step"] == "wash")
    assert wash["verification"]["signer"] == "qa" and wash["verification"]["intact"] is True
    listed = api.get(f"/api/v1/bags?lot_id={din}&status=quarantine", as_="lab")
    assert [b["bag_id"] for b in conforms(spec, "GET", "/bags", listed, 200)["bags"]] == shown["bags"]
    pdf = api.get(f"{lot}/batch-record.pdf", as_="qa")
    assert conforms(spec, "GET", "/lots/{lot_id}/batch-record.pdf", pdf, 200) is None
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_placebo_bags_and_an_allocated_bag_answer_as_documented(app, api, spec):
    materials.saline(app, "NS2611")
    placebo = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NS2611"})
    body = conforms(spec, "POST", "/placebo-bags", placebo, 201)
    assert body["bags"][0]["lot_id"] is None and body["bags"][0]["din"] == body["din"]
    with app.app_context():
        session = db.session()
        bag = make.bags(session, make.lot(session), 1)[0]
        subject = make.subject(session)
        make.allocate(session, bag, subject)
        db.commit()
        bag_id, code = bag.bag_code, subject.subject_code
    shown = conforms(spec, "GET", "/bags/{bag_id}", api.get(f"/api/v1/bags/{bag_id}", as_="nurse"), 200)
    assert shown["allocation"]["subject_id"] == shown["allocation"]["subject_code"] == code
    assert shown["barcodes"]["din"].startswith("=")


@pytest.mark.parametrize(("path", "body", "named"), [
    ("/api/v1/collections", {"donor_code": "DONOR-0201", "colected_at": "2026-01-01T00:00:00Z"}, "colected_at"),
    ("/api/v1/lots", {"collection_din": "A999926000001", "started": "now"}, "started"),
    ("/api/v1/placebo-bags", {"count": 1, "saline_lot": "NS2611", "colour": "clear"}, "colour"),
])
def test_a_field_the_request_does_not_know_is_refused_by_name(api, path, body, named):
    response = api.post(path, as_="lab", json=body)
    assert response.status_code == 400
    assert named in response.get_json()["fields"]


def test_a_mistyped_field_is_a_400_naming_it_never_a_server_error(api):
    response = register(api, consent_obtained="yes", screening=["HIV-1/2"])
    assert response.status_code == 400
    assert {"consent_obtained", "screening"} <= set(response.get_json()["fields"])
    listed = api.get("/api/v1/bags?status=sideways", as_="lab")
    assert listed.status_code == 400 and "status" in listed.get_json()["fields"]
    for body in ([1, 2], "text", 7):
        refused = api.post("/api/v1/lots", as_="lab", json=body)
        assert refused.status_code == 400 and "body" in refused.get_json()["fields"]


def test_a_collection_time_in_a_mistyped_year_is_refused_not_recorded(api):
    response = register(api, collected_at="0026-11-25T08:00:00+08:00")
    assert response.status_code == 400 and "2000" in response.get_json()["fields"]["collected_at"]
