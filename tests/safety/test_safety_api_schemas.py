"""The safety API's answers are what its OpenAPI document says (status, content type, body), refusals included,
and a body field it does not know is a 400 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis

from tests.conftest import signature
from tests.factories import safety
from tests.factories.safety import EVENTS, acute_rejection, record


@pytest.fixture
def document(client):
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def conforms(document, path: str, method: str, response) -> dict:
    document[path][method].validate_response(response)
    return response.get_json() if response.is_json else {}


def test_every_safety_answer_matches_the_document(app, api, document):
    code = safety.subject_code(app)
    aware = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    made = conforms(document, "/adverse-events", "POST", record(api, code, acute_rejection(aware_at=aware)))
    event_id = made["id"]
    path = "/adverse-events/{event_id}"
    assert conforms(document, path, "GET", api.get(f"{EVENTS}/{event_id}", as_="auditor"))["clock"] == "due"
    conforms(document, f"{path}/amend", "POST",
             api.post(f"{EVENTS}/{event_id}/amend", as_="coordinator", json={"description": "biopsy day 10"}))
    conforms(document, f"{path}/confirm", "POST", api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                                                            json={"signature": signature("investigator", "approved")}))
    conforms(document, "/sae-clocks", "GET", api.get("/api/v1/sae-clocks", as_="qa"))
    conforms(document, f"{path}/sae-reports", "POST", api.post(
        f"{EVENTS}/{event_id}/sae-reports", as_="investigator",
        json={"signature": signature("investigator", "authored"), "sent_to": "sponsor"}))
    conforms(document, "/adverse-events", "GET", api.get(f"{EVENTS}?subject_id={code}&status=confirmed", as_="qa"))
    conforms(document, "/adverse-events/summary", "GET", api.get(f"{EVENTS}/summary", as_="coordinator"))
    refused = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                       json={"signature": signature("investigator", "approved")})
    assert conforms(document, f"{path}/confirm", "POST", refused)["reasons"][0]["code"] == "event_not_draft"


def test_an_unknown_field_or_a_missing_subject_is_a_400_naming_it(app, api, document):
    code = safety.subject_code(app)
    unknown = record(api, code, {"term": "rash", "category": "other", "severity": "mild"})
    assert unknown.status_code == 400 and "severity" in conforms(document, "/adverse-events", "POST", unknown)["fields"]
    missing = api.post(EVENTS, as_="investigator", json={"term": "rash", "category": "other"})
    assert missing.status_code == 400 and "subject_id" in missing.get_json()["fields"]
    assert api.get(f"{EVENTS}/999999", as_="qa").status_code == 404
