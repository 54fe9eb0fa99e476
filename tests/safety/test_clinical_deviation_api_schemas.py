"""The clinical protocol deviation API's answers, and the missed-visit answer, are what the OpenAPI document says
(status, content type, body), refusals included."""

from __future__ import annotations

import pytest
import schemathesis

from cellchain.core import db
from tests.conftest import signature
from tests.factories import ward

REGISTER = "/api/v1/clinical-deviations"


@pytest.fixture
def document(client):
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def conforms(document, path: str, method: str, response) -> dict:
    document[path][method].validate_response(response)
    return response.get_json() if response.is_json else {}


def test_every_clinical_deviation_answer_matches_the_document(app, api, document):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    code = scene.subject.subject_code
    missed = conforms(document, "/visits/{visit_id}/missed", "POST", api.post(
        f"/api/v1/visits/{scene.visit.id}/missed", as_="coordinator", json={"reason": "the subject declined"}))
    deviation_id = missed["clinical_deviation_id"]
    opened = conforms(document, "/clinical-deviations", "POST", api.post(REGISTER, as_="investigator", json={
        "subject_id": code, "kind": "other", "description": "consent re-signed late"}))
    assert opened["decided_by"] is None and opened["visit_id"] is None and opened["week"] is None
    path = "/clinical-deviations/{deviation_id}"
    got = conforms(document, path, "GET", api.get(f"{REGISTER}/{deviation_id}", as_="auditor"))
    assert got["kind"] == "missed_visit" and got["automatic"] is True
    conforms(document, f"{path}/decision", "POST", api.post(
        f"{REGISTER}/{deviation_id}/decision", as_="investigator",
        json={"signature": signature("investigator", "rejected"), "note": "not a deviation: the visit moved"}))
    closed = conforms(document, f"{path}/close", "POST", api.post(
        f"{REGISTER}/{deviation_id}/close", as_="coordinator", json={"note": "calendar corrected"}))
    assert closed["status"] == "closed" and closed["closed_by"] == "coordinator"
    listed = conforms(document, "/clinical-deviations", "GET", api.get(f"{REGISTER}?limit=1", as_="qa"))
    assert len(listed["clinical_deviations"]) == 1 and listed["next"]
    conforms(document, "/clinical-deviations", "POST", api.post(REGISTER, as_="coordinator", json={
        "subject_id": code, "kind": "sideways", "description": "x"}))
    conforms(document, f"{path}/close", "POST", api.post(
        f"{REGISTER}/{deviation_id}/close", as_="coordinator", json={"note": "twice"}))
    unknown = api.post(REGISTER, as_="coordinator", json={"subject_id": code, "kind": "other", "description": "x",
                                                          "severity": "high"})
    assert unknown.status_code == 400 and "severity" in unknown.get_json()["fields"]
