"""The auditor reads the chain's verdict, its newest checkpoint and a forged entry's number on a 390 px screen,
without sideways scroll (the 64-character hashes wrap)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from cellchain.audit.rules.hash_chain import entry_hash
from cellchain.core import db
from tests.browser.conftest import login

pytestmark = pytest.mark.browser
WIDTH = 390


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, f"{page.url} scrolls sideways"


def _forge(app) -> int:
    engine = create_engine(db.normalize_url(app.config["DATABASE_URL"]))
    with engine.begin() as conn:
        seq, prev = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
        entry = {"seq": seq + 1, "recorded_at": "2026-12-01T09:00:00.000000Z", "actor": "qa", "record_type": "lot",
                 "record_id": "7", "action": "release", "old_values": None, "new_values": '{"status":"released"}',
                 "reason": None, "prev_hash": prev}
        entry["hash"] = entry_hash(**entry)
        conn.execute(text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                          "new_values, prev_hash, hash) VALUES (:seq, :recorded_at, :actor, :record_type, :record_id, "
                          ":action, :new_values, :prev_hash, :hash)"), entry)
    engine.dispose()
    return seq + 1


def test_auditor_sees_the_checkpoint_and_the_forged_entry_on_a_phone(app, runner, browser, live_server):
    assert runner.invoke(args=["audit-checkpoint"]).exit_code == 0
    context = browser.new_context(base_url=live_server, viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, "auditor")
        page.goto("/audit/verify")
        assert "Intact" in page.inner_text("[data-testid=chain-verdict]")
        assert "signed with key" in page.inner_text("[data-testid=chain-checkpoint]")
        _fits(page)
        forged = _forge(app)
        page.goto("/audit/verify")
        assert "Broken" in page.inner_text("[data-testid=chain-verdict]")
        assert str(forged) in page.inner_text("[data-testid=chain-problems]")
        _fits(page)
        page.click("text=Verify the whole chain")
        assert "no seal" in page.inner_text("[data-testid=chain-problems]")
        _fits(page)
    finally:
        context.close()
