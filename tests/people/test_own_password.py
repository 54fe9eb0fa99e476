"""A person changes their own password on a page: current, new twice, the site's rule; audited without it."""

from __future__ import annotations

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.people.models import ApiToken, User
from tests.conftest import PASSWORD, AuthActions
from tests.factories.qc import db_session

NEW = "a-new-long-passphrase"


def _change(auth, current=PASSWORD, new=NEW, repeat=NEW, **kwargs):
    return auth.post("/auth/password", {"current_password": current, "new_password": new,
                                        "repeat_password": repeat}, **kwargs)


def test_nurse_changes_her_password_and_logs_in_with_the_new_one(app, client, auth):
    auth.login("nurse")
    assert b'data-testid="password-link"' in client.get("/").data
    assert client.get("/auth/password").status_code == 200
    done = _change(auth, follow_redirects=True)
    assert done.status_code == 200 and b"Your password is changed" in done.data
    assert client.get("/ward/").status_code == 200  # this browser stays logged in
    auth.logout()
    assert auth.login("nurse", PASSWORD).status_code == 401
    assert auth.login("nurse", NEW).status_code == 302
    with db_session(app) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "change_password")).one()
        assert PASSWORD not in (entry.new_values or "") and NEW not in (entry.new_values or "")
        assert "password_changed" in entry.new_values


def test_a_wrong_current_password_shows_the_form_again_naming_it(app, client, auth):
    auth.login("lab")
    wrong = _change(auth, current="not-my-password")
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert "<strong>current password</strong>: the current password is wrong" in page and "<form" in page
    assert "not-my-password" not in page
    with db_session(app) as session:
        person = session.exec(select(User).where(User.username == "lab")).one()
        assert person.failed_logins == 1  # counts toward the lock-out like a wrong login
    auth.logout()
    assert auth.login("lab", PASSWORD).status_code == 302  # nothing changed


def test_the_new_password_follows_the_site_rule_and_is_typed_the_same_twice(app, client, auth):
    auth.login("qc")
    short = _change(auth, new="short", repeat="short")
    assert short.status_code == 400 and b"<strong>new password</strong>: at least 12 characters" in short.data
    common = _change(auth, new="password1234", repeat="password1234")
    assert common.status_code == 400 and b"<strong>new password</strong>" in common.data
    differ = _change(auth, repeat=NEW + "x")
    assert differ.status_code == 400 and b"<strong>repeat password</strong>" in differ.data
    same = _change(auth, new=PASSWORD, repeat=PASSWORD)
    assert same.status_code == 400 and b"other than the current one" in same.data


def test_a_password_change_ends_the_other_logins_and_revokes_api_tokens(app, client, api):
    token = api.token("qa")
    elsewhere = AuthActions(app.test_client())
    assert elsewhere.login("qa").status_code == 302
    here = AuthActions(client)
    here.login("qa")
    done = _change(here, follow_redirects=True)
    assert b"1 API token revoked" in done.data
    assert elsewhere._client.get("/qa/").status_code == 302  # sent to log in again
    assert client.get("/qa/").status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with db_session(app) as session:
        assert all(t.revoked_at is not None for t in session.exec(select(ApiToken)))


def test_the_api_changes_ones_own_password_and_ends_its_tokens(app, client, api):
    token = api.token("coordinator")
    wrong = api.post("/api/v1/auth/password", as_="coordinator",
                     json={"current_password": "nope-nope", "new_password": NEW, "repeat_password": NEW})
    assert wrong.status_code == 400 and "current_password" in wrong.get_json()["fields"]
    done = api.post("/api/v1/auth/password", as_="coordinator",
                    json={"current_password": PASSWORD, "new_password": NEW, "repeat_password": NEW})
    assert done.status_code == 200 and done.get_json() == {"tokens_revoked": 1}
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    again = client.post("/api/v1/auth/token", json={"username": "coordinator", "password": NEW})
    assert again.status_code == 201
