"""Security headers on every kind of answer, HSTS only behind HTTPS, and the login throttle (per name and address,
and per address)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from cellchain import create_app
from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.people.models import LoginAttempt, User
from tests.conftest import FAST_HASH, PASSWORD, AuthActions, form_token

HEADERS = {
    "Content-Security-Policy": "script-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _assert_hardened(response, what: str) -> None:
    for name, part in HEADERS.items():
        assert part in response.headers.get(name, ""), f"{what}: {name} is {response.headers.get(name)!r}"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "unsafe-inline" not in csp, what


def _answers(client, auth, api):
    """One answer of each kind: pages, API, static files, PDFs, redirects, and every error status."""
    yield "login page", client.get("/auth/login")
    yield "redirect to login", client.get("/lab/")
    yield "API 401", client.get("/api/v1/bags")
    yield "API 404", client.get("/api/v1/nowhere", headers=api.headers("lab"))
    yield "API 400", client.post("/api/v1/collections", headers=api.headers("lab"), data="not json")
    yield "API 403", client.get("/api/v1/audit/verify", headers=api.headers("nurse"))
    yield "API 200", client.get("/api/v1/bags", headers=api.headers("lab"))
    yield "openapi", client.get("/api/v1/openapi.json")
    static = client.get("/static/cellchain.css")
    static.close()  # a file response streams the file; close it like a server does
    yield "static", static
    yield "CSRF 400", client.post("/auth/login", data={"username": "lab", "password": PASSWORD})
    yield "login 401", auth.post("/auth/login", {"username": "lab", "password": "wrong-password"})
    auth.login("nurse")
    yield "page 200", client.get("/ward/")
    yield "page 403", client.get("/admin/users")
    yield "page 404", client.get("/lab/bags/NO-SUCH-BAG")
    yield "API 405", client.put("/api/v1/bags", headers=api.headers("nurse"))
    yield "unknown page", client.get("/no/such/page")


def test_every_kind_of_answer_carries_the_security_headers(client, auth, api):
    seen = set()
    for what, response in _answers(client, auth, api):
        seen.add(response.status_code)
        _assert_hardened(response, f"{what} ({response.status_code})")
    assert {200, 302, 400, 401, 403, 404, 405} <= seen


def test_an_unexpected_error_page_carries_the_security_headers(new_app):
    """A 500 outside testing (where the test client would re-raise) still sends the headers."""
    app = new_app
    app.testing = False

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    _assert_hardened(response, "500")
    assert b"boom" not in response.data  # no traceback or message leaks to the browser


def test_pages_of_a_logged_in_person_are_not_cached(client, auth):
    auth.login("lab")
    assert client.get("/lab/").headers["Cache-Control"] == "no-store"


def test_hsts_is_off_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers


@pytest.fixture
def https_app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "hsts", "HSTS": True,
                      "SESSION_COOKIE_SECURE": True, "PASSWORD_HASH_METHOD": FAST_HASH})
    yield app
    app.extensions[db.EXTENSION].dispose()


def test_hsts_is_sent_on_pages_api_and_errors_when_configured(https_app):
    client = https_app.test_client()
    for response in (client.get("/auth/login"), client.get("/api/v1/bags"), client.get("/no/such/page"),
                     client.get("/api/v1/openapi.json")):
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts, response.status_code


def test_secure_cookies_when_configured(https_app):
    client = https_app.test_client()
    csrf = form_token(client, base_url="https://localhost")
    response = client.post("/auth/login", base_url="https://localhost",
                           data={"username": "lab", "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


# --- login throttling per user name and address, and per address ---------------------------------------

WARD_COMPUTER = "203.0.113.9"


def _fail(client, username: str = "nobody", address: str = WARD_COMPUTER):
    return client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"},
                       environ_base={"REMOTE_ADDR": address})


def _login(client, username: str, address: str = WARD_COMPUTER):
    return client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": address})


def test_an_address_guessing_many_user_names_gets_429_with_retry_after(app, client):
    app.config["LOGIN_THROTTLE_ADDRESS_FAILURES"] = limit = 12  # the default (100) costs 100 requests to reach
    for n in range(limit):
        assert _fail(client, username=f"guess{n}").status_code == 401  # many accounts: no account lock helps
    refused = _login(client, "lab")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    assert "too many failed logins from this address" in refused.get_json()["error"]
    assert _login(client, "lab", address="198.51.100.7").status_code == 201  # another address is not affected


def test_the_address_wide_limit_is_high_enough_for_a_ward_by_default(app):
    assert app.config["LOGIN_THROTTLE_ADDRESS_FAILURES"] >= 10 * app.config["LOGIN_THROTTLE_FAILURES"]


def test_one_nurses_typos_on_a_shared_ward_computer_never_lock_out_the_other_nurses(app, client):
    limit = app.config["LOGIN_THROTTLE_FAILURES"]
    for _ in range(limit):
        assert _fail(client, username="nruse").status_code == 401  # a mistyped name, again and again
    assert _fail(client, username="nruse").status_code == 429
    assert "for this user name" in _fail(client, username="nruse").get_json()["error"]
    for name in ("nurse", "nurse2", "lab", "lab2"):  # everyone else mistypes a password a few times too
        for _ in range(app.config["MAX_FAILED_LOGINS"] - 1):
            assert _fail(client, username=name).status_code == 401
    for name in ("nurse", "nurse2", "lab", "lab2"):  # 26 failures at this computer, far past the old 10
        assert _login(client, name).status_code == 201, name


def test_the_name_is_counted_however_it_is_capitalised_and_never_kept_as_typed(app, client):
    limit = app.config["LOGIN_THROTTLE_FAILURES"]
    for n in range(limit):
        _fail(client, username="Nobody" if n % 2 else " nobody ")
    assert _fail(client, username="NOBODY").status_code == 429
    with app.app_context():
        kept = db.session().exec(select(LoginAttempt.account)).all()
    assert len(kept) == limit and all(len(a) == 64 and "nobody" not in a.lower() for a in kept)


def test_the_login_page_and_the_token_endpoint_share_one_budget(app, client):
    auth = AuthActions(client)
    limit = app.config["LOGIN_THROTTLE_FAILURES"]
    for _ in range(limit):
        response = client.post("/auth/login", data={"username": "guess", "password": "x" * 9,
                                                    "csrf_token": auth.csrf()})
        assert response.status_code == 401
    page = client.post("/auth/login", data={"username": "guess", "password": PASSWORD, "csrf_token": auth.csrf()})
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert b"too many failed logins" in page.data
    _assert_hardened(page, "429 page")
    api = client.post("/api/v1/auth/token", json={"username": "guess", "password": PASSWORD})
    assert api.status_code == 429
    assert client.post("/api/v1/auth/token", json={"username": "lab", "password": PASSWORD}).status_code == 201


def test_failures_leave_the_window_and_the_name_may_try_again(app, client):
    limit = app.config["LOGIN_THROTTLE_FAILURES"]
    for _ in range(limit):
        _fail(client)
    assert _fail(client).status_code == 429
    with app.app_context():
        session = db.session()
        oldest = session.exec(select(LoginAttempt).order_by(LoginAttempt.attempted_at)).first()
        oldest.attempted_at = utcnow() - timedelta(seconds=app.config["LOGIN_THROTTLE_WINDOW_SECONDS"] + 1)
        session.add(oldest)
        session.commit()
    assert _fail(client).status_code == 401  # one slot free again: counted, refused by the password


def test_workers_agree_because_the_count_is_in_the_database(app, client):
    """Two app instances (two workers) on one database: failures through one throttle the other."""
    limit = app.config["LOGIN_THROTTLE_FAILURES"]
    second_worker = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "w2",
                                "PASSWORD_HASH_METHOD": FAST_HASH})
    try:
        for n in range(limit):
            _fail(client if n % 2 else second_worker.test_client())
        assert _fail(second_worker.test_client()).status_code == 429
        assert _fail(client).status_code == 429
    finally:
        second_worker.extensions[db.EXTENSION].dispose()


def test_throttled_attempts_do_not_touch_the_account(app, client):
    """A throttled request never checks the password, so it neither counts toward nor resets a lock."""
    app.config["LOGIN_THROTTLE_ADDRESS_FAILURES"] = limit = 12
    for n in range(limit):
        _fail(client, username=f"guess{n}")
    for _ in range(3):
        assert _fail(client, username="qa").status_code == 429
    with app.app_context():
        qa = db.session().exec(select(User).where(User.username == "qa")).one()
        assert qa.failed_logins == 0 and not qa.is_locked


def test_the_account_lock_still_comes_first_for_one_account(app, client):
    """Five wrong passwords for one account lock it before its name's budget (10) is spent."""
    for _ in range(app.config["MAX_FAILED_LOGINS"]):
        assert _fail(client, username="qc").status_code == 401
    response = _login(client, "qc")
    assert response.status_code == 403 and "locked" in response.get_json()["error"]
    assert app.config["LOGIN_THROTTLE_FAILURES"] > app.config["MAX_FAILED_LOGINS"]


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "proxy", "PROXY_COUNT": 1,
                      "PASSWORD_HASH_METHOD": FAST_HASH, "LOGIN_THROTTLE_FAILURES": 2})
    try:
        client = app.test_client()

        def fail(forwarded: str):
            return client.post("/api/v1/auth/token", json={"username": "x", "password": "wrong-password"},
                               headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "10.0.0.1"})

        assert [fail("192.0.2.1").status_code for _ in range(3)] == [401, 401, 429]
        assert fail("192.0.2.2").status_code == 401  # another client behind the same proxy
    finally:
        app.extensions[db.EXTENSION].dispose()
