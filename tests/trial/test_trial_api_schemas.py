"""The trial's API answers are what its OpenAPI document says, and a body it does not know is a 400 naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis

from cellchain.core import db
from tests.conftest import signature
from tests.factories import trial as factory
from tests.factories import ward
from tests.factories.trial import randomized, site_today


@pytest.fixture
def document(client):
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def conforms(document, path: str, method: str, response) -> dict:
    """Status, content type and body checked against the document's operation (raises naming what differs)."""
    document[path][method].validate_response(response)
    return response.get_json()


def released_bag(app, arm: str) -> str:
    with app.app_context():
        maker = factory.ucmsc_bag if arm == "A" else factory.placebo_bag
        bag = maker(db.session())
        db.commit()
        return bag.bag_code


def test_subject_and_randomization_answers_match_the_document(api, document):
    registered = api.post("/api/v1/subjects", as_="coordinator", json=factory.eligible_answers())
    subject = conforms(document, "/subjects", "POST", registered)
    assert subject["status"] == "awaiting_randomization" and subject["arm"] is None
    code = subject["subject_id"]
    failure = api.post("/api/v1/subjects", as_="coordinator", json=factory.eligible_answers(consent_signed=False))
    assert conforms(document, "/subjects", "POST", failure)["reasons"][0]["code"] == "consent_missing"
    randomized_now = conforms(document, "/subjects/{subject_code}/randomize", "POST",
                              api.post(f"/api/v1/subjects/{code}/randomize", as_="coordinator"))
    assert randomized_now["arm"] in ("A", "B")
    read = conforms(document, "/subjects/{subject_code}", "GET", api.get(f"/api/v1/subjects/{code}",
                                                                          as_="auditor"))
    assert read["status"] == "randomized" and read["randomized_at"].endswith("Z")
    listed = conforms(document, "/subjects", "GET", api.get("/api/v1/subjects", as_="coordinator"))
    assert [s["subject_id"] for s in listed["subjects"]] == [code, failure.get_json()["subject_id"]]
    fingerprint = conforms(document, "/randomization-list", "GET", api.get("/api/v1/randomization-list",
                                                                           as_="auditor"))
    assert fingerprint["verified"] is True and fingerprint["used"] == 1
    extended = api.post("/api/v1/randomization-list/extend", as_="admin",
                        json={"extra": 4, "reason": "enrolment raised by amendment 2"})
    body = conforms(document, "/randomization-list/extend", "POST", extended)
    assert body["used"] == 1 and body["list_hash"] != fingerprint["list_hash"]


def test_visit_and_allocation_answers_match_the_document(app, api, document):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4))
    visits_url = f"/api/v1/subjects/{subject['subject_id']}/visits"
    calendar = conforms(document, "/subjects/{subject_code}/visits", "GET", api.get(visits_url, as_="nurse"))
    week4 = next(v for v in calendar["visits"] if (v["week"], v["kind"]) == (4, "infusion"))
    allocated = api.post(f"/api/v1/visits/{week4['visit_id']}/allocation", as_="coordinator",
                         json={"bag_id": released_bag(app, subject["arm"]), "weight_kg": 70.0})
    allocation = conforms(document, "/visits/{visit_id}/allocation", "POST", allocated)
    assert allocation["subject_id"] == subject["subject_id"]
    calendar = conforms(document, "/subjects/{subject_code}/visits", "GET", api.get(visits_url, as_="nurse"))
    assert next(v for v in calendar["visits"] if v["visit_id"] == week4["visit_id"])["allocation"] == allocation
    follow_up = next(v for v in calendar["visits"] if (v["week"], v["kind"]) == (4, "follow_up"))
    done = api.post(f"/api/v1/visits/{follow_up['visit_id']}/done", as_="coordinator")
    answer = conforms(document, "/visits/{visit_id}/done", "POST", done)
    assert answer["status"] == "done" and answer["subject_id"] == subject["subject_id"]
    assert answer["allocation"] is None


@pytest.mark.parametrize(("path", "body", "bad"), [
    ("/visits/1/allocation", {"bag_id": "W0000", "weight_kg": 70.0, "wieght_kg": 71.0}, "wieght_kg"),
    ("/visits/1/done", {"done_at": "2026-01-01T10:00:00Z", "notes": "seen in clinic"}, "notes"),
    ("/randomization-list/extend", {"extra": "ten", "reason": "amendment 2"}, "extra"),
])
def test_an_unknown_or_mistyped_field_is_refused_naming_it(api, path, body, bad):
    as_ = "admin" if "extend" in path else "coordinator"
    response = api.post(f"/api/v1{path}", as_=as_, json=body)
    assert response.status_code == 400, response.get_json()
    assert bad in response.get_json()["fields"]


def test_a_registration_that_is_not_an_object_is_refused(api):
    response = api.post("/api/v1/subjects", as_="coordinator", json=[factory.eligible_answers()])
    assert response.status_code == 400 and "body" in response.get_json()["fields"]


def test_withdrawal_death_and_returned_bag_answers_match_the_document(app, api, document):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
        code, bag_code = scene.subject.subject_code, scene.bag.bag_code
    withdrawn = api.post(f"/api/v1/subjects/{code}/withdrawal", as_="investigator", json={
        "reason": "lost_to_follow_up", "signature": signature("investigator", "approved")})
    answer = conforms(document, "/subjects/{subject_code}/withdrawal", "POST", withdrawn)
    assert answer["subject"]["state"] == "withdrawn" and answer["returned_bags"][0]["bag_id"] == bag_code
    died = api.post(f"/api/v1/subjects/{code}/death", as_="investigator", json={
        "note": "sepsis", "signature": signature("investigator", "approved")})
    assert conforms(document, "/subjects/{subject_code}/death", "POST", died)["subject"]["state"] == "died"
    again = api.post(f"/api/v1/subjects/{code}/death", as_="investigator", json={
        "note": "sepsis", "signature": signature("investigator", "approved")})
    assert conforms(document, "/subjects/{subject_code}/death", "POST", again)["reasons"][0]["code"] == (
        "subject_state_refuses")
    listed = conforms(document, "/bag-returns", "GET", api.get("/api/v1/bag-returns", as_="qa"))
    return_id = listed["returns"][0]["return_id"]
    decided = api.post(f"/api/v1/bag-returns/{return_id}/decision", as_="qa", json={
        "decision": "restock", "reason": "intact and cold", "signature": signature("qa", "released")})
    assert conforms(document, "/bag-returns/{return_id}/decision", "POST", decided)["status"] == "restocked"
    unknown = api.post(f"/api/v1/subjects/{code}/withdrawal", as_="investigator", json={"colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["fields"]
    assert conforms(document, "/subjects/{subject_code}", "GET",
                    api.get(f"/api/v1/subjects/{code}", as_="coordinator"))["end_note"] == "sepsis"
