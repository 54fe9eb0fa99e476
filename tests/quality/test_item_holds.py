"""QA holds a cord, a cell bank, a lot or a bag with a reason and an e-signature; everything derived from
it is held (a bag through its lot, the banks its cells came through and its cord), refused by name at
allocation, dispatch, fill and the bedside, until QA lifts the hold with another e-signature. A recall is
a hold whose look-back goes to QA and the investigators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.banking.models import CellBank
from cellchain.core import db
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.notices.models import Notification
from cellchain.overview import alerts
from cellchain.quality import holds
from cellchain.quality.models import Hold
from cellchain.trial.models import Visit
from tests.conftest import PASSWORD, signature
from tests.factories import api_document, materials, ward
from tests.factories.lab import formulated_lot, in_db
from tests.quality import recall_scene
from tests.ward.test_frozen_bags import FILL
from tests.ward.test_infusion_start import START, start_body

VERIFY = "/api/v1/infusions/verify"
HOLDS = "/api/v1/holds"


@pytest.fixture
def tree(app, api) -> recall_scene.Tree:
    return recall_scene.build(app, api)


def _place(api, kind: str, code: str, *, as_: str = "qa", recall: bool = False, **extra):
    body = {"item_kind": kind, "item_id": code, "reason": "donor's late HIV NAT reactive", "recall": recall,
            "signature": signature(as_, "approved"), **extra}
    return api.post(HOLDS, as_=as_, json=body)


def _reasons(response) -> dict[str, str]:
    assert response.status_code == 409, response.get_json()
    return {r["code"]: r["message"] for r in response.get_json()["reasons"]}


def _failed_checks(api, scene: ward.Bedside) -> dict[str, str]:
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    return {c["name"]: c["detail"] for c in verify.get_json()["checks"] if not c["ok"]}


def test_qa_holds_a_cord_and_every_bag_from_it_is_refused_at_allocation_dispatch_and_the_bedside(app, api, tree):
    placed = _place(api, "collection", tree.din)
    assert placed.status_code == 201, placed.get_json()
    hold = placed.get_json()
    assert (hold["item_kind"], hold["item_id"], hold["open"], hold["lot_id"]) == ("collection", tree.din, True, None)
    assert {i["subject_id"] for i in hold["infused"]} == {tree.infused.subject.subject_code,
                                                          tree.infused2.subject.subject_code}
    allocation = api.post(f"/api/v1/visits/{tree.visit_id}/allocation", as_="coordinator",
                          json={"bag_id": tree.shelf, "weight_kg": 70.0})
    message = _reasons(allocation)["item_on_hold"]
    assert tree.shelf in message and f"cord {tree.din}" in message and f"hold {hold['id']}" in message
    assert api.post("/api/v1/custody", as_="lab", json={"item": tree.shelf, "event": "stored",
                                                        "location": "Cell processing lab"}).status_code == 201
    dispatch = api.post("/api/v1/custody", as_="lab", json={"item": tree.shelf, "event": "dispatched",
                                                            "location": "Cell processing lab, dispatch",
                                                            "temperature_c": 4.5})
    assert "late HIV NAT" in _reasons(dispatch)["item_on_hold"]
    failed = _failed_checks(api, tree.at_bedside)
    assert set(failed) == {"lot_not_on_hold"}
    assert f"cord {tree.din}" in failed["lot_not_on_hold"] and f"hold {hold['id']}" in failed["lot_not_on_hold"]
    start = api.post(START, as_="nurse", json=start_body(tree.at_bedside))
    assert start.status_code == 409 and "lot_not_on_hold" in str(start.get_json())
    other = api.post(VERIFY, as_="nurse", json={"wristband": tree.other.wristband, "bag": tree.other.bag_scan})
    assert "lot_not_on_hold" not in {c["name"] for c in other.get_json()["checks"] if not c["ok"]}


def test_a_hold_reaches_what_is_derived_from_the_item_and_nothing_it_came_from(app, api, tree):
    assert _place(api, "bank", tree.wcb).status_code == 201
    with app.app_context():
        session = db.session()

        def held(model, column, code) -> bool:
            row = session.exec(select(model).where(column == code)).one()
            kind = {Lot: "lot", CellBank: "bank", Bag: "bag", Collection: "collection"}[model]
            return bool(holds.holds_over(session, kind, row.id))

        assert held(Lot, Lot.lot_number, tree.dosing) and held(Lot, Lot.lot_number, tree.dosing2)
        assert held(Bag, Bag.bag_code, tree.shelf) and held(Bag, Bag.bag_code, tree.infused2.bag.bag_code)
        assert held(CellBank, CellBank.bank_code, tree.wcb)
        # the WCB came from its lot, and the lot from the MCB: neither is derived from the WCB
        assert not held(Lot, Lot.lot_number, tree.wcb_lot) and not held(CellBank, CellBank.bank_code, tree.mcb)
        assert not held(Collection, Collection.din, tree.din)
        assert not held(Bag, Bag.bag_code, tree.other.bag.bag_code)


def test_a_hold_on_one_bag_leaves_its_sibling_free(app, api, tree):
    placed = _place(api, "bag", tree.at_bedside.bag.bag_code)
    assert placed.status_code == 201, placed.get_json()
    failed = _failed_checks(api, tree.at_bedside)
    assert set(failed) == {"lot_not_on_hold"}
    assert failed["lot_not_on_hold"].startswith(f"bag {tree.at_bedside.bag.bag_code} is ON HOLD")
    allocation = api.post(f"/api/v1/visits/{tree.visit_id}/allocation", as_="coordinator",
                          json={"bag_id": tree.shelf, "weight_kg": 70.0})
    # the shelf bag may be refused for its own reasons (its expiry before the visit's window closes), never a hold
    codes = {r["code"] for r in (allocation.get_json() or {}).get("reasons", [])}
    assert allocation.status_code in (201, 409) and not codes & {"item_on_hold", "lot_on_hold"}, codes


def test_only_qa_places_a_hold_with_an_e_signature_and_a_reason(app, api, tree):
    assert _place(api, "lot", tree.dosing, as_="investigator").status_code == 403
    assert _place(api, "lot", tree.dosing, as_="qc").status_code == 403
    no_reason = _place(api, "lot", tree.dosing, reason=" ")
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    bad_kind = _place(api, "vessel", tree.dosing)
    assert bad_kind.status_code == 400 and "item_kind" in bad_kind.get_json()["fields"]
    assert _place(api, "lot", "NO-SUCH-LOT").status_code == 404
    wrong = _place(api, "lot", tree.dosing, signature=signature("qa", "approved", password="wrong-pass"))
    assert wrong.status_code == 401
    with app.app_context():
        assert db.session().exec(select(Hold)).all() == []
    placed = _place(api, "lot", tree.dosing)
    assert placed.status_code == 201 and placed.get_json()["raise_signature_id"]
    again = _place(api, "lot", tree.dosing)
    assert f"hold {placed.get_json()['id']}" in _reasons(again)["hold_already_open"]
    with app.app_context():
        session = db.session()
        entry = session.exec(select(AuditEntry).where(AuditEntry.record_type == "hold")).one()
        notices = session.exec(select(Notification)).all()
    assert entry.action == "raise" and entry.reason == "donor's late HIV NAT reactive"
    assert sorted(n.kind for n in notices) == ["item_on_hold", "item_on_hold"]  # the QA reviewer, the investigator


def test_a_bag_of_a_held_lot_is_refused_by_the_lots_words_and_lifting_the_hold_lets_it_through(app, api, tree):
    hold_id = _place(api, "lot", tree.dosing).get_json()["id"]
    failed = _failed_checks(api, tree.at_bedside)
    assert f"of lot {tree.dosing} is ON HOLD (hold {hold_id})" in failed["lot_not_on_hold"]
    lift = api.post(f"{HOLDS}/{hold_id}/lift", as_="qa", json={"signature": signature("qa", "approved"),
                                                              "reason": "donor retest negative"})
    assert lift.status_code == 200 and lift.get_json()["open"] is False
    assert _failed_checks(api, tree.at_bedside) == {}


def test_the_lab_cannot_fill_a_held_lot(app, api):
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lot = formulated_lot(session)
        number = lot.lot_number
    assert _place(api, "lot", number).status_code == 201
    filled = api.post(f"/api/v1/lots/{number}/bags", as_="lab", json=FILL)
    assert set(_reasons(filled)) == {"lot_on_hold"} and f"lot {number} is ON HOLD" in _reasons(filled)["lot_on_hold"]
    with app.app_context():
        assert db.session().exec(select(Bag).where(Bag.din == number)).all() == []


def test_a_rule_holds_a_cord_without_a_page_or_a_signature(app, api, tree):
    """What a donor's late positive result calls (``holds.place_hold``): held in the caller's transaction."""
    with app.app_context():
        session = db.session()
        cord = session.exec(select(Collection).where(Collection.din == tree.din)).one()
        row = holds.place_hold(session, "collection", cord.id, "donor's late HBV NAT reactive",
                               actor=ward.user(session, "qc"))
        db.commit()
        hold_id = row.id
    failed = _failed_checks(api, tree.at_bedside)
    assert f"hold {hold_id}" in failed["lot_not_on_hold"] and "HBV" in failed["lot_not_on_hold"]


def test_a_recall_sends_its_look_back_to_qa_and_the_investigators(app, api, tree):
    placed = _place(api, "bank", tree.mcb, recall=True)
    assert placed.status_code == 201 and placed.get_json()["recall"] is True
    for person in ("qa", "investigator"):
        (notice,) = api.get("/api/v1/inbox", as_=person).get_json()["notices"]
        assert notice["kind"] == "recall" and notice["link"] == f"/lookback/bank/{tree.mcb}"
        assert tree.infused.subject.subject_code in notice["body"]
        assert tree.infused2.subject.subject_code in notice["body"]
        assert tree.other.subject.subject_code not in notice["body"]
    assert api.get("/api/v1/inbox", as_="nurse").get_json()["notices"] == []
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "hold")).one()
    assert entry.action == "recall"


def test_qa_holds_a_bag_from_its_look_back_page_and_the_holds_list_names_it(app, client, auth, tree):
    code = tree.shelf
    auth.login("qa")
    page = client.get(f"/lookback/bag/{code}")
    assert page.status_code == 200 and b'data-testid="place-hold"' in page.data
    refused = auth.post(f"/lookback/bag/{code}/hold", {"reason": "", "signature_username": "qa",
                                                       "signature_password": PASSWORD,
                                                       "signature_meaning": "approved"})
    assert refused.status_code == 400 and b'data-testid="refusal"' in refused.data
    done = auth.post(f"/lookback/bag/{code}/hold", {"reason": "label printed on the wrong stock", "recall": "yes",
                                                    "signature_username": "qa", "signature_password": PASSWORD,
                                                    "signature_meaning": "approved"})
    assert done.status_code == 303 and "/qa/holds/" in done.headers["Location"]
    shown = client.get(done.headers["Location"])
    assert shown.status_code == 200 and code.encode() in shown.data and b"Recall" in shown.data
    listing = client.get("/qa/holds").data
    assert code.encode() in listing and b"label printed on the wrong stock" in listing
    again = client.get(f"/lookback/bag/{code}")
    assert b'data-testid="place-hold"' not in again.data and b"ON HOLD" in again.data
    auth.logout()
    auth.login("investigator")
    read = client.get(f"/lookback/bag/{code}")
    assert read.status_code == 200 and b'data-testid="place-hold"' not in read.data


def test_placing_a_hold_reading_it_and_the_look_back_answer_as_documented(app, api, client, tree):
    document = api_document.load(client)
    placed = _place(api, "collection", tree.din, recall=True)
    api_document.assert_documented(document, "POST", "/holds", placed)
    hold_id = placed.get_json()["id"]
    api_document.assert_documented(document, "GET", "/holds/{hold_id}", api.get(f"{HOLDS}/{hold_id}", as_="auditor"))
    lifted = api.post(f"{HOLDS}/{hold_id}/lift", as_="qa", json={"signature": signature("qa", "approved"),
                                                                "reason": "donor retest negative"})
    api_document.assert_documented(document, "POST", "/holds/{hold_id}/lift", lifted)
    back = api.get(f"/api/v1/lookback/collection/{tree.din}", as_="auditor")
    api_document.assert_documented(document, "GET", "/lookback/{kind}/{code}", back)


def test_the_coordinators_alert_counts_an_allocated_bag_a_cord_hold_reaches(app, api, tree):
    def unusable() -> int:
        with app.app_context():
            return alerts.unusable_allocated(db.session(), today=ward.site_today(),
                                             zone=ZoneInfo(app.config["SITE_TIMEZONE"]))

    with app.app_context():  # planned within the bag's shelf life, so nothing else makes the bag unusable
        visit = db.session().get(Visit, tree.at_bedside.visit.id)
        visit.planned_at = datetime.now(UTC) + timedelta(hours=1)
        db.session().add(visit)
        db.commit()
    before = unusable()
    assert _place(api, "collection", tree.din).status_code == 201
    assert unusable() == before + 1  # the bag on the ward allocated for today; the infused ones are done
