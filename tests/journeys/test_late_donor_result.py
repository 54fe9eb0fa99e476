"""A donor's maternal result comes back positive after the cord was banked and its dosing lots infused: the
cord and everything made from it are held in the same request, the look-back of the cord names exactly the
subjects who received any of it, and QA is told by mail through a real SMTP server."""

from __future__ import annotations

from email import message_from_bytes

from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Collection, Lot
from cellchain.quality import holds
from cellchain.quality.models import Hold
from cellchain.quality.recall import lookback
from tests.manufacturing.test_donor_results import _result
from tests.notices.test_outbox import QA_ADDRESS, _qa_address, flaky  # noqa: F401 - the SMTP server fixture
from tests.quality import recall_scene
from tests.quality.test_lookback import brute_force

VERIFY = "/api/v1/infusions/verify"


def _failed_checks(api, scene) -> set[str]:
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    return {c["name"] for c in verify.get_json()["checks"] if not c["ok"]}


def test_a_late_positive_maternal_result_holds_everything_from_the_cord_and_tells_qa_who_was_infused(
        app, api, flaky):  # noqa: F811 - the SMTP server fixture imported above
    _qa_address(api)
    flaky.refusals = 0
    tree = recall_scene.build(app, api)
    assert _failed_checks(api, tree.at_bedside) == set()

    response = _result(api, tree.din, test="HIV-1/2", result="positive")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["eligibility"] == "ineligible"

    with app.app_context():
        session = db.session()
        cord = session.exec(select(Collection).where(Collection.din == tree.din)).one()
        [hold] = session.exec(select(Hold).where(Hold.lifted_at.is_(None))).all()
        assert (hold.item_kind, hold.item_id) == ("collection", cord.id)
        # every lot at every tier is reached by the one hold; another cord's lot is not
        for lot in session.exec(select(Lot).where(Lot.collection_id == cord.id)):
            assert holds.item_refusals(session, "lot", lot.id), lot.lot_number
        other_lot = session.exec(select(Lot).where(Lot.collection_id != cord.id)).first()
        assert holds.item_refusals(session, "lot", other_lot.id) == []
        found = lookback.lookback(session, "collection", tree.din)
        expected_items, expected_subjects = brute_force(session, "collection", tree.din)
    assert {(i.kind, i.code) for i in found.items} == expected_items
    assert {(r.subject_code, r.bag_code, r.started_at.isoformat()) for r in found.subjects} == expected_subjects
    assert {r.subject_code for r in found.subjects} == {tree.infused.subject.subject_code,
                                                        tree.infused2.subject.subject_code}

    # the bag on the ward fails the bedside check; another cord's bag does not
    assert "lot_not_on_hold" in _failed_checks(api, tree.at_bedside)
    allocation = api.post(f"/api/v1/visits/{tree.visit_id}/allocation", as_="coordinator",
                          json={"bag_id": tree.shelf, "weight_kg": 70.0})
    assert allocation.status_code == 409
    assert "item_on_hold" in {r["code"] for r in allocation.get_json()["reasons"]}

    subjects = [message_from_bytes(content)["Subject"] for to, content in flaky.messages if to == [QA_ADDRESS]]
    assert any(f"POSITIVE donor HIV-1/2 on cord {tree.din}" in s for s in subjects), subjects
