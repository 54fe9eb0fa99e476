"""The ward's API answers are what its OpenAPI document says, and a body it does not know is a 400 naming the field."""

from __future__ import annotations

import pytest
import schemathesis

from cellchain.core import db
from tests.conftest import signature
from tests.factories import ward
from tests.factories.queries import counting


@pytest.fixture
def document(client):
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def conforms(document, path: str, method: str, response) -> dict:
    """Status, content type and body checked against the document's operation (raises naming what differs)."""
    document[path][method].validate_response(response)
    return response.get_json() if response.is_json else {}


def bag_on_ward(app) -> ward.Bedside:
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
        return scene


def warm_hand_over(api, bag_code: str):
    return api.post("/api/v1/custody", as_="nurse", json={"item": bag_code, "event": "received_at_ward",
                                                          "location": "Ward 5", "temperature_c": 14.0})


def test_custody_and_excursion_answers_match_the_document(app, api, document):
    with app.app_context():
        bag = ward.bag(db.session())
        db.commit()
    for step in ("stored", "dispatched"):
        recorded = api.post("/api/v1/custody", as_="lab", json={"item": bag.bag_code, "event": step,
                                                                 "location": "Cell processing lab"})
        event = conforms(document, "/custody", "POST", recorded)["event"]
        assert event["id"] == event["event_id"] and event["item_id"] == bag.bag_code
    assert conforms(document, "/custody", "POST", warm_hand_over(api, bag.bag_code))["event"]["excursion"] is True

    chain = conforms(document, "/bags/{bag_id}/custody", "GET", api.get(f"/api/v1/bags/{bag.bag_code}/custody",
                                                                        as_="qa"))
    assert chain["bag_id"] == bag.bag_code and chain["excursions"][0]["status"] == "open"
    cord = conforms(document, "/collections/{din}/custody", "GET",
                    api.get(f"/api/v1/collections/{bag.din}/custody", as_="lab"))
    assert cord["din"] == bag.din
    listed = conforms(document, "/excursions", "GET", api.get("/api/v1/excursions?status=open", as_="qa"))
    excursion_id = listed["excursions"][0]["id"]
    decided = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa",
                       json={"accept": True, "reason": "stability data cover 1 h at 14 °C",
                             "signature": signature("qa", "accepted")})
    assert conforms(document, "/excursions/{excursion_id}/decide", "POST", decided)["excursion"]["status"] == \
        "accepted"
    report = api.get(f"/api/v1/bags/{bag.bag_code}/chain-of-custody.pdf", as_="qa")
    conforms(document, "/bags/{bag_id}/chain-of-custody.pdf", "GET", report)
    assert report.data.startswith(b"%PDF")


def test_bedside_check_and_infusion_answers_match_the_document(app, api, document):
    scene = bag_on_ward(app)
    unknown = api.post("/api/v1/infusions/verify", as_="nurse", json={"wristband": "SUBJ-9999", "bag": "nothing"})
    failed = conforms(document, "/infusions/verify", "POST", unknown)
    assert failed["ok"] is False and "subject_id" not in failed and "bag_id" not in failed
    body = {"wristband": scene.wristband, "bag": scene.bag_scan}
    passed = conforms(document, "/infusions/verify", "POST", api.post("/api/v1/infusions/verify", as_="nurse",
                                                                      json=body))
    assert passed["ok"] is True and passed["bag_id"] == scene.bag.bag_code

    started = api.post("/api/v1/infusions", as_="nurse", json={**body, "verifier": signature("nurse2", "verified"),
                                                                "vital_signs": {"heart_rate": 72}})
    infusion = conforms(document, "/infusions", "POST", started)
    assert infusion["status"] == "started" and infusion["completed_by"] is None
    infusion_id = infusion["infusion_id"]
    done = api.post(f"/api/v1/infusions/{infusion_id}/complete", as_="nurse",
                    json={"volume_ml": 50.0, "ended_at": infusion["started_at"], "ultrasound_monitored": True,
                          "reactions": [{"description": "mild chills", "severity": "mild"}]})
    completed = conforms(document, "/infusions/{infusion_id}/complete", "POST", done)
    assert completed["status"] == "completed" and completed["reactions"][0]["onset_at"] is None
    read = conforms(document, "/infusions/{infusion_id}", "GET", api.get(f"/api/v1/infusions/{infusion_id}",
                                                                          as_="auditor"))
    assert read["verifier"]["username"] == "nurse2" and read["completed_by"]["username"] == "nurse"


@pytest.mark.parametrize(("url", "body", "bad"), [
    ("/api/v1/custody", {"item": "X", "event": "stored", "location": "Lab", "temprature_c": 4.0}, "temprature_c"),
    ("/api/v1/infusions/verify", {"wristband": "SUBJ-0001", "bag": "x", "patient_name": "Li Wei"}, "patient_name"),
    ("/api/v1/infusions/1/complete", {"volume_ml": "all of it", "ended_at": "2026-01-01T10:00:00Z",
                                      "ultrasound_monitored": True}, "volume_ml"),
    ("/api/v1/excursions/1/decide", {"accept": "yes", "reason": "fine", "signature": None}, "accept"),
])
def test_an_unknown_or_mistyped_field_is_refused_naming_it(api, url, body, bad):
    as_ = "qa" if "excursions" in url else "nurse"
    response = api.post(url, as_=as_, json=body)
    assert response.status_code == 400, response.get_json()
    assert bad in response.get_json()["fields"]


def test_an_excursion_status_that_does_not_exist_is_refused_naming_it(api):
    response = api.get("/api/v1/excursions?status=closed", as_="qa")
    assert response.status_code == 400 and "status" in response.get_json()["fields"]
    assert api.get("/api/v1/excursions?status=", as_="qa").status_code == 200


def test_the_excursion_list_costs_as_many_statements_for_many_excursions_as_for_one(app, api):
    def warm_bags(count: int) -> None:
        for _ in range(count):
            scene = bag_on_ward(app)
            assert api.post("/api/v1/custody", as_="nurse", json={
                "item": scene.bag.bag_code, "event": "returned", "location": "Ward 5",
                "temperature_c": 14.0}).status_code == 201

    warm_bags(1)
    api.get("/api/v1/excursions", as_="qa")
    with counting(app) as one:
        assert len(api.get("/api/v1/excursions", as_="qa").get_json()["excursions"]) == 1
    warm_bags(4)
    with counting(app) as five:
        assert len(api.get("/api/v1/excursions", as_="qa").get_json()["excursions"]) == 5
    assert len(one) == len(five), "\n".join(five)
