"""Release at two levels: a dosing lot thawed from a bank vial is released on its own tests plus the
results its banks were released on (named as inherited), never while a bank above it is unreleased or on
hold; and a positive result on a released bank holds every lot made from its vials."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cellchain.banking.models import CellBank, Vial
from cellchain.core import db
from cellchain.manufacturing.models import Lot
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, steps_for
from cellchain.quality import release
from cellchain.quality.models import Hold
from tests.factories import banking
from tests.factories.lab import days_ago, iso
from tests.factories.qc import SAMPLED, add_results


def _tree(app) -> dict[str, str]:
    """A cord with a released MCB, a released WCB and a dosing lot from a WCB vial: their lot numbers."""
    with app.app_context():
        session = db.session()
        cord = banking.banked_cord(session)
        mcb_lot, wcb_lot, dosing = session.exec(select(Lot).where(Lot.collection_id == cord.id).order_by(Lot.id))
        add_results(session, mcb_lot)
        add_results(session, wcb_lot)
        names = {"mcb": mcb_lot.lot_number, "wcb": wcb_lot.lot_number, "dosing": dosing.lot_number,
                 "din": cord.din}
        db.commit()
    return names


def _bank_sterility_positive(api, lot_id: str):
    """A retained sample of the bank cultured again after its release (a post-thaw vial) grows: a repeat
    of the bank's sterility result, with its reason."""
    results = api.get(f"/api/v1/lots/{lot_id}/qc-results", as_="qa").get_json()["results"]
    first = next(r for r in results if r["test"] == "sterility")
    return api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc", json={
        **SAMPLED, "sample_stage": "post_thaw", "test": "sterility", "value": "positive", "repeat_of": first["id"],
        "reason": "sterility culture of a thawed vial of the released bank"})


def _lot(session, number: str) -> Lot:
    return session.exec(select(Lot).where(Lot.lot_number == number)).one()


def test_a_positive_sterility_on_a_released_master_bank_holds_every_lot_made_from_its_vials(app, api):
    tree = _tree(app)
    result = _bank_sterility_positive(api, tree["mcb"])
    assert result.status_code == 201, result.get_json()
    with app.app_context():
        session = db.session()
        held = {session.get(Lot, h.lot_id).lot_number for h in session.exec(select(Hold)).all()}
    assert held == {tree["mcb"], tree["wcb"], tree["dosing"]}

    gaps = api.get(f"/api/v1/lots/{tree['dosing']}/release-check", as_="qa").get_json()
    assert "lot_on_hold" in {g["code"] for g in gaps["reasons"]}


def test_no_vial_of_a_bank_on_hold_starts_a_lot(app, api):
    tree = _tree(app)
    assert _bank_sterility_positive(api, tree["mcb"]).status_code == 201
    with app.app_context():
        session = db.session()
        mcb = session.exec(select(CellBank).where(CellBank.lot_id == _lot(session, tree["mcb"]).id)).one()
        spare = session.exec(select(Vial).where(Vial.bank_id == mcb.id, Vial.state == "frozen")
                             .order_by(Vial.number)).first().vial_code
    response = api.post("/api/v1/vials/thaw", as_="lab", json={
        "vial": spare, "purpose": "bank", "post_thaw_viability_pct": 92, "thawed_at": iso(days_ago(0.1))})
    assert response.status_code == 409
    assert "bank_on_hold" in {r["code"] for r in response.get_json()["reasons"]}


def test_a_dosing_lot_is_not_released_while_its_working_bank_is_not(app, api):
    tree = _tree(app)
    with app.app_context():
        session = db.session()
        wcb = _lot(session, tree["wcb"])
        wcb.status = "awaiting_release"
        session.add(wcb)
        db.commit()
    gaps = api.get(f"/api/v1/lots/{tree['dosing']}/release-check", as_="qa").get_json()["reasons"]
    named = [g for g in gaps if g["code"] == "source_bank_not_released"]
    assert named and tree["wcb"] in named[0]["message"] and "awaiting release" in named[0]["message"]


def test_qa_sees_the_results_a_dosing_lot_inherits_from_both_its_banks(app, client, auth):
    tree = _tree(app)
    auth.login("qa")
    html = client.get(f"/qa/lots/{tree['dosing']}").get_data(as_text=True)
    assert 'data-testid="inherited-results"' in html
    assert f"WCB-{tree['din']}-01" in html and f"MCB-{tree['din']}" in html
    assert html.index(f"WCB-{tree['din']}-01") < html.index(f"MCB-{tree['din']}</a>")


def test_the_release_signature_covers_the_banks_releases_and_a_lot_from_a_cord_signs_as_before(app):
    tree = _tree(app)
    with app.app_context():
        session = db.session()
        dosing = release.release_content(session, _lot(session, tree["dosing"]))
        mcb = release.release_content(session, _lot(session, tree["mcb"]))
    assert [i["lot"] for i in dosing["inherited"]] == [tree["wcb"], tree["mcb"]]
    assert "inherited" not in mcb


@pytest.mark.parametrize(("purpose", "from_vial", "expected"), [
    ("dosing", False, [s.code for s in DEFAULT_STEPS]),
    ("dosing", True, [s.code for s in DEFAULT_STEPS if s.code != "tissue_processing"]),
    ("bank", False, ["tissue_processing", "media_and_reagent_lots", "passage", "harvest", "bank_freeze"]),
    ("bank", True, ["media_and_reagent_lots", "passage", "harvest", "bank_freeze"]),
])
def test_a_lots_batch_record_asks_for_the_steps_of_its_kind(purpose, from_vial, expected):
    assert [s.code for s in steps_for(DEFAULT_STEPS, purpose=purpose, from_vial=from_vial)] == expected


def test_a_bank_freeze_waits_for_a_second_persons_verification():
    bank_steps = steps_for(DEFAULT_STEPS, purpose="bank", from_vial=False)
    assert next(s for s in bank_steps if s.code == "bank_freeze").needs_verification

