"""One person, one account: a user name already given is never given again (21 CFR 11.100(a), 11.300(a))."""

from __future__ import annotations

from sqlmodel import func, select

from cellchain.core import db
from cellchain.people.models import User


def accounts_named(app, username: str) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(User).where(User.username == username)).one()


def test_an_administrator_cannot_create_a_second_account_with_a_taken_user_name(app, client, auth):
    auth.login("admin")
    response = auth.post("/admin/users", {"username": "nurse", "full_name": "Another Nurse",
                                          "password": "a-long-unusual-passphrase", "roles": ["nurse"]})
    assert response.status_code == 400
    assert b"username" in response.data and b"is taken" in response.data
    assert accounts_named(app, "nurse") == 1


def test_the_command_line_cannot_create_a_second_account_with_a_taken_user_name(app):
    result = app.test_cli_runner().invoke(args=["create-user", "qa", "--role", "qa", "--name", "Q A"],
                                          input="a-long-unusual-passphrase\na-long-unusual-passphrase\n")
    assert result.exit_code == 1 and "is taken" in result.output
    assert accounts_named(app, "qa") == 1
