"""Deviations: open -> investigated -> decided -> closed with a QA e-signature; other moves refused by name.
Only a closed deviation that QA accepted lets an out-of-specification result stand at release."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from tests.conftest import signature
from tests.factories.qc import SAMPLED, add_results, db_session, make_lot, user

DEV = "/api/v1/deviations/{}/{}"


@pytest.fixture
def oos(app, api) -> tuple[str, str]:
    """(lot id, deviation number): a lot ready but for one OOS endotoxin result, which opened a deviation."""
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("endotoxin",))
        lot_id = lot.lot_number
    body = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc", json={**SAMPLED,
                                                                         "test": "endotoxin", "value": 6.1}).get_json()
    return lot_id, body["deviation"]


def _investigate(api, number):
    return api.post(DEV.format(number, "investigate"), as_="qa",
                    json={"root_cause": "LAL reagent lot near expiry", "impact": "none on cells; assay artefact"})


def _decide(api, number, decision="accept", justification="retest of retained sample within limit; assay artefact"):
    return api.post(DEV.format(number, "decide"), as_="qa", json={"decision": decision, "justification": justification})


def _close(api, number, **kwargs):
    return api.post(DEV.format(number, "close"), as_="qa", json={"signature": signature("qa", "closed", **kwargs)})


def test_deviation_moves_through_its_states_with_a_closing_signature(app, api, oos):
    _lot_id, number = oos
    assert _investigate(api, number).get_json()["status"] == "investigated"
    assert _decide(api, number).get_json()["status"] == "decided"
    closed = _close(api, number)
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed" and body["closing_signature_id"] and body["closed_at"]
    with app.app_context():
        entries = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "deviation")
                                    .order_by(AuditEntry.seq))  # PostgreSQL returns rows in no set order
        actions = [e.action for e in entries]
        assert actions == ["open_automatic", "investigate", "decide", "close"]


def test_a_closed_accepted_deviation_lets_the_oos_result_stand_at_release(app, api, oos):
    lot_id, number = oos
    release = {"signature": signature("qa", "released")}
    refused = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json=release)
    assert {r["code"] for r in refused.get_json()["reasons"]} == {"qc_out_of_spec", "deviation_open"}
    _investigate(api, number)
    _decide(api, number)
    still = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json=release)
    assert {r["code"] for r in still.get_json()["reasons"]} == {"qc_out_of_spec", "deviation_open"}
    _close(api, number)
    assert api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json=release).status_code == 200


def test_a_rejected_deviation_does_not_cover_the_result(api, oos):
    lot_id, number = oos
    _investigate(api, number)
    _decide(api, number, decision="reject", justification="")
    _close(api, number)
    refused = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["qc_out_of_spec"]


@pytest.mark.parametrize(("steps", "move", "code"), [
    (0, "decide", "deviation_not_investigated"),
    (0, "close", "deviation_not_decided"),
    (1, "investigate", "deviation_not_open"),
    (1, "close", "deviation_not_decided"),
    (3, "investigate", "deviation_not_open"),
    (3, "decide", "deviation_not_investigated"),
    (3, "close", "deviation_not_decided"),
])
def test_a_move_from_the_wrong_status_is_refused_by_name(api, oos, steps, move, code):
    _lot_id, number = oos
    for step in (_investigate, _decide, _close)[:steps]:
        assert step(api, number).status_code == 200
    before = api.get(f"/api/v1/deviations/{number}", as_="qa").get_json()
    response = {"investigate": _investigate, "decide": _decide, "close": _close}[move](api, number)
    assert response.status_code == 409 and [r["code"] for r in response.get_json()["reasons"]] == [code]
    assert api.get(f"/api/v1/deviations/{number}", as_="qa").get_json() == before


def test_accepting_needs_a_justification(api, oos):
    _lot_id, number = oos
    _investigate(api, number)
    response = _decide(api, number, justification="  ")
    assert response.status_code == 400 and "justification" in response.get_json()["fields"]
    assert api.post(DEV.format(number, "decide"), as_="qa", json={"decision": "maybe"}).status_code == 400


def test_investigation_needs_root_cause_and_impact(api, oos):
    _lot_id, number = oos
    response = api.post(DEV.format(number, "investigate"), as_="qa", json={"root_cause": "x"})
    assert response.status_code == 400 and set(response.get_json()["fields"]) == {"impact"}


def test_closing_with_a_wrong_password_is_refused_and_the_deviation_stays_decided(api, oos):
    _lot_id, number = oos
    _investigate(api, number)
    _decide(api, number)
    assert _close(api, number, password="wrong-password").status_code == 401
    assert api.get(f"/api/v1/deviations/{number}", as_="qa").get_json()["status"] == "decided"
    wrong_meaning = api.post(DEV.format(number, "close"), as_="qa", json={"signature": signature("qa", "released")})
    assert wrong_meaning.status_code == 400


def test_closing_with_another_persons_signature_is_refused(app, api, oos):
    _lot_id, number = oos
    with db_session(app) as session:
        user(session, "qa2", roles=("qa",))
    _investigate(api, number)
    _decide(api, number)
    response = api.post(DEV.format(number, "close"), as_="qa", json={"signature": signature("qa2", "closed")})
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "signer_not_actor"


def test_only_qa_moves_a_deviation(api, oos):
    _lot_id, number = oos
    response = api.post(DEV.format(number, "investigate"), as_="qc", json={"root_cause": "a", "impact": "b"})
    assert response.status_code == 403


def test_qa_opens_a_deviation_by_hand_and_lists_them_by_status(api, oos):
    lot_id, number = oos
    response = api.post("/api/v1/deviations", as_="qa", json={"kind": "procedural", "lot_id": lot_id,
                                                               "description": "fill started 20 min late"})
    assert response.status_code == 201
    manual = response.get_json()
    assert manual["status"] == "open" and manual["lot_id"] == lot_id and manual["number"] != number
    listed = api.get("/api/v1/deviations?status=open", as_="auditor").get_json()["deviations"]
    assert {d["number"] for d in listed} == {number, manual["number"]}
    assert api.get("/api/v1/deviations?status=closed", as_="qa").get_json()["deviations"] == []
    assert api.get("/api/v1/deviations?status=nonsense", as_="qa").status_code == 400
    assert api.post("/api/v1/deviations", as_="qa", json={"kind": "whim", "description": ""}).status_code == 400
    assert api.post("/api/v1/deviations", as_="qc", json={"kind": "procedural", "description": "x"}).status_code == 403
    assert api.get("/api/v1/deviations/DEV-1999-0001", as_="qa").status_code == 404
