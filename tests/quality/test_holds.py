"""A lot released on rapid tests, whose 14-day sterility culture comes back positive after release: the
lot is held at once, every bag of it not yet infused is refused by name wherever it could move on, the
people who must act are told, and only QA's e-signature lifts the hold."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.manufacturing.models import Bag
from cellchain.notices.models import Notification
from cellchain.quality.models import Hold
from tests.conftest import PASSWORD, signature
from tests.factories import ward
from tests.factories.qc import SAMPLED
from tests.ward.test_infusion_start import START, start_body

VERIFY = "/api/v1/infusions/verify"


@dataclass
class HeldScene:
    lot_id: str
    infused: ward.Bedside  # a subject already infused from the lot
    at_bedside: ward.Bedside  # a bag on the ward, allocated for today
    in_store: str  # a bag still in the lab's store
    unallocated: str  # a bag on the shelf, for a coordinator to allocate
    visit_id: int  # an infusion visit waiting for a bag


def _released_lot_with_bags(app, api) -> HeldScene:
    with app.app_context():
        session = db.session()
        lot = ward.released_lot(session)
        lot.spec_version = "UCMSC-2"  # the dosing-lot specification: sterility is read after release
        session.add(lot)
        scenes = []
        for division in ("A0", "B0"):
            who = ward.subject(session)
            item = ward.to_ward(session, ward.bag(session, lot=lot, division=division))
            visit = ward.infusion_visit(session, who)
            scenes.append(ward.Bedside(who, item, visit, ward.allocate(session, item, visit, who)))
        stored = ward.bag(session, lot=lot, division="C0")
        ward.hand_over(session, stored, "stored", minutes_ago=30)
        shelf = ward.bag(session, lot=lot, division="D0")
        waiting = ward.infusion_visit(session, ward.subject(session))
        db.commit()
        scene = HeldScene(lot.lot_number, scenes[0], scenes[1], stored.bag_code, shelf.bag_code, waiting.id)
    infused = api.post(START, as_="nurse", json=start_body(scene.infused))
    assert infused.status_code == 201, infused.get_json()
    return scene


def _sterility(api, lot_id: str, value: str = "positive"):
    return api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                    json={**SAMPLED, "test": "sterility", "value": value})


@pytest.fixture
def held(app, api) -> HeldScene:
    scene = _released_lot_with_bags(app, api)
    response = _sterility(api, scene.lot_id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["after_release"] is True and body["within_spec"] is False and body["deviation"]
    return scene


def _hold(app) -> Hold:
    with app.app_context():
        return db.session().exec(select(Hold)).one()


def _reasons(response) -> dict[str, str]:
    assert response.status_code == 409, response.get_json()
    return {r["code"]: r["message"] for r in response.get_json()["reasons"]}


def test_a_negative_sterility_after_release_holds_nothing(app, api):
    scene = _released_lot_with_bags(app, api)
    response = _sterility(api, scene.lot_id, "negative")
    assert response.status_code == 201 and response.get_json()["after_release"] is True
    with app.app_context():
        assert db.session().exec(select(Hold)).all() == []
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.at_bedside.wristband,
                                                 "bag": scene.at_bedside.bag_scan})
    assert verify.get_json()["ok"] is True


def test_a_positive_sterility_after_release_holds_the_lot_in_the_same_transaction(app, held):
    hold = _hold(app)
    assert hold.lifted_at is None and "sterility" in hold.cause.lower() and "positive" in hold.cause
    with app.app_context():
        actions = {(e.record_type, e.action) for e in db.session().exec(select(AuditEntry))}
    assert {("qc_result", "create"), ("deviation", "open_automatic"), ("hold", "raise")} <= actions


def test_coordinator_cannot_allocate_a_bag_of_a_held_lot(app, api, held):
    response = api.post(f"/api/v1/visits/{held.visit_id}/allocation", as_="coordinator",
                        json={"bag_id": held.unallocated, "weight_kg": 70.0})
    message = _reasons(response)["lot_on_hold"]
    hold = _hold(app)
    assert held.unallocated in message and f"hold {hold.id}" in message and f"result {hold.qc_result_id}" in message


def test_lab_cannot_dispatch_a_bag_of_a_held_lot(app, api, held):
    response = api.post("/api/v1/custody", as_="lab", json={"item": held.in_store, "event": "dispatched",
                                                             "location": "Cell processing lab, dispatch",
                                                             "temperature_c": 4.5})
    message = _reasons(response)["lot_on_hold"]
    assert held.in_store in message and "ON HOLD" in message and "sterility" in message.lower()


def test_nurse_cannot_infuse_a_bag_of_a_held_lot_and_the_bedside_says_why(app, api, held):
    scene = held.at_bedside
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    failed = {c["name"]: c["detail"] for c in verify.get_json()["checks"] if not c["ok"]}
    assert set(failed) == {"lot_not_on_hold"}
    assert f"hold {_hold(app).id}" in failed["lot_not_on_hold"] and "positive" in failed["lot_not_on_hold"]
    start = api.post(START, as_="nurse", json=start_body(scene))
    assert start.status_code == 409 and "lot_not_on_hold" in str(start.get_json())


def test_the_hold_page_lists_every_subject_already_infused_from_the_lot(app, client, auth, held):
    hold = _hold(app)
    auth.login("investigator")
    page = client.get(f"/qa/holds/{hold.id}")
    assert page.status_code == 200
    infused = page.data[page.data.index(b'data-testid="infused-subjects"'):page.data.index(b'data-testid="held-bags"')]
    assert held.infused.subject.subject_code.encode() in infused and held.infused.bag.bag_code.encode() in infused
    assert b"week 0" in infused and held.at_bedside.subject.subject_code.encode() not in infused
    assert b"Sign and lift" not in page.data  # an investigator reads; only QA lifts
    home = client.get("/").data
    assert b'data-testid="panel-holds"' in home and held.lot_id.encode() in home


def test_qa_and_investigators_find_the_hold_in_their_inbox(app, client, auth, api, held):
    for person in ("qa", "investigator"):
        inbox = api.get("/api/v1/inbox", as_=person).get_json()
        assert inbox["unread"] == 1 and inbox["notices"][0]["kind"] == "lot_on_hold"
        assert held.lot_id in inbox["notices"][0]["subject"] and inbox["notices"][0]["link"].startswith("/qa/holds/")
    assert api.get("/api/v1/inbox", as_="nurse").get_json() == {"unread": 0, "notices": [], "next": None}
    auth.login("qa")
    page = client.get("/inbox/").data
    assert b'data-testid="inbox-unread">1<' in page and b"Mark read" in page
    notice_id = api.get("/api/v1/inbox", as_="qa").get_json()["notices"][0]["id"]
    marked = auth.post(f"/inbox/{notice_id}/read", {}, follow_redirects=True)
    assert marked.status_code == 200 and b'data-testid="inbox-unread"' not in marked.data
    auth.logout()
    (notice,) = api.get("/api/v1/inbox", as_="investigator").get_json()["notices"]
    assert api.post(f"/api/v1/inbox/{notice['id']}/read", as_="qa").status_code == 404  # not QA's own notice
    read = api.post(f"/api/v1/inbox/{notice['id']}/read", as_="investigator")
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert api.get("/api/v1/inbox", as_="investigator").get_json()["unread"] == 0


def test_only_qa_lifts_a_hold_with_an_e_signature_and_a_reason(app, api, held):
    hold_id = _hold(app).id
    lift = f"/api/v1/holds/{hold_id}/lift"
    body = {"signature": signature("qa", "approved"), "reason": "contaminant traced to the sampling bottle"}
    assert api.post(lift, as_="investigator", json=body).status_code == 403
    assert api.post(lift, as_="qc", json={**body, "signature": signature("qc", "approved")}).status_code == 403
    no_reason = api.post(lift, as_="qa", json={"signature": signature("qa", "approved"), "reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    wrong = api.post(lift, as_="qa", json={**body, "signature": signature("qa", "approved", password="wrong-pass")})
    assert wrong.status_code == 401 and _hold(app).lifted_at is None
    lifted = api.post(lift, as_="qa", json=body)
    assert lifted.status_code == 200, lifted.get_json()
    answer = lifted.get_json()
    assert answer["open"] is False and answer["lift_signature_id"] and answer["lift_reason"] == body["reason"]
    assert [i["subject_id"] for i in answer["infused"]] == [held.infused.subject.subject_code]
    assert _reasons(api.post(lift, as_="qa", json=body)).keys() == {"hold_not_open"}
    scene = held.at_bedside
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    assert verify.get_json()["ok"] is True


def test_qa_lifts_a_hold_on_its_page(app, client, auth, held):
    hold_id = _hold(app).id
    auth.login("qa")
    page = client.get(f"/qa/holds/{hold_id}")
    assert b"Sign and lift" in page.data
    done = auth.post(f"/qa/holds/{hold_id}/lift", {"reason": "sterility repeat negative; sampling error",
                                                   "signature_username": "qa", "signature_password": "x" * 3,
                                                   "signature_meaning": "approved"}, follow_redirects=True)
    assert done.status_code == 401 and _hold(app).lifted_at is None
    done = auth.post(f"/qa/holds/{hold_id}/lift", {"reason": "sterility repeat negative; sampling error",
                                                   "signature_username": "qa", "signature_password": PASSWORD,
                                                   "signature_meaning": "approved"}, follow_redirects=True)
    assert done.status_code == 200 and b"Hold %d lifted" % hold_id in done.data
    assert _hold(app).lift_signature_id is not None


def test_only_one_hold_stays_open_per_lot(app, api, held):
    with app.app_context():
        bag = db.session().exec(select(Bag).where(Bag.bag_code == held.unallocated)).one()
        lot_id = bag.lot_id
    listing = api.get(f"/api/v1/lots/{held.lot_id}/qc-results", as_="qc").get_json()["results"]
    sterility = next(r for r in listing if r["test"] == "sterility")
    again = api.post(f"/api/v1/lots/{held.lot_id}/qc-results", as_="qc",
                     json={**SAMPLED, "test": "sterility", "value": "positive", "repeat_of": sterility["id"],
                           "reason": "repeat culture"})
    assert again.status_code == 201
    with app.app_context():
        holds = db.session().exec(select(Hold).where(Hold.lot_id == lot_id)).all()
        notices = db.session().exec(select(Notification)).all()
    assert len(holds) == 1
    assert sorted(n.kind for n in notices) == ["lot_on_hold", "lot_on_hold"]  # the first hold's: QA, investigator
