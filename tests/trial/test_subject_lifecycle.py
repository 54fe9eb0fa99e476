"""A subject's lifecycle: the first infusion puts them on treatment; a withdrawal or death, signed by the
investigator, cancels the remaining visits, sends their bags back to the lab for QA's decision, and the bedside
gives them nothing; a re-randomization or a second death is refused."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Refused
from cellchain.trial.models import Allocation, BagReturn, Subject, Visit
from cellchain.trial.rules import lifecycle
from cellchain.ward.models import CustodyEvent
from tests.conftest import signature
from tests.factories import safety, ward
from tests.factories.safety import complete_assessment, record

WITHDRAW = "/api/v1/subjects/{}/withdrawal"
DEATH = "/api/v1/subjects/{}/death"


def _scene(app) -> ward.Bedside:
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
        return scene


def _withdraw(api, code: str, reason: str = "consent_withdrawn", as_: str = "investigator"):
    return api.post(WITHDRAW.format(code), as_=as_, json={
        "reason": reason, "note": "does not wish to continue", "signature": signature(as_, "approved")})


def test_a_withdrawn_subjects_bag_fails_the_bedside_as_subject_not_on_treatment_and_its_return_is_in_its_chain(
        app, api):
    scene = _scene(app)
    code = scene.subject.subject_code
    done = _withdraw(api, code)
    assert done.status_code == 200, done.get_json()
    answer = done.get_json()
    assert answer["subject"]["state"] == "withdrawn"
    assert answer["subject"]["end_reason"] == "consent_withdrawn"
    assert scene.visit.id in answer["cancelled_visits"]
    assert [r["bag_id"] for r in answer["returned_bags"]] == [scene.bag.bag_code]
    assert answer["returned_bags"][0]["status"] == "awaiting_decision"
    checked = api.post("/api/v1/infusions/verify", as_="nurse", json={"wristband": scene.wristband,
                                                                     "bag": scene.bag_scan})
    failed = {c["name"]: c["detail"] for c in checked.get_json()["checks"] if not c["ok"]}
    assert "withdrawn, not on treatment" in failed["subject_on_treatment"]
    started = api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
        "ultrasound_monitored": True})
    assert started.status_code == 409
    assert "subject_not_on_treatment" in [r["code"] for r in started.get_json()["reasons"]]
    with app.app_context():
        session = db.session()
        chain = session.exec(select(CustodyEvent.event).where(CustodyEvent.item_type == "bag",
                                                              CustodyEvent.item_id == scene.bag.id)
                             .order_by(CustodyEvent.occurred_at, CustodyEvent.id)).all()
        assert chain[-1] == "returned"
        assert session.exec(select(Allocation).where(Allocation.bag_id == scene.bag.id)).first() is None
        assert session.get(Visit, scene.visit.id).status == "cancelled"


def test_a_re_randomization_is_refused_and_a_withdrawn_subject_is_never_randomized(app, api):
    scene = _scene(app)
    again = api.post(f"/api/v1/subjects/{scene.subject.subject_code}/randomize", as_="coordinator")
    assert again.status_code == 409
    assert again.get_json()["reasons"][0]["code"] == "already_randomized"
    with app.app_context():
        waiting = ward.subject(db.session(), arm=None)
        db.commit()
        waiting_code = waiting.subject_code
    assert _withdraw(api, waiting_code, "lost_to_follow_up").status_code == 200
    refused = api.post(f"/api/v1/subjects/{waiting_code}/randomize", as_="coordinator")
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "subject_state_refuses"
    assert "withdrawn" in refused.get_json()["reasons"][0]["message"]


def test_a_death_after_a_withdrawal_is_recorded_and_a_second_death_is_refused(app, api):
    scene = _scene(app)
    code = scene.subject.subject_code
    assert _withdraw(api, code, "investigator_decision").status_code == 200
    body = {"note": "hepatic failure", "signature": signature("investigator", "approved")}
    died = api.post(DEATH.format(code), as_="investigator", json=body)
    assert died.status_code == 200, died.get_json()
    assert died.get_json()["subject"]["state"] == "died"
    again = api.post(DEATH.format(code), as_="investigator", json=body)
    assert again.status_code == 409
    assert again.get_json()["reasons"][0]["code"] == "subject_state_refuses"
    assert "a death is recorded once" in again.get_json()["reasons"][0]["message"]


def test_a_death_needs_its_cause_and_only_the_investigator_signs_it(app, api):
    scene = _scene(app)
    code = scene.subject.subject_code
    no_cause = api.post(DEATH.format(code), as_="investigator",
                        json={"signature": signature("investigator", "approved")})
    assert no_cause.status_code == 400
    assert "note" in no_cause.get_json()["fields"]
    assert api.post(DEATH.format(code), as_="coordinator", json={
        "note": "x", "signature": signature("coordinator", "approved")}).status_code == 403
    too_early = api.post(WITHDRAW.format(code), as_="investigator", json={
        "reason": "consent_withdrawn", "ended_at": "2001-01-01T08:00:00+08:00",
        "signature": signature("investigator", "approved")})
    assert too_early.status_code == 400 and "ended_at" in too_early.get_json()["fields"]
    bad_reason = api.post(WITHDRAW.format(code), as_="investigator", json={
        "reason": "bored", "signature": signature("investigator", "approved")})
    assert bad_reason.status_code == 400 and "reason" in bad_reason.get_json()["fields"]


def test_follow_up_continues_after_an_investigators_decision_but_not_after_consent_is_withdrawn(app, api):
    kept, stopped = _scene(app), _scene(app)
    with app.app_context():
        session = db.session()
        follow_ups = [ward.infusion_visit(session, s.subject, week=4, days_from_today=20, kind="follow_up")
                      for s in (kept, stopped)]
        db.commit()
        ids = [v.id for v in follow_ups]
    assert _withdraw(api, kept.subject.subject_code, "investigator_decision").status_code == 200
    assert _withdraw(api, stopped.subject.subject_code, "consent_withdrawn").status_code == 200
    with app.app_context():
        session = db.session()
        assert [session.get(Visit, i).status for i in ids] == ["planned", "cancelled"]


def test_the_first_infusion_puts_a_randomized_subject_on_treatment_and_the_last_completes_the_treatment(app, api):
    scene, _infusion, _done = safety.infused(app, api)  # the subject's one infusion visit: first and last
    with app.app_context():
        session = db.session()
        assert session.get(Subject, scene.subject.id).status == "treatment_completed"
        moves = [(json.loads(e.old_values)["status"], json.loads(e.new_values)["status"])
                 for e in trail.history(session, "subject", scene.subject.subject_code)]
        assert moves == [("randomized", "on_treatment"), ("on_treatment", "treatment_completed")]


def test_qa_re_releases_or_discards_a_returned_bag_and_it_is_not_allocated_while_it_waits(app, api):
    first, second = _scene(app), _scene(app)
    for scene in (first, second):
        assert _withdraw(api, scene.subject.subject_code).status_code == 200
    listed = api.get("/api/v1/bag-returns?status=awaiting_decision", as_="qa").get_json()["returns"]
    ids = {r["bag_id"]: r["return_id"] for r in listed}
    with app.app_context():
        session = db.session()
        who = ward.subject(session)
        visit = ward.infusion_visit(session, who, week=4)
        db.commit()
        visit_id = visit.id
    waiting = api.post(f"/api/v1/visits/{visit_id}/allocation", as_="coordinator",
                       json={"bag_id": first.bag.bag_code, "weight_kg": 70.0})
    assert waiting.status_code == 409
    assert "bag_awaiting_return_decision" in [r["code"] for r in waiting.get_json()["reasons"]]
    wrong = api.post(f"/api/v1/bag-returns/{ids[first.bag.bag_code]}/decision", as_="qa", json={
        "decision": "restock", "reason": "intact", "signature": signature("qa", "rejected")})
    assert wrong.status_code == 400
    kept = api.post(f"/api/v1/bag-returns/{ids[first.bag.bag_code]}/decision", as_="qa", json={
        "decision": "restock", "reason": "intact, in date, cold chain kept", "signature": signature("qa", "released")})
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["status"] == "restocked"
    thrown = api.post(f"/api/v1/bag-returns/{ids[second.bag.bag_code]}/decision", as_="qa", json={
        "decision": "discard", "reason": "left the cold chain", "signature": signature("qa", "rejected")})
    assert thrown.status_code == 200, thrown.get_json()
    assert thrown.get_json()["custody_state"] == "discarded"
    twice = api.post(f"/api/v1/bag-returns/{ids[second.bag.bag_code]}/decision", as_="qa", json={
        "decision": "discard", "reason": "again", "signature": signature("qa", "rejected")})
    assert twice.status_code == 409 and twice.get_json()["reasons"][0]["code"] == "bag_return_decided"
    with app.app_context():
        assert {r.status for r in db.session().exec(select(BagReturn))} == {"restocked", "discarded"}


def test_a_fatal_event_keeps_the_death_action_open_until_the_investigator_records_the_death(app, api, auth):
    code = safety.subject_code(app)
    fatal = record(api, code, complete_assessment(term="hepatic failure", category="hepatobiliary", grade=5,
                                                  outcome="fatal", seriousness=["death"], resolved_on=None))
    event_id = fatal.get_json()["id"]
    auth.login("investigator")
    event_page = auth._client.get(f"/safety/events/{event_id}").get_data(as_text=True)
    assert 'data-testid="record-death"' in event_page
    page = auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    assert 'data-testid="death-prompt"' in page and "hepatic failure" in page
    recorded = auth.post(f"/trial/subjects/{code}/death", data={
        "note": "hepatic failure", "signature_username": "investigator", "signature_password": "cellchain-demo",
        "signature_meaning": "approved"})
    assert recorded.status_code == 303
    event = api.get(f"/api/v1/adverse-events/{event_id}", as_="investigator").get_json()
    assert "death: the subject's withdrawal/death path must be recorded" not in event["open_actions"]
    page = auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    assert 'data-state="died"' in page and 'data-testid="death-prompt"' not in page
    assert 'data-testid="record-death"' not in auth._client.get(f"/safety/events/{event_id}").get_data(as_text=True)


def test_the_investigator_withdraws_on_the_subject_page_and_qa_decides_on_the_returns_page(app, auth):
    scene = _scene(app)
    code = scene.subject.subject_code
    auth.login("investigator")
    assert 'data-testid="withdraw"' in auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    refused = auth.post(f"/trial/subjects/{code}/withdrawal", data={
        "reason": "consent_withdrawn", "signature_username": "investigator", "signature_password": "wrong",
        "signature_meaning": "approved"})
    assert refused.status_code == 401
    done = auth.post(f"/trial/subjects/{code}/withdrawal", data={
        "reason": "consent_withdrawn", "signature_username": "investigator", "signature_password": "cellchain-demo",
        "signature_meaning": "approved"})
    assert done.status_code == 303
    page = auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    assert 'data-state="withdrawn"' in page and "consent withdrawn" in page and scene.bag.bag_code in page
    auth.logout()
    auth.login("qa")
    returns = auth._client.get("/trial/returns").get_data(as_text=True)
    assert scene.bag.bag_code in returns
    with app.app_context():
        return_id = db.session().exec(select(BagReturn.id).where(BagReturn.bag_id == scene.bag.id)).one()
    decided = auth.post(f"/trial/returns/{return_id}/decision", data={
        "decision": "discard", "reason": "warm", "signature_username": "qa", "signature_password": "cellchain-demo",
        "signature_meaning": "rejected"})
    assert decided.status_code == 303


@pytest.mark.parametrize(("state", "to"), [("died", "died"), ("study_completed", "withdrawn"),
                                           ("randomized", "randomized"), ("screen_failed", "randomized"),
                                           ("withdrawn", "on_treatment")])
def test_the_lifecycle_refuses_moves_it_does_not_hold(state, to):
    with pytest.raises(Refused) as refused:
        lifecycle.move(state, to, subject_code="SUBJ-0001")
    assert refused.value.reasons[0].code == "subject_state_refuses"


def test_the_last_visits_complete_the_treatment_and_the_study():
    assert lifecycle.after_visit_done("on_treatment", kind="infusion", week=12, last_week=12) == "treatment_completed"
    assert lifecycle.after_visit_done("on_treatment", kind="infusion", week=8, last_week=12) is None
    assert lifecycle.after_visit_done("treatment_completed", kind="follow_up", week=48,
                                      last_week=48) == "study_completed"
    assert lifecycle.after_visit_done("withdrawn", kind="follow_up", week=48, last_week=48) is None


def test_a_withdrawn_subjects_follow_up_is_still_recorded_where_the_reason_lets_it_continue(app, api, auth):
    scene = _scene(app)
    with app.app_context():
        follow_up = ward.infusion_visit(db.session(), scene.subject, week=4, kind="follow_up")
        db.commit()
        visit_id = follow_up.id
    assert _withdraw(api, scene.subject.subject_code, "investigator_decision").status_code == 200
    auth.login("coordinator")
    page = auth._client.get(f"/trial/subjects/{scene.subject.subject_code}").get_data(as_text=True)
    assert f'action="/trial/visits/{visit_id}/done"' in page and 'class="allocate"' not in page
    done = api.post(f"/api/v1/visits/{visit_id}/done", as_="coordinator", json={})
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        assert db.session().get(Subject, scene.subject.id).status == "withdrawn"


def test_an_infusion_under_way_at_a_death_is_still_completed_and_its_visit_not_cancelled(app, api):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    started = api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
        "ultrasound_monitored": True})
    assert started.status_code == 201, started.get_json()
    died = api.post(DEATH.format(scene.subject.subject_code), as_="investigator", json={
        "note": "cardiac arrest", "signature": signature("investigator", "approved")})
    assert died.status_code == 200, died.get_json()
    assert died.get_json()["cancelled_visits"] == [] and died.get_json()["returned_bags"] == []
    with app.app_context():
        assert db.session().get(Visit, scene.visit.id).status == "planned"


@pytest.mark.parametrize(("ended_at", "says"), [
    ("2099-01-01T08:00:00+08:00", "cannot be in the future"),
    ("2001-01-01T08:00:00+08:00", "the subject was registered"),
])
def test_a_withdrawal_dated_in_the_future_or_before_registration_is_refused_naming_the_field(
        app, api, ended_at, says):
    code = _scene(app).subject.subject_code
    response = api.post(WITHDRAW.format(code), as_="investigator", json={
        "reason": "consent_withdrawn", "note": "does not wish to continue", "ended_at": ended_at,
        "signature": signature("investigator", "approved")})
    assert response.status_code == 400, response.get_json()
    assert says in response.get_json()["fields"]["ended_at"]
    with app.app_context():
        subject = db.session().exec(select(Subject).where(Subject.subject_code == code)).one()
        assert subject.status != "withdrawn"
