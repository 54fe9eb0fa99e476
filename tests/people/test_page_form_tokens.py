"""Page forms: a token lasts as long as the login session (a bedside page stays open for hours), and a
refused form never sends a password back to the browser."""

from __future__ import annotations

import time

import itsdangerous.timed
import pytest

from tests.factories.lab import in_db, snapshot


class _Clock:
    """``time`` as itsdangerous sees it, some hours ahead: the form was drawn that long ago."""

    def __init__(self, hours: float) -> None:
        self.ahead = hours * 3600

    def time(self) -> float:
        return time.time() + self.ahead


def test_a_form_drawn_hours_ago_still_posts_within_the_login_session(app, client, auth, monkeypatch):
    auth.login("nurse")
    token = auth.csrf()
    monkeypatch.setattr(itsdangerous.timed, "time", _Clock(hours=6))
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("password", ["short7!", "a-long-enough-secret-but-no-roles"])
def test_a_refused_new_account_keeps_what_was_typed_but_never_the_password(app, client, auth, password):
    auth.login("admin")
    with in_db(app) as session:
        before = snapshot(session)
    data = {"username": "new.nurse", "full_name": "New Nurse (test)", "password": password}
    if len(password) < 10:
        data["roles"] = "nurse"
    response = auth.post("/admin/users", data=data)
    page = response.data.decode()
    assert response.status_code == 400
    assert 'value="new.nurse"' in page and 'value="New Nurse (test)"' in page
    assert password not in page
    with in_db(app) as session:
        assert snapshot(session) == before
