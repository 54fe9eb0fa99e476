"""Logins, lock-out, roles, CSRF, API tokens and e-signatures."""

from __future__ import annotations

import pytest

from cellchain.audit import signatures, trail
from cellchain.core import db
from cellchain.core.errors import Invalid, Unauthenticated
from cellchain.people import accounts
from tests.conftest import FAST_HASH, PASSWORD


def test_demo_user_logs_in_and_sees_their_name(client, auth):
    response = auth.login("qa")
    assert response.status_code == 302
    page = client.get("/")
    assert b"Wang Fang" in page.data and b"QA reviewer" in page.data


def test_wrong_password_is_refused_with_a_message(client, auth):
    response = auth.login("qa", "wrong-password")
    assert response.status_code == 401
    assert b"username or password is wrong" in response.data


def test_five_wrong_passwords_lock_the_account(app, client, auth):
    for _ in range(5):
        auth.login("nurse", "wrong-password")
    response = auth.login("nurse", PASSWORD)
    assert response.status_code == 403
    assert b"locked" in response.data
    with app.app_context():
        entries = trail.search(db.session(), trail.AuditFilter(record_type="user"))
        assert "lock" in [e.action for e in entries]
        assert accounts.find_user(db.session(), "nurse").is_locked


def test_administrator_unlocks_a_locked_account_with_a_reason(app, client, auth):
    for _ in range(5):
        auth.login("nurse", "wrong-password")
    auth.login("admin")
    with app.app_context():
        nurse_id = accounts.find_user(db.session(), "nurse").id
    assert auth.post(f"/admin/users/{nurse_id}/unlock", {"reason": ""}).status_code == 400
    assert auth.post(f"/admin/users/{nurse_id}/unlock", {"reason": "identity confirmed by phone"}).status_code == 303
    auth.logout()
    assert auth.login("nurse").status_code == 302


def test_nurse_gets_403_from_an_administrators_page(client, auth):
    auth.login("nurse")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert b"Administrator" in response.data


def test_nurse_gets_403_from_an_api_endpoint_for_auditors(api):
    response = api.get("/api/v1/audit/verify", as_="nurse")
    assert response.status_code == 403
    assert "error" in response.get_json()


def test_form_post_without_csrf_token_is_refused(client, auth):
    auth.login("admin")
    response = client.post("/admin/users", data={"username": "x", "full_name": "X", "password": "longenough",
                                                  "roles": "lab"})
    assert response.status_code == 400
    assert b"security token" in response.data


def test_login_form_without_csrf_token_is_refused(client):
    response = client.post("/auth/login", data={"username": "qa", "password": PASSWORD})
    assert response.status_code == 400


def test_admin_creates_an_account_that_can_log_in(client, auth):
    auth.login("admin")
    response = auth.post("/admin/users", {"username": "qa2", "full_name": "Second QA", "password": "long-password",
                                          "roles": ["qa"]})
    assert response.status_code == 303
    auth.logout()
    assert auth.login("qa2", "long-password").status_code == 302


def test_account_with_unknown_role_is_refused_naming_the_field(client, auth):
    auth.login("admin")
    response = auth.post("/admin/users", {"username": "x1", "full_name": "X", "password": "long-password",
                                          "roles": ["surgeon"]})
    assert response.status_code == 400
    assert b"roles" in response.data and b"surgeon" in response.data


def test_session_ends_when_the_account_is_locked_elsewhere(app, client, auth):
    auth.login("lab")
    assert client.get("/").status_code == 200
    for _ in range(5):
        app.test_client().post("/api/v1/auth/token", json={"username": "lab", "password": "nope-nope"})
    assert client.get("/").status_code == 302


def test_login_starts_a_new_session(client, auth):
    client.get("/auth/login")
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    auth.login("lab")
    with client.session_transaction() as after:
        assert "planted" not in after


def test_session_cookie_is_httponly_and_samesite(client, auth):
    response = auth.login("lab")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_token_is_issued_used_and_revoked(client, api):
    token = api.token("qa")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).get_json()["username"] == "qa"
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 200
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401 and "revoked" in response.get_json()["error"]


def test_api_token_with_missing_fields_names_them(client):
    response = client.post("/api/v1/auth/token", json={"username": "qa"})
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"password": "required"}


def test_api_write_with_only_a_cookie_is_refused(client, auth):
    auth.login("qa")
    assert client.post("/api/v1/auth/revoke").status_code == 401


def test_token_is_stored_only_as_a_hash(app, api):
    token = api.token("qa")
    with app.app_context():
        from sqlmodel import select

        from cellchain.people.models import ApiToken
        stored = db.session().exec(select(ApiToken)).all()
    assert token not in [t.token_hash for t in stored]


def test_wrong_esignature_password_is_refused_and_audited(app):
    policy = accounts.Policy(hash_method=FAST_HASH)
    with app.app_context():
        attempt = signatures.SignatureInput("qa", "not-my-password", "released")
        with pytest.raises(Unauthenticated):
            signatures.sign(db.session(), attempt, record_type="lot", record_id="L9", content={"x": 1},
                            policy=policy)
        db.rollback()
    # the refusal is written after the request's own transaction ends
    with app.app_context():
        entries = trail.search(db.session(), trail.AuditFilter(record_type="user"))
        assert "signature_failed" in [e.action for e in entries]


def test_esignature_binds_signer_meaning_and_record_hash(app):
    policy = accounts.Policy(hash_method=FAST_HASH)
    with app.app_context():
        content = {"lot": "L1", "status": "released"}
        row = signatures.sign(db.session(), signatures.SignatureInput("qa", PASSWORD, "released"),
                              record_type="lot", record_id="L1", content=content, policy=policy, roles=("qa",))
        db.commit()
        assert row.signer_name == "Wang Fang (QA reviewer)" and row.meaning == "released"
        assert signatures.still_matches(row, content)
        assert not signatures.still_matches(row, {**content, "status": "rejected"})


def test_esignature_with_a_missing_part_names_it():
    with pytest.raises(Invalid) as refusal:
        signatures.parse_signature({"username": "qa", "meaning": "released"})
    assert refusal.value.fields == {"signature.password": "required"}


def test_administrator_sees_every_account_on_the_users_page(client, auth):
    auth.login("admin")
    page = client.get("/admin/users")
    assert page.status_code == 200
    for username in ("lab", "qc", "qa", "coordinator", "nurse", "nurse2", "admin", "auditor"):
        assert f'data-username="{username}"'.encode() in page.data
