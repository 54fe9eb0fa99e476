"""Sessions and tokens under attack: a planted session, a cookie replayed after logout, stale tokens.

Flask keeps the page session in a signed cookie in the browser, so a logout that only clears the
cookie leaves every copy of it working. Each login therefore has a server-side row whose nonce the
cookie carries (``services.login_guard``); these tests replay cookies the way a thief would.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.people.models import ApiToken, LoginSession, User
from tests.conftest import PASSWORD, AuthActions

COOKIE = "session"


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _browser_with(app, cookie: str):
    """A second browser that sends a copied session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def _logged_in(client) -> bool:
    response = client.get("/lab/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _audit_count(app) -> int:
    with app.app_context():
        return len(db.session().exec(select(AuditEntry.seq)).all())


def test_login_replaces_a_session_planted_before_it(app, client, auth):
    client.get("/auth/login")
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
        planted_csrf = planted["csrf_token"]
    planted_cookie = _cookie(client)
    auth.login("lab")
    assert _cookie(client) != planted_cookie
    with client.session_transaction() as fresh:
        assert "planted" not in fresh and fresh["csrf_token"] != planted_csrf and fresh["user_id"]
    assert _logged_in(client)
    assert not _logged_in(_browser_with(app, planted_cookie))


def test_a_cookie_replayed_after_logout_opens_nothing(app, client, auth):
    auth.login("lab")
    stolen = _cookie(client)
    with client.session_transaction() as before:
        csrf = before["csrf_token"]
    assert _logged_in(_browser_with(app, stolen))
    assert auth.logout().status_code == 302
    thief = _browser_with(app, stolen)
    assert not _logged_in(thief)
    written = _audit_count(app)
    response = thief.post("/lab/collections", data={"csrf_token": csrf, "donor_code": "D-1"})
    assert response.status_code in (302, 400) and "/auth/login" in response.headers.get("Location", "/auth/login")
    assert _audit_count(app) == written


def test_logout_ends_that_login_and_not_the_persons_other_logins(app, client, auth):
    auth.login("lab")
    other = app.test_client()
    AuthActions(other).login("lab")
    auth.logout()
    assert not _logged_in(client)
    assert _logged_in(other)


def test_logging_in_again_in_the_same_browser_ends_the_earlier_login(app, client, auth):
    auth.login("lab")
    first = _cookie(client)
    auth.login("qa")
    assert not _logged_in(_browser_with(app, first))
    assert client.get("/qa/").status_code == 200


def test_a_login_session_past_its_lifetime_is_refused(app, client, auth):
    auth.login("lab")
    with app.app_context():
        session = db.session()
        row = session.exec(select(LoginSession).where(LoginSession.ended_at.is_(None))).one()
        row.started_at = utcnow() - app.permanent_session_lifetime - timedelta(minutes=1)
        session.add(row)
        session.commit()
    assert not _logged_in(client)


def test_a_cookie_without_a_login_session_is_refused_even_when_signed(app, client, auth):
    """A cookie made with the secret key but without a live nonce (an old release's cookie) opens nothing."""
    auth.login("lab")
    with client.session_transaction() as cookie:
        cookie.pop("session_nonce")
    assert not _logged_in(client)


def test_a_tampered_cookie_is_ignored(app, client, auth):
    auth.login("lab")
    value = _cookie(client)
    forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    assert not _logged_in(_browser_with(app, forged))


def test_only_the_nonce_hash_is_stored(app, client, auth):
    auth.login("lab")
    with client.session_transaction() as cookie:
        nonce = cookie["session_nonce"]
    with app.app_context():
        hashes = db.session().exec(select(LoginSession.nonce_hash)).all()
    assert hashes and nonce not in hashes


# --- API tokens -----------------------------------------------------------------------------------------

def _me(client, token: str):
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_a_revoked_token_is_refused_everywhere(client, api):
    token = api.token("qa")
    assert client.post("/api/v1/auth/revoke", headers=api.headers("qa")).status_code == 200
    for method, url in (("get", "/api/v1/auth/me"), ("get", "/api/v1/bags"), ("post", "/api/v1/deviations"),
                        ("get", "/api/v1/openapi.json")):
        response = getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, json={})
        assert response.status_code == 401, (method, url)
        assert "revoked" in response.get_json()["error"]


def test_an_expired_token_is_refused(app, client, api):
    token = api.token("nurse")
    with app.app_context():
        session = db.session()
        for row in session.exec(select(ApiToken)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert _me(client, token).status_code == 401


def test_a_token_of_a_deactivated_or_locked_person_is_refused(app, client, api):
    nurse, lab = api.token("nurse"), api.token("lab")
    with app.app_context():
        session = db.session()
        people = {u.username: u for u in session.exec(select(User)).all()}
        people["nurse"].active = False
        people["lab"].locked_at = utcnow()
        session.add_all([people["nurse"], people["lab"]])
        session.commit()
    assert _me(client, nurse).status_code == 401
    assert _me(client, lab).status_code == 401


def test_a_made_up_or_malformed_token_is_refused(client):
    for header in ("Bearer not-a-token", "Bearer ", "Bearer ' OR 1=1 --", "Basic bGFiOmNlbGxjaGFpbg==",
                   "Bearer " + "A" * 5000):
        response = client.get("/api/v1/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_a_token_is_not_a_page_session(client, api):
    """A bearer token opens the API only; pages need the cookie login (with its CSRF token)."""
    response = client.get("/lab/", headers=api.headers("lab"))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_password_is_checked_for_a_token_with_the_same_lockout(client):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "qc", "password": "wrong-password"})
    response = client.post("/api/v1/auth/token", json={"username": "qc", "password": PASSWORD})
    assert response.status_code == 403 and "locked" in response.get_json()["error"]
