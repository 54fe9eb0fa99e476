"""Browser fixtures: the app served on a free local port, and Debian's chromium driven by Playwright.

Never downloads a browser: it launches /usr/bin/chromium (CHROMIUM env to override). Screenshots of
each step go to test-artifacts/ so a reviewer can see what the user saw.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.shots = Shots(page, request.node.name)
    yield page
    context.close()


class Shots:
    """Numbered screenshots per test: test-artifacts/<test>/<nn>-<step>.png."""

    def __init__(self, page, test_name: str):
        self._page, self._dir, self._n = page, ARTIFACTS / test_name, 0

    def __call__(self, step: str) -> None:
        if self._n == 0 and self._dir.exists():
            shutil.rmtree(self._dir)  # screenshots of an earlier run would mix with this one's
        self._n += 1
        self._dir.mkdir(parents=True, exist_ok=True)
        self._page.screenshot(path=str(self._dir / f"{self._n:02d}-{step}.png"), full_page=True)


PHONE = {"width": 390, "height": 844}


def phone(browser, live_server):
    """A new browser context and page on a 390 px wide screen: ``(context, page)``; close the context."""
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def assert_fits(page, width: int = PHONE["width"]) -> None:
    """The page is no wider than the screen: nothing scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways"


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
