"""The token API loads its body and dumps its answers through its schemas."""

from __future__ import annotations

from cellchain.audit.schemas import AuditVerifyOut
from cellchain.people.schemas import MeOut, TokenOut
from tests.conftest import PASSWORD


def test_a_field_the_token_request_does_not_know_is_refused_by_name(client):
    response = client.post("/api/v1/auth/token", json={"username": "lab", "password": "x", "pasword": "typo"})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"pasword"}


def test_a_body_that_is_not_an_object_is_a_400_naming_the_body(client):
    for body in ([1, 2], "text", 7):
        response = client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 400 and "body" in response.get_json()["fields"]


def test_deeply_nested_json_is_refused_not_a_server_error(client):
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/auth/token", data=deep, content_type="application/json")
    assert response.status_code == 400


def test_token_me_and_audit_answers_match_their_schemas(client, api):
    token = client.post("/api/v1/auth/token", json={"username": "auditor", "password": PASSWORD})
    assert token.status_code == 201 and TokenOut().validate(token.get_json()) == {}
    assert token.get_json()["expires_at"].endswith("Z")
    me = api.get("/api/v1/auth/me", as_="auditor")
    assert MeOut().validate(me.get_json()) == {} and me.get_json()["username"] == "auditor"
    audit = api.get("/api/v1/audit/verify", as_="auditor")
    assert audit.status_code == 200 and AuditVerifyOut().validate(audit.get_json()) == {}
    assert audit.get_json()["ok"] is True
