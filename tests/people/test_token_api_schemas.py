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


def test_role_grant_answers_match_the_api_document(app, client, api):
    from cellchain.core import db
    from cellchain.people import accounts
    from tests.conftest import signature
    from tests.factories import api_document

    document = api_document.load(client)
    with app.app_context():
        nurse_id = accounts.find_user(db.session(), "nurse").id
    asked = api.post(f"/api/v1/users/{nurse_id}/roles", as_="admin", json={"roles": ["nurse", "coordinator"],
                                                                         "reason": "covers screening"})
    api_document.assert_documented(document, "POST", "/users/{user_id}/roles", asked)
    refused = api.post(f"/api/v1/users/{nurse_id}/roles", as_="admin", json={"roles": ["nurse", "admin"],
                                                                           "reason": "why not"})
    assert refused.status_code == 409
    api_document.assert_documented(document, "POST", "/users/{user_id}/roles", refused)
    listing = api.get("/api/v1/role-grants", as_="auditor")
    api_document.assert_documented(document, "GET", "/role-grants", listing)
    grant_id = asked.get_json()["grant"]["id"]
    approved = api.post(f"/api/v1/role-grants/{grant_id}/approve", as_="admin2",
                        json={"signature": signature("admin2", "approved")})
    assert approved.status_code == 200
    api_document.assert_documented(document, "POST", "/role-grants/{grant_id}/approve", approved)
