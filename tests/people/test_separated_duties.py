"""Separated duties for accounts (issue 17, item 3): an administrator cannot grant himself QA, nobody changes
their own roles or unlocks themselves, a role grant needs a second administrator's e-signature, and one
account never holds admin with an operational role, nor QA with lab or QC unless the site allows it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.core.errors import Refused
from cellchain.demo import loader as demo
from cellchain.people import accounts
from cellchain.people.models import RoleGrant
from cellchain.people.rules.roles import role_set_refusals
from tests.conftest import FAST_HASH, signature

P = "/api/v1"


def _id(app, username: str) -> int:
    with app.app_context():
        return accounts.find_user(db.session(), username).id


def _roles(app, username: str) -> set[str]:
    with app.app_context():
        return set(accounts.find_user(db.session(), username).roles)


def _codes(response) -> list[str]:
    return [r["code"] for r in response.get_json()["reasons"]]


def _grant(api, username: str, roles: list[str], *, as_: str = "admin") -> dict:
    response = api.post(f"{P}/users/{_id(api._client.application, username)}/roles", as_=as_,
                        json={"roles": roles, "reason": "covering the evening shift"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_admin_cannot_grant_himself_qa_and_then_release(app, api):
    response = api.post(f"{P}/users/{_id(app, 'admin')}/roles", as_="admin",
                        json={"roles": ["admin", "qa"], "reason": "to release tonight's lot"})
    assert response.status_code == 409
    assert "own_account" in _codes(response)
    assert _roles(app, "admin") == {"admin"}


def test_an_administrator_is_never_given_an_operational_role(app, api):
    response = api.post(f"{P}/users/{_id(app, 'admin2')}/roles", as_="admin",
                        json={"roles": ["admin", "qa"], "reason": "help QA"})
    assert response.status_code == 409 and _codes(response) == ["admin_with_operational_role"]
    response = api.post(f"{P}/users/{_id(app, 'qa')}/roles", as_="admin", json={"roles": ["qa", "admin"],
                                                                                 "reason": "make QA an admin"})
    assert response.status_code == 409 and _codes(response) == ["admin_with_operational_role"]
    assert _roles(app, "admin2") == {"admin"} and _roles(app, "qa") == {"qa"}


@pytest.mark.parametrize(("username", "roles", "code"), [("lab", ["lab", "qa"], "qa_with_lab"),
                                                          ("qc", ["qc", "qa"], "qa_with_qc"),
                                                          ("qa", ["qa", "lab"], "qa_with_lab")])
def test_lab_or_qc_with_qa_on_one_account_is_refused(app, api, username, roles, code):
    response = api.post(f"{P}/users/{_id(app, username)}/roles", as_="admin", json={"roles": roles,
                                                                                    "reason": "short-staffed"})
    assert response.status_code == 409 and _codes(response) == [code]
    with app.app_context():
        assert db.session().exec(select(RoleGrant)).first() is None


def test_a_site_that_allows_qa_with_lab_can_grant_it():
    assert [r.code for r in role_set_refusals({"lab", "qa"})] == ["qa_with_lab"]
    assert role_set_refusals({"lab", "qa"}, allow_qa_with_lab_or_qc=True) == []
    assert role_set_refusals({"qc", "qa", "nurse"}, allow_qa_with_lab_or_qc=True) == []
    assert [r.code for r in role_set_refusals({"admin", "auditor"}, allow_qa_with_lab_or_qc=True)] == [
        "admin_with_operational_role"]


def test_a_role_grant_takes_effect_only_when_a_second_administrator_signs_it(app, api):
    change = _grant(api, "nurse", ["nurse", "coordinator"])
    grant = change["grant"]
    assert grant["status"] == "pending" and change["user"]["roles"] == ["nurse"]
    assert _roles(app, "nurse") == {"nurse"}
    assert [g["id"] for g in api.get(f"{P}/role-grants", as_="admin2").get_json()["grants"]] == [grant["id"]]

    approve = f"{P}/role-grants/{grant['id']}/approve"
    same = api.post(approve, as_="admin", json={"signature": signature("admin", "approved")})
    assert same.status_code == 409 and _codes(same) == ["grant_same_admin"]
    assert _roles(app, "nurse") == {"nurse"}

    done = api.post(approve, as_="admin2", json={"signature": signature("admin2", "approved")})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "approved"
    assert _roles(app, "nurse") == {"nurse", "coordinator"}
    again = api.post(approve, as_="admin2", json={"signature": signature("admin2", "approved")})
    assert again.status_code == 409 and _codes(again) == ["grant_not_pending"]
    with app.app_context():
        actions = [(e.record_type, e.action) for e in db.session().exec(
            select(AuditEntry).where(AuditEntry.record_type.in_(["role_grant", "signature"])).order_by(AuditEntry.seq))]
    assert actions == [("role_grant", "request"), ("signature", "sign"), ("role_grant", "approve")]


def test_a_wrong_password_on_the_approval_grants_nothing(app, api):
    grant = _grant(api, "coordinator", ["coordinator", "investigator"])["grant"]
    wrong = api.post(f"{P}/role-grants/{grant['id']}/approve", as_="admin2",
                     json={"signature": signature("admin2", "approved", password="not-the-password")})
    assert wrong.status_code == 401
    assert _roles(app, "coordinator") == {"coordinator"}


def test_the_second_administrator_signs_with_his_own_account(app, api):
    grant = _grant(api, "coordinator", ["coordinator", "investigator"])["grant"]
    response = api.post(f"{P}/role-grants/{grant['id']}/approve", as_="admin2",
                        json={"signature": signature("admin", "approved")})
    assert response.status_code == 409 and "signer_not_actor" in _codes(response)


def test_taking_a_role_away_is_done_at_once(app, api):
    with app.app_context():
        user = accounts.create_user(db.session(), actor=None, username="twohats", full_name="Two Hats",
                                    password="two-hats-password", roles=["nurse", "coordinator"],
                                    policy=accounts.Policy(hash_method=FAST_HASH))
        db.commit()
        user_id = user.id
    response = api.post(f"{P}/users/{user_id}/roles", as_="admin", json={"roles": ["nurse"], "reason": "left trial"})
    assert response.status_code == 200 and response.get_json()["grant"] is None
    assert _roles(app, "twohats") == {"nurse"}


def test_a_new_account_made_on_the_page_has_no_role_until_a_second_administrator_signs(app, client, auth):
    auth.login("admin")
    created = auth.post("/admin/users", {"username": "newlab", "full_name": "New Lab", "password": "new-lab-password",
                                         "roles": "lab"})
    assert created.status_code == 303
    assert _roles(app, "newlab") == set()
    with app.app_context():
        grant = db.session().exec(select(RoleGrant).where(RoleGrant.status == "pending")).one()
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'data-grant="{grant.id}"' in page and "Another administrator signs this grant" in page
    auth.logout()
    auth.login("admin2")
    approved = auth.post(f"/admin/role-grants/{grant.id}/approve", {
        "signature_username": "admin2", "signature_password": demo.DEMO_PASSWORD, "signature_meaning": "approved"})
    assert approved.status_code == 303, approved.get_data(as_text=True)[:500]
    assert _roles(app, "newlab") == {"lab"}


def test_nobody_unlocks_their_own_account(app, api):
    with app.app_context():
        session = db.session()
        admin = accounts.find_user(session, "admin")
        with pytest.raises(Refused) as refused:
            accounts.unlock(session, actor=admin, user_id=admin.id, reason="locked myself out")
        assert [r.code for r in refused.value.reasons] == ["own_account"]


def test_create_user_command_refuses_admin_with_qa(runner):
    result = runner.invoke(args=["create-user", "boss", "--role", "admin", "--role", "qa", "--name", "Boss"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 1
    assert "an administrator holds no other role" in result.output


def test_every_demo_account_follows_the_role_policy():
    assert all(role_set_refusals(roles) == [] for _name, _full, roles in demo.PEOPLE)
    assert sum("admin" in roles for _name, _full, roles in demo.PEOPLE) >= 2


def test_a_new_account_waiting_for_its_grant_logs_in_and_opens_no_operational_page(app, client, auth):
    auth.login("admin")
    created = auth.post("/admin/users", {"username": "waiting", "full_name": "Waiting Person",
                                         "password": "amber-orchard-42", "roles": "qa"})
    assert created.status_code == 303
    auth.logout()
    assert auth.login("waiting", "amber-orchard-42").status_code == 302
    assert client.get("/").status_code in (200, 302)
    assert client.get("/qa/").status_code == 403
