"""A person who chooses Chinese on the Language page reads every role's main pages in Chinese: the page says
it is simplified Chinese (``<html lang="zh-Hans">``) and the menu is in Chinese (docs/architecture.md,
"Languages"). A screenshot of each page goes to test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

ROLES = ("lab", "qc", "qa", "coordinator", "nurse", "investigator", "admin", "auditor")
# The shared pages a role opens from its menu (the inbox from the top bar, for everyone).
SHARED = {"/scan/": "scan-station", "/reports/": "reports", "/audit/": "audit-trail"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SAME_IN_BOTH = {"QC"}  # a menu entry written alike in both languages


def _choose_chinese(page) -> None:
    page.click("[data-testid=language-link]")
    page.check("input[name=language][value=zh]")
    page.click("form[action$='/auth/language'] button[type=submit]")
    page.wait_for_selector("html[lang=zh-Hans]")


def _assert_chinese(page, where: str) -> None:
    assert page.get_attribute("html", "lang") == "zh-Hans", where
    menu = [label.strip() for label in page.locator("header nav a").all_inner_texts()]
    assert menu, where
    english = [label for label in menu if not CHINESE.search(label) and label not in SAME_IN_BOTH]
    assert english == [], f"{where}: menu entries in English {english}"
    top_bar = page.inner_text("[data-testid=inbox-link]") + page.inner_text("[data-testid=language-link]")
    assert "收件箱" in top_bar and "语言" in top_bar, where
    assert "北京时间" in page.inner_text("footer"), where


@pytest.mark.parametrize("role", ROLES)
def test_a_person_who_chooses_chinese_reads_their_main_pages_in_chinese(page, role):
    login(page, role)
    page.wait_for_selector("[data-testid=current-user]")
    _choose_chinese(page)
    page.goto("/")
    page.wait_for_selector("[data-testid=dashboard]")
    _assert_chinese(page, f"{role} home")
    assert CHINESE.search(page.inner_text("h1")), f"{role} home greets in Chinese"
    page.shots(f"{role}-home")

    links = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    page.click("[data-testid=inbox-link]")
    page.wait_for_selector("h1")
    _assert_chinese(page, f"{role} inbox")
    assert page.inner_text("h1") == "收件箱"
    page.shots(f"{role}-inbox")

    for path, name in SHARED.items():
        if path in links:
            page.goto(path)
            page.wait_for_selector("h1")
            _assert_chinese(page, f"{role} {name}")
            assert CHINESE.search(page.inner_text("h1")), f"{role} {name} has its title in Chinese"
            page.shots(f"{role}-{name}")
