"""Each demo person logs in through the browser and sees the menu of their own work."""

from __future__ import annotations

import pytest

from cellchain.demo.loader import PEOPLE
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

MUST_SEE = {"admin": ["Users"], "auditor": ["Audit trail"], "qa": ["Audit trail"]}
MUST_NOT_SEE = {"nurse": ["Users", "Audit trail"], "lab": ["Users", "Audit trail"], "qc": ["Users"],
                "coordinator": ["Users", "Audit trail"], "nurse2": ["Users"]}


@pytest.mark.parametrize("username", [p[0] for p in PEOPLE])
def test_each_demo_role_logs_in_and_sees_its_own_navigation(page, username):
    login(page, username)
    page.wait_for_selector("[data-testid=current-user]")
    page.shots(f"{username}-home")
    full_name = next(name for user, name, _roles in PEOPLE if user == username)
    assert page.inner_text("[data-testid=current-user]") == full_name
    menu = page.locator("header nav a").all_inner_texts()
    for label in MUST_SEE.get(username, []):
        assert label in menu
    for label in MUST_NOT_SEE.get(username, []):
        assert label not in menu


def test_wrong_password_shows_the_reason_in_words(page):
    login(page, "lab", "wrong-password")
    alert = page.locator("[role=alert]")
    assert "username or password is wrong" in alert.inner_text()
    page.shots("refused")
