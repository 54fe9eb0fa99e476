"""Equal work for unknown users and the password rule (issue 17, item 5)."""

from __future__ import annotations

import pytest
from werkzeug import security as werkzeug_security

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.people import accounts
from cellchain.people.rules import passwords
from tests.conftest import FAST_HASH


def _method_and_cost(stored_hash: str) -> str:
    """``scrypt:32768:8:1`` of ``scrypt:32768:8:1$salt$hash``: the function and its cost parameters."""
    return stored_hash.split("$", 1)[0]


@pytest.fixture
def checked_hashes(monkeypatch) -> list[str]:
    """Every stored hash a password is checked against during the test."""
    seen: list[str] = []
    real = werkzeug_security.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    return seen


@pytest.mark.parametrize("method", [FAST_HASH, "scrypt:4096:8:1", "pbkdf2:sha256:1000"])
def test_an_unknown_username_costs_the_same_hashing_as_a_real_one(app, client, checked_hashes, method):
    app.config["PASSWORD_HASH_METHOD"] = method
    with app.app_context():
        real = accounts.find_user(db.session(), "nurse").password_hash
    for username in ("nurse", "no-such-person"):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"})
        assert response.status_code == 401
    known, unknown = checked_hashes
    assert known == real
    assert _method_and_cost(unknown) == method
    if method == FAST_HASH:  # the demo accounts were hashed with the tests' method
        assert _method_and_cost(unknown) == _method_and_cost(known)


def test_the_dummy_hash_is_not_the_cheap_one_it_used_to_be():
    production = accounts.Policy()
    assert _method_and_cost(accounts._dummy_hash(production.hash_method)) == "scrypt:32768:8:1"


@pytest.mark.parametrize(("password", "problem"), [
    ("short-pass", "at least 12 characters"),
    ("password1234", "common passwords"),
    ("Password2024!", "common passwords"),
    ("baseball1234", "common passwords"),
    ("monkeymonkey", "common passwords"),
    ("aaaaaaaaaaaa", "more than three different characters"),
    ("nurse-liu-yang-1", "username or name"),
])
def test_a_weak_password_is_refused_by_name(password, problem):
    with pytest.raises(Invalid) as refused:
        accounts.check_new_password(password, username="nurse", full_name="Liu Yang (nurse)")
    assert problem in refused.value.fields["password"]


def test_a_long_uncommon_password_is_accepted():
    accounts.check_new_password("correct horse battery", username="nurse", full_name="Liu Yang")
    accounts.check_new_password("cellchain-demo", username="lab", full_name="Li Wei (lab technician)")


def test_the_common_password_list_is_shipped_with_its_source():
    listed = passwords.common_passwords()
    assert len(listed) > 19_000 and "password" in listed and "123456" in listed
    header = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()[:6]
    assert any("Source:" in line for line in header) and any("licence" in line for line in header)


def test_an_administrator_cannot_create_an_account_with_an_eight_character_password(app, client, auth):
    auth.login("admin")
    response = auth.post("/admin/users", {"username": "shortpw", "full_name": "Short Password",
                                          "password": "abcd1234", "roles": "lab"})
    assert response.status_code == 400 and "at least 12 characters" in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.find_user(db.session(), "shortpw") is None


def test_an_existing_short_password_keeps_logging_in(app, client, auth):
    with app.app_context():
        session = db.session()
        user = accounts.find_user(session, "lab")
        user.password_hash = werkzeug_security.generate_password_hash("old-pw-8", method=FAST_HASH)
        session.add(user)
        db.commit()
    assert auth.login("lab", "old-pw-8").status_code == 302
