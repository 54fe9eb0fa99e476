"""QA release and rejection (docs/rules.md, "Quality: release"): every failing element refused by name, nothing
written on a refusal, the decision reaching every bag, and nothing about the results changing after it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from cellchain.audit.models import AuditEntry, Signature
from cellchain.core import db
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.quality.models import Deviation
from cellchain.ward.models import CustodyEvent
from tests.conftest import signature
from tests.factories.qc import PASSING, SAMPLED, add_excursion, add_results, db_session, give_role, make_lot, user

RELEASE = "/api/v1/lots/{}/release"
REJECT = "/api/v1/lots/{}/reject"


def _ready_lot(app, **kwargs) -> str:
    with db_session(app) as session:
        lot = make_lot(session, **kwargs)
        add_results(session, lot)
        return lot.lot_number


def _state(app, lot_id: str) -> tuple[str, list[str], int]:
    """(lot status, bag quality statuses, signatures on the lot): what a refusal must leave untouched."""
    with app.app_context():
        session = db.session()
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        bags = [b.quality_status for b in session.exec(select(Bag).where(Bag.lot_id == lot.id))]
        signed = session.exec(select(Signature).where(Signature.record_type == "lot",
                                                      Signature.record_id == str(lot.id))).all()
        return lot.status, bags, len(signed)


def _codes(response) -> list[str]:
    return [r["code"] for r in response.get_json()["reasons"]]


def test_qa_releases_a_complete_lot_and_its_bags_leave_quarantine(app, api):
    lot_id = _ready_lot(app)
    response = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "released" and body["signature"]["meaning"] == "released"
    assert body["signature"]["name"] == "Wang Fang (QA reviewer)"
    assert _state(app, lot_id) == ("released", ["released", "released"], 1)
    with app.app_context():
        entries = db.session().exec(select(AuditEntry).where(AuditEntry.action.in_(("release", "lot_released")),
                                                             AuditEntry.record_type != "material_lot")).all()
        assert sorted((e.record_type, e.action) for e in entries) == [
            ("bag", "lot_released"), ("bag", "lot_released"), ("lot", "release")]


def _setup(session, case: str) -> Lot:
    """A lot that fails release for exactly one reason, ``case``."""
    if case == "lot_not_filled":
        lot = make_lot(session, status="in_process")
    elif case == "batch_record_incomplete:missing":
        lot = make_lot(session, skip_steps=("wash",))
    elif case == "batch_record_incomplete:unverified":
        lot = make_lot(session, unverified_steps=("fill",))
    elif case == "donor_not_eligible":
        lot = make_lot(session, eligibility="ineligible")
    elif case == "donor_determination_pending":
        lot = make_lot(session, eligibility="pending")
    elif case == "reviewer_made_lot:started":
        give_role(session, "qa", "lab")
        lot = make_lot(session, maker="qa")
    elif case == "reviewer_made_lot:verified":
        give_role(session, "qa", "lab")
        lot = make_lot(session, verifier="qa")
    else:
        lot = make_lot(session)
    skip = ("viability",) if case == "qc_missing" else ()
    values = {"cd45": 3.5} if case == "qc_out_of_spec" else {}
    add_results(session, lot, skip=skip, values=values, by="qa" if case == "reviewer_tested_lot" else "qc")
    if case == "deviation_open":
        session.add(Deviation(number="DEV-2026-0900", lot_id=lot.id, kind="procedural", description="label smudged"))
    if case == "excursion_open:bag":
        bag = session.exec(select(Bag).where(Bag.lot_id == lot.id)).first()
        add_excursion(session, item_type="bag", item_id=bag.id)
    if case == "excursion_open:collection":
        add_excursion(session, item_type="collection", item_id=lot.collection_id)
    return lot


@pytest.mark.parametrize("case", [
    "lot_not_filled", "qc_missing", "qc_out_of_spec", "deviation_open", "batch_record_incomplete:missing",
    "batch_record_incomplete:unverified", "donor_not_eligible", "donor_determination_pending",
    "excursion_open:bag", "excursion_open:collection",
    "reviewer_made_lot:started", "reviewer_made_lot:verified", "reviewer_tested_lot",
])
def test_release_is_refused_for_each_failing_element_by_name(app, api, case):
    with db_session(app) as session:
        lot = _setup(session, case)
        lot_id, before = lot.lot_number, lot.status
    response = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 409, response.get_json()
    assert _codes(response) == [case.split(":")[0]]
    assert _state(app, lot_id) == (before, ["quarantine", "quarantine"], 0)


def test_release_names_every_failing_element_at_once(app, api):
    with db_session(app) as session:
        give_role(session, "qa", "lab")
        lot = make_lot(session, status="in_process", eligibility="ineligible", skip_steps=("harvest",), maker="qa")
        add_results(session, lot, skip=("sterility", "cell_count"), values={"viability": 50})
        add_results(session, lot, by="qa", skip=tuple(code for code in PASSING if code != "cell_count"))
        lot_id = lot.lot_number
    response = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 409
    assert set(_codes(response)) == {"lot_not_filled", "qc_missing", "qc_out_of_spec", "batch_record_incomplete",
                                     "donor_not_eligible", "reviewer_made_lot", "reviewer_tested_lot"}
    messages = " ".join(r["message"] for r in response.get_json()["reasons"])
    assert "sterility" in messages and "viability" in messages and "harvest" in messages


def test_qa_who_recorded_a_result_through_the_api_cannot_release_the_lot(app, api):
    with db_session(app) as session:
        give_role(session, "qa", "qc")
        lot = make_lot(session)
        add_results(session, lot, skip=("karyotype",))
        lot_id = lot.lot_number
    assert api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qa",
                    json={**SAMPLED, "test": "karyotype", "value": "normal"}).status_code == 201
    response = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 409 and _codes(response) == ["reviewer_tested_lot"]
    with db_session(app) as session:
        user(session, "qa2", roles=("qa",), full_name="Huang Li (second QA reviewer)")
    released = api.post(RELEASE.format(lot_id), as_="qa2", json={"signature": signature("qa2", "released")})
    assert released.status_code == 200 and released.get_json()["signature"]["name"] == "Huang Li (second QA reviewer)"


def test_wrong_signature_password_is_refused_with_401_and_nothing_is_written(app, api):
    lot_id = _ready_lot(app)
    response = api.post(RELEASE.format(lot_id), as_="qa",
                        json={"signature": signature("qa", "released", password="not-my-password")})
    assert response.status_code == 401
    assert _state(app, lot_id) == ("awaiting_release", ["quarantine", "quarantine"], 0)
    with app.app_context():
        entries = db.session().exec(select(AuditEntry).where(AuditEntry.record_type != "material_lot"))
        actions = [e.action for e in entries]
        assert "signature_failed" in actions and "release" not in actions


def test_signing_for_someone_else_is_refused(app, api):
    lot_id = _ready_lot(app)
    with db_session(app) as session:
        user(session, "qa2", roles=("qa",))
    response = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa2", "released")})
    assert response.status_code == 409 and _codes(response) == ["signer_not_actor"]
    assert _state(app, lot_id)[0] == "awaiting_release"


def test_release_needs_the_meaning_released_and_the_qa_role(app, api):
    lot_id = _ready_lot(app)
    wrong_meaning = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "reviewed")})
    assert wrong_meaning.status_code == 400 and "signature.meaning" in wrong_meaning.get_json()["fields"]
    assert api.post(RELEASE.format(lot_id), as_="qa", json={}).status_code == 400
    by_lab = api.post(RELEASE.format(lot_id), as_="lab", json={"signature": signature("lab", "released")})
    assert by_lab.status_code == 403
    assert _state(app, lot_id) == ("awaiting_release", ["quarantine", "quarantine"], 0)


def test_a_lot_is_released_once(app, api):
    lot_id = _ready_lot(app)
    first = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert first.status_code == 200
    again = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert again.status_code == 409 and "lot_decided" in _codes(again)
    assert api.post(REJECT.format(lot_id), as_="qa", json={"signature": signature("qa", "rejected"),
                                                            "reason": "second thoughts"}).status_code == 409


def test_a_result_after_release_is_a_new_row_and_the_stored_results_never_change(app, api, is_postgres):
    lot_id = _ready_lot(app)
    api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    listing = api.get(f"/api/v1/lots/{lot_id}/qc-results", as_="qc").get_json()
    viability = next(r for r in listing["results"] if r["test"] == "viability")
    repeat = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                      json={**SAMPLED, "test": "viability", "value": 60, "repeat_of": viability["id"],
                            "reason": "recount"})
    assert repeat.status_code == 201 and repeat.get_json()["after_release"] is True
    with app.app_context(), pytest.raises(DBAPIError, match="append-only"):
        db.session().execute(text("UPDATE qc_results SET value = '60' WHERE id = :id"), {"id": viability["id"]})
    after = api.get(f"/api/v1/lots/{lot_id}/qc-results", as_="qc").get_json()["results"]
    assert [r for r in after if r["id"] != repeat.get_json()["id"]] == \
        [{**r, "counts": r["counts"] and r["test"] != "viability"} for r in listing["results"]]


def test_reject_needs_a_reason_and_sends_the_bags_to_discard(app, api):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    no_reason = api.post(REJECT.format(lot_id), as_="qa", json={"signature": signature("qa", "rejected")})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    response = api.post(REJECT.format(lot_id), as_="qa", json={"signature": signature("qa", "rejected"),
                                                                "reason": "mycoplasma contamination suspected"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected" and response.get_json()["reason"].startswith("mycoplasma")
    assert _state(app, lot_id) == ("rejected", ["rejected", "rejected"], 1)
    with app.app_context():
        session = db.session()
        bags = session.exec(select(Bag).where(Bag.din == lot_id)).all()
        assert {b.custody_state for b in bags} == {"discarded"}
        events = session.exec(select(CustodyEvent).where(CustodyEvent.event == "discarded")).all()
        assert sorted(e.item_id for e in events) == sorted(b.id for b in bags)
    late = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc", json={**SAMPLED, "test": "viability", "value": 90})
    assert late.status_code == 409 and _codes(late) == ["lot_decided"]


def test_release_check_lists_the_gaps_for_the_asking_reviewer(app, api):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("endotoxin",))
        lot_id = lot.lot_number
    body = api.get(f"/api/v1/lots/{lot_id}/release-check", as_="qa").get_json()
    assert body["ready"] is False and [r["code"] for r in body["reasons"]] == ["qc_missing"]


def test_a_lot_whose_cord_qa_held_is_not_released_until_the_hold_is_lifted(app, api):
    lot_id = _ready_lot(app)
    with app.app_context():
        din = db.session().exec(select(Collection.din).join(Lot, Lot.collection_id == Collection.id)
                                .where(Lot.lot_number == lot_id)).one()
    placed = api.post("/api/v1/holds", as_="qa", json={"item_kind": "collection", "item_id": din,
                                                       "reason": "donor's late HBV NAT reactive",
                                                       "signature": signature("qa", "approved")})
    assert placed.status_code == 201, placed.get_json()
    hold_id = placed.get_json()["id"]
    refused = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert refused.status_code == 409 and _codes(refused) == ["item_on_hold"]
    message = refused.get_json()["reasons"][0]["message"]
    assert f"cord {din}" in message and f"hold {hold_id}" in message and "late HBV" in message
    assert _state(app, lot_id) == ("awaiting_release", ["quarantine", "quarantine"], 0)
    lifted = api.post(f"/api/v1/holds/{hold_id}/lift", as_="qa",
                      json={"reason": "repeat NAT negative, confirmed", "signature": signature("qa", "approved")})
    assert lifted.status_code == 200, lifted.get_json()
    released = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert released.status_code == 200, released.get_json()
