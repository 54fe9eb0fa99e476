"""CSRF: every form post the app registers, sent without the session's token (or with a wrong one), is a
400 that writes nothing, even for the people who together hold every role (so only the token stands in the
way). No one account holds them all: an administrator holds no other role, and QA is held apart from lab
and QC (docs/rules.md, "People and access")."""

from __future__ import annotations

import pytest

from cellchain.people import accounts
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import ROLES
from tests.conftest import FAST_HASH, AuthActions
from tests.factories.lab import in_db, snapshot
from tests.factories.security import add_prints_and_deviation, load_site, routes

EVERY_ROLE_PASSWORD = "every-role-password"
# Accounts that between them hold every role, each within the role policy.
EVERY_ROLE = {"manyroles": sorted(set(ROLES) - {"qa", "admin"}), "qaonly": ["qa"], "adminonly": ["admin"]}


@pytest.fixture
def site(app, client, api):
    values = add_prints_and_deviation(client, api, load_site(app))
    with in_db(app) as session:
        for username, roles in EVERY_ROLE.items():
            accounts.create_user(session, actor=None, username=username, full_name=f"{username} (test)",
                                 password=EVERY_ROLE_PASSWORD, roles=roles, policy=Policy(hash_method=FAST_HASH))
    return values


def _form_posts(app):
    return [r for r in routes(app, api=False) if r.method == "POST"]


def _rows(app) -> dict[str, int]:
    with in_db(app) as session:
        return snapshot(session)


def test_every_role_list_is_covered_by_the_test_accounts():
    assert set().union(*map(set, EVERY_ROLE.values())) == set(ROLES)


@pytest.mark.parametrize("username", sorted(EVERY_ROLE))
def test_every_form_post_without_the_token_is_refused_and_writes_nothing(app, client, site, username):
    auth = AuthActions(client)
    assert auth.login(username, EVERY_ROLE_PASSWORD).status_code == 302
    before = _rows(app)
    wrong = []
    for route in _form_posts(app):
        url = route.url(site)
        for label, data in (("no token", {}), ("empty token", {"csrf_token": ""}),
                            ("forged token", {"csrf_token": "x" * 43})):
            response = client.post(url, data={**data, "reason": "csrf probe", "status": "voided"})
            if response.status_code != 400 or b"security token" not in response.data:
                wrong.append(f"POST {url} ({label}): {response.status_code}")
    assert not wrong, "\n" + "\n".join(wrong)
    assert _rows(app) == before
    assert client.get("/auth/login").status_code == 200
    assert client.get("/inbox/").status_code == 200  # still logged in: the refused logout did nothing


def test_a_token_from_another_session_is_refused(app, client, site):
    """A token an attacker got from their own session is worth nothing in the victim's."""
    attacker = AuthActions(app.test_client())
    attacker.login("lab")
    stolen = attacker.csrf()
    AuthActions(client).login("manyroles", EVERY_ROLE_PASSWORD)
    before = _rows(app)
    for route in _form_posts(app):
        response = client.post(route.url(site), data={"csrf_token": stolen})
        assert response.status_code == 400, route.rule
    assert _rows(app) == before


def test_the_login_form_without_the_token_neither_logs_in_nor_counts_a_failure(app, client):
    before = _rows(app)
    response = client.post("/auth/login", data={"username": "lab", "password": "wrong-password"})
    assert response.status_code == 400
    assert _rows(app) == before
    response = client.post("/auth/login", data={"username": "lab", "password": "cellchain-demo"})
    assert response.status_code == 400 and client.get("/lab/").status_code == 302


def test_the_token_goes_in_the_form_or_the_header_and_the_api_ignores_it(app, client, site):
    auth = AuthActions(client)
    auth.login("manyroles", EVERY_ROLE_PASSWORD)
    token = auth.csrf()
    by_header = client.post("/scan/", data={"scan": "nonsense"}, headers={"X-CSRF-Token": token})
    assert by_header.status_code != 400 or b"security token" not in by_header.data
    # The API takes bearer tokens only: a cookie alone never writes through it (see tests/people/test_access.py).
    assert client.post("/api/v1/scans", json={"data": "nonsense"}).status_code == 401
