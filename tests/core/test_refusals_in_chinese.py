"""A reader of Chinese reads every refusal in Chinese: who may do what, the words a rule fills into its
reason, and the names of the standard QC tests (docs/architecture.md, "Languages")."""

from __future__ import annotations

import ast
import html

from cellchain.core.config import ROOT
from tests.core.test_languages import _catalogue

GATES = {"roles_required", "require_role", "sign"}


def _chinese(auth, username: str) -> None:
    auth.login(username)
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303


def _action_arguments() -> list[tuple[str, ast.expr]]:
    """Every ``action=`` given to a role gate (a view's decorator, a service's check, a signature's roles)."""
    found = []
    for path in sorted((ROOT / "cellchain").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                found += [(f"{path.relative_to(ROOT)}:{node.lineno}", kw.value) for kw in node.keywords
                          if name in GATES and kw.arg == "action"]
    return found


def test_every_action_a_role_gate_names_is_marked_for_the_catalogue_not_written_in_english():
    # A literal or an f-string would reach the refusal untranslated; N_ (or a name holding N_ phrases) is
    # looked up when the refusal is made, and test_languages holds every N_ phrase to a translation.
    unmarked = [f"{where}: {ast.unparse(value)}" for where, value in _action_arguments()
                if isinstance(value, ast.Constant | ast.JoinedStr)]
    assert unmarked == []
    assert len(_action_arguments()) > 300


def test_every_page_and_api_route_names_its_refused_action_in_chinese(app):
    catalogue = _catalogue()
    gated = {name: view.required_action for name, view in app.view_functions.items()
             if getattr(view, "required_roles", None)}
    assert len(gated) > 250
    untranslated = sorted(f"{name}: {action!r}" for name, action in gated.items()
                          if catalogue.get(action) is None or not catalogue.get(action).string)
    assert untranslated == []


def test_a_nurse_reading_chinese_is_refused_the_qa_review_queue_in_chinese(client, auth):
    _chinese(auth, "nurse")
    response = client.get("/qa/")
    assert response.status_code == 403
    page = html.unescape(response.get_data(as_text=True))
    assert "只有QA 审核员或稽查员 / 监查员可以查看 QA 审核队列" in page
    assert "only a" not in page and "may see" not in page


def test_a_nurse_reading_chinese_is_refused_deviations_in_chinese_by_the_api(client, auth):
    _chinese(auth, "nurse")
    response = client.get("/api/v1/deviations")
    assert response.status_code == 403
    assert response.get_json()["error"] == "只有QA 审核员或QC 检验员或稽查员 / 监查员可以查看偏差"


def test_the_api_words_a_refusal_in_the_sites_language_for_a_token(app, api):
    app.config["DEFAULT_LANGUAGE"] = "zh"
    response = api.post("/api/v1/deviations", as_="nurse", json={})
    assert response.status_code == 403
    assert response.get_json()["error"] == "只有QA 审核员可以开立偏差"


def test_an_english_reader_is_refused_in_english_as_before(client, auth, api):
    auth.login("nurse")
    page = html.unescape(client.get("/qa/").get_data(as_text=True))
    assert "only a QA reviewer or Auditor / monitor may see the QA review queue" in page
    response = api.post("/api/v1/deviations", as_="nurse", json={})
    assert response.get_json()["error"] == "only a QA reviewer may open a deviation"


# --- the words a rule fills into its reason ----------------------------------------------------------------

def _in_chinese(app):
    """A request of a reader who chose Chinese, for the reasons a rule makes without a page around them."""
    from flask import session
    context = app.test_request_context("/")
    context.push()
    session["language"] = "zh"
    return context


def test_a_lab_technician_reading_chinese_reads_a_refused_freeze_with_its_bank_levels_in_chinese(app, auth):
    from tests.factories.lab import in_db, make_lot
    with in_db(app) as session:
        lot = make_lot(session)
        lot.purpose = "bank"
        session.add(lot)
        din = lot.din
    _chinese(auth, "lab")
    response = auth.post(f"/banks/lots/{din}/freeze", {"level": "WCB", "passage": "3", "vial_count": "6",
                                                       "cells_per_vial": "5000000", "cryoprotectant": "5% DMSO"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "由脐带启动的批次制备MCB，而不是WCB" in page
    assert "该批次尚未传代至 P3（当前为 尚未传代）" in page
    assert "the cord" not in page and "no passage yet" not in page


def test_a_qa_reviewer_reading_chinese_reads_a_deviation_move_refused_in_chinese(app, api):
    from tests.factories.qc import SAMPLED, add_results, db_session, make_lot
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("endotoxin",))
        lot_id = lot.lot_number
    number = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                      json={**SAMPLED, "test": "endotoxin", "value": 6.1}).get_json()["deviation"]
    app.config["DEFAULT_LANGUAGE"] = "zh"
    response = api.post(f"/api/v1/deviations/{number}/decide", as_="qa",
                        json={"decision": "accept", "justification": "retest within limit"})
    assert response.status_code == 409
    (reason,) = response.get_json()["reasons"]
    assert reason["code"] == "deviation_not_investigated" and reason["params"]["move"] == "decide"
    assert "要决定，它必须为" in reason["message"] and "decide" not in reason["message"]


def test_a_lab_technician_reading_chinese_is_told_a_released_lot_takes_no_passage_in_chinese(app, api):
    from tests.factories.lab import days_ago, in_db, iso, make_lot
    with in_db(app) as session:
        din = make_lot(session, status="released").din
    app.config["DEFAULT_LANGUAGE"] = "zh"
    response = api.post(f"/api/v1/lots/{din}/passages", as_="lab", json={
        "number": 0, "seeded_cells": 1_000_000, "harvested_cells": 4_000_000, "viability_pct": 95,
        "seeded_at": iso(days_ago(2)), "harvested_at": iso(days_ago(1))})
    assert response.status_code == 409
    reason = next(r for r in response.get_json()["reasons"] if r["code"] == "lot_not_in_process")
    assert reason["params"]["action"] == "take a passage"
    assert "已放行；只有生产中的批次才能传代" in reason["message"]


def test_custody_and_vial_refusals_word_their_states_and_hints_in_chinese(app):
    from cellchain.banking.rules import tiers
    from cellchain.ward.rules import custody_states
    context = _in_chinese(app)
    try:
        (not_at_lab, _unreleased) = tiers.guard_thaw(vial_state="frozen", custody_state=None, bank_level="WCB",
                                                     bank_status="awaiting_release", purpose="dosing",
                                                     dosing_from_mcb=False)
        assert not_at_lab.message == "该冻存管未冻存；请先从储存位置取出"
        assert not_at_lab.params["where"] == "not_frozen"
        hint = custody_states.impossible_move("bag", "at_lab", "infused").message
        assert "请先" in hint and "first" not in hint and "dispatch" not in hint
    finally:
        context.pop()


def test_an_inconsistent_fatal_event_names_what_it_gives_and_lacks_in_chinese(app):
    from cellchain.safety.rules import assessment
    from tests.safety.test_safety_rules import NOW, _read
    context = _in_chinese(app)
    try:
        (refused,) = assessment.conflicts(_read(grade=5, outcome="recovering"), now=NOW, site_today=NOW.date())
        assert refused.params == {"given": "5 级", "missing": "转归为死亡、严重性标准为死亡"}
        assert "5 级" in refused.message and "grade 5" not in refused.message
    finally:
        context.pop()
    (english,) = assessment.conflicts(_read(grade=5, outcome="recovering"), now=NOW, site_today=NOW.date())
    assert english.params == {"given": "grade 5", "missing": "outcome fatal, seriousness criterion death"}
