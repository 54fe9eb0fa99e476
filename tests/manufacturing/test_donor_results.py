"""Maternal screening results that arrive after the cord is registered (docs/rules.md, "Manufacturing: donor
results"): the cord is pending, a lot may start from it, nothing made from it is released before the
investigator signs the determination, and a late positive result holds everything made from the cord."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.identifiers.isbt128 import Din
from cellchain.labelling.data import LabelSettings, collection_label
from cellchain.manufacturing.models import Collection, DonorResult
from cellchain.notices.models import Notification
from cellchain.quality.models import Hold
from tests.conftest import signature
from tests.factories.lab import SCREENING, days_ago, iso
from tests.factories.qc import add_results, db_session, make_lot
from tests.quality.test_holds import _released_lot_with_bags

NOT_CMV = {k: v for k, v in SCREENING.items() if k != "CMV"}


def _register(api, screening=None) -> str:
    body = {"donor_code": "DONOR-0142", "collected_at": iso(days_ago(2)), "site": "Delivery suite 3",
            "consent_obtained": True, "screening": NOT_CMV if screening is None else screening,
            "specimen_collected_at": iso(days_ago(2)), "medical_history_ok": True}
    response = api.post("/api/v1/collections", as_="lab", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["din"]


def _result(api, din: str, test: str = "CMV", result: str = "negative", as_: str = "lab", **extra):
    body = {"test": test, "result": result, "result_date": iso(days_ago(0))[:10], "laboratory": "Central Virology"}
    return api.post(f"/api/v1/collections/{din}/donor-results", as_=as_, json={**body, **extra})


def _determine(api, din: str, as_: str = "investigator"):
    return api.post(f"/api/v1/collections/{din}/determination", as_=as_,
                    json={"signature": signature(as_, "approved")})


def test_a_cord_with_a_result_still_to_come_is_pending_and_a_lot_may_start_from_it(app, api):
    din = _register(api)
    got = api.get(f"/api/v1/collections/{din}", as_="lab").get_json()
    assert got["eligibility"] == "pending"
    assert [r["code"] for r in got["reasons"]] == ["donor_test_missing"]
    assert sorted(r["test"] for r in got["results"]) == sorted(NOT_CMV)
    collected = days_ago(2)
    for event, hours in (("shipped", 1), ("received", 3)):
        response = api.post("/api/v1/custody", as_="lab", json={
            "item": f"={din}{Din.parse(din).flags_type3}", "event": event, "location": "cell processing lab",
            "temperature_c": 6.5, "occurred_at": iso(collected + timedelta(hours=hours))})
        assert response.status_code == 201, response.get_json()
    started = api.post("/api/v1/lots", as_="lab", json={"collection_din": din})
    assert started.status_code == 201, started.get_json()


def test_a_late_negative_result_is_entered_with_its_date_and_laboratory_and_the_cord_stays_pending(app, api):
    din = _register(api)
    response = _result(api, din)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["eligibility"] == "pending" and body["reasons"] == [] and body["holds_raised"] == []
    late = [r for r in body["results"] if r["late"]]
    assert [(r["test"], r["result"], r["laboratory"]) for r in late] == [("CMV", "negative", "Central Virology")]
    with app.app_context():
        actions = db.session().exec(select(AuditEntry.action).where(AuditEntry.record_type == "collection")).all()
    assert "donor_result" in actions
    told = api.get("/api/v1/inbox", as_="investigator").get_json()["notices"]
    assert [n["kind"] for n in told] == ["donor_determination_due"] and din in told[0]["subject"]


def test_a_result_is_refused_naming_every_bad_field(api):
    din = _register(api)
    future = _result(api, din, result_date="2999-01-01")
    assert future.status_code == 400 and "result_date" in future.get_json()["fields"]
    no_lab = _result(api, din, laboratory="  ")
    assert no_lab.status_code == 400 and "laboratory" in no_lab.get_json()["fields"]


def test_only_the_lab_enters_results_and_only_an_investigator_signs_the_determination(api):
    din = _register(api)
    assert _result(api, din, as_="nurse").status_code == 403
    assert _result(api, din).status_code == 201
    assert api.post(f"/api/v1/collections/{din}/determination", as_="qa",
                    json={"signature": signature("qa", "approved")}).status_code == 403


def test_the_investigator_cannot_sign_while_a_result_is_missing(api):
    din = _register(api)
    response = _determine(api, din)
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["donor_test_missing"]


def test_the_investigator_signs_a_complete_pending_cord_eligible(app, api):
    din = _register(api)
    assert _result(api, din).status_code == 201
    response = _determine(api, din)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["eligibility"] == "eligible" and body["determination_signature_id"]
    again = _determine(api, din)
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "donor_not_pending"


def test_release_names_the_pending_determination_of_a_lot_from_a_pending_cord(app, api):
    with db_session(app) as session:
        lot = make_lot(session, eligibility="pending")
        add_results(session, lot)
        lot_id = lot.lot_number
    response = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 409
    reasons = response.get_json()["reasons"]
    assert [r["code"] for r in reasons] == ["donor_determination_pending"]
    assert "investigator must sign" in reasons[0]["message"]


def test_a_late_positive_result_holds_every_lot_made_from_the_cord_and_tells_qa_and_investigators(app, api):
    scene = _released_lot_with_bags(app, api)
    with app.app_context():
        din = db.session().exec(select(Collection.din).where(Collection.din == scene.lot_id)).one()
    response = _result(api, din, test="HBV", result="positive")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["eligibility"] == "ineligible" and len(body["holds_raised"]) == 1
    assert "donor_test_positive" in [r["code"] for r in body["reasons"]]
    with app.app_context():
        session = db.session()
        hold = session.exec(select(Hold)).one()
        result = session.exec(select(DonorResult).where(DonorResult.late.is_(True))).one()
        kinds = {n.kind for n in session.exec(select(Notification))}
    assert (hold.item_kind, hold.qc_result_id) == ("collection", None)
    assert "HBV" in hold.cause and f"result {result.id}" in hold.cause
    assert "donor_result_positive" in kinds
    held = api.get(f"/api/v1/holds/{hold.id}", as_="investigator").get_json()
    assert [i["subject_id"] for i in held["infused"]] == [scene.infused.subject.subject_code]
    assert (held["item_kind"], held["item_id"]) == ("collection", din)
    inbox = api.get("/api/v1/inbox", as_="investigator").get_json()
    # two notices: the hold on the cord, and the positive result itself
    assert inbox["unread"] == 2 and any(f"POSITIVE donor HBV on cord {din}" in n["subject"] for n in inbox["notices"])


def test_a_repeat_negative_never_clears_an_earlier_positive(app, api):
    din = _register(api)
    assert _result(api, din, test="CMV", result="positive").status_code == 201
    body = _result(api, din, test="CMV", result="negative").get_json()
    assert body["eligibility"] == "ineligible" and body["screening"]["CMV"] == "positive"
    assert [r["result"] for r in body["results"] if r["test"] == "CMV"] == ["positive", "negative"]


def test_the_lab_enters_a_result_and_the_investigator_signs_on_the_cord_page(app, client, auth, api):
    din = _register(api)
    auth.login("lab")
    page = client.get(f"/lab/collections/{din}")
    assert page.status_code == 200 and b'data-testid="donor-results"' in page.data and b"Pending" in page.data
    refused = auth.post(f"/lab/collections/{din}/donor-results",
                        {"test": "CMV", "result": "negative", "result_date": "", "laboratory": "Central Virology"})
    assert refused.status_code == 400 and b"Central Virology" in refused.data
    done = auth.post(f"/lab/collections/{din}/donor-results",
                     {"test": "CMV", "result": "negative", "result_date": iso(days_ago(0))[:10],
                      "laboratory": "Central Virology"})
    assert done.status_code == 303
    auth.logout()
    auth.login("investigator")
    page = client.get(f"/lab/collections/{din}")
    assert page.status_code == 200 and b'data-testid="determination"' in page.data
    signed = auth.post(f"/lab/collections/{din}/determination",
                       {"signature_username": "investigator", "signature_password": "cellchain-demo",
                        "signature_meaning": "approved"})
    assert signed.status_code == 303, signed.data[:2000]
    assert api.get(f"/api/v1/collections/{din}", as_="qa").get_json()["eligibility"] == "eligible"


def test_the_collection_label_of_a_pending_cord_says_its_eligibility_is_pending(app, api):
    din = _register(api)
    with app.app_context():
        cord = db.session().exec(select(Collection).where(Collection.din == din)).one()
        text = collection_label(cord, LabelSettings.from_config(app.config))["quarantine_text"]
    assert text == "待验 - 供者合格性待定 QUARANTINE - donor eligibility pending"  # LABEL_LANGUAGES zh, en
