"""A refused new account shows the users page again: the form with what was typed and ticked, the reason
beside it, and nothing written (never the error page)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from cellchain.core import db
from cellchain.people.models import User
from tests.factories.security import audit_count

GOOD = {"full_name": "Grace Hopper", "password": "long-password-x"}


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        session = db.session()
        return session.exec(select(func.count()).select_from(User)).one(), audit_count(session)


@pytest.mark.parametrize(("username", "roles", "status", "words"), [
    ("lab", ["qa"], 400, "&#39;lab&#39; is taken"),
    ("grace", ["surgeon"], 400, "unknown: surgeon"),
    ("grace", ["qa", "lab"], 409, "may not be both QA reviewer and Lab technician"),
    ("grace", ["admin", "nurse"], 409, "an administrator holds no other role"),
    ("grace", [], 400, "choose from"),
])
def test_a_refused_new_account_shows_its_form_again_with_the_reason_and_writes_nothing(
        app, auth, username, roles, status, words):
    auth.login("admin")
    before = _counts(app)
    response = auth.post("/admin/users", {**GOOD, "username": username, "roles": roles})
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'data-testid="new-account"' in page and 'data-testid="refusal"' in page and words in page
    assert f'name="username" value="{username}"' in page and 'value="Grace Hopper"' in page
    for role in roles:
        if role != "surgeon":
            assert f'value="{role}" checked' in page.split('data-testid="new-account"')[1]
    assert 'type="password" name="password" required' in page and "long-password-x" not in page
    assert _counts(app) == before
