"""Starting and completing an infusion: two nurses, every check again, at most once per bag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from cellchain.core import db
from cellchain.trial.models import Allocation, Visit
from cellchain.ward.models import BedsideCheck, CustodyEvent, Infusion
from tests.conftest import signature
from tests.factories import ward

START = "/api/v1/infusions"


def setup(app, **kwargs) -> ward.Bedside:
    with app.app_context():
        scene = ward.bedside_ready(db.session(), **kwargs)
        db.commit()
        return scene


def start_body(scene: ward.Bedside, verifier: str = "nurse2", **extra) -> dict:
    return {"wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature(verifier, "verified"),
            "ultrasound_monitored": True, "vital_signs": {"heart_rate": 76, "bp": "122/78"}, **extra}


def start_checks(app) -> list[BedsideCheck]:
    with app.app_context():
        return list(db.session().exec(select(BedsideCheck).where(BedsideCheck.purpose == "start")
                                      .order_by(BedsideCheck.id)))


def test_two_nurses_start_an_infusion_and_the_bag_is_infused(app, api):
    scene = setup(app)
    response = api.post(START, as_="nurse", json=start_body(scene))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["bag_id"] == scene.bag.bag_code and body["subject_id"] == scene.subject.subject_code
    assert body["started_by"]["username"] == "nurse"
    assert body["verifier"]["username"] == "nurse2" and body["verifier"]["meaning"] == "verified"
    with app.app_context():
        session = db.session()
        infusion = session.get(Infusion, body["infusion_id"])
        assert infusion.status == "started" and infusion.vital_signs == {"start": {"heart_rate": 76, "bp": "122/78"}}
        assert session.get(type(scene.bag), scene.bag.id).custody_state == "infused"
        last = session.exec(select(CustodyEvent).where(CustodyEvent.item_id == scene.bag.id,
                                                       CustodyEvent.item_type == "bag")
                            .order_by(CustodyEvent.id.desc())).first()
        assert (last.event, last.from_state, last.to_state) == ("infused", "at_ward", "infused")
        bedside_check_id = infusion.bedside_check_id
    [check] = start_checks(app)
    assert check.ok and check.id == bedside_check_id
    assert check.checks[-1]["name"] == "second_verifier" and check.checks[-1]["ok"]


def test_nurse_cannot_be_her_own_second_verifier_and_the_refusal_is_recorded(app, api):
    scene = setup(app)
    response = api.post(START, as_="nurse", json=start_body(scene, verifier="nurse"))
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["second_verifier_same_person"]
    [check] = start_checks(app)
    assert not check.ok and check.checks[-1] == {
        "name": "second_verifier", "ok": False, "code": "second_verifier:same_person", "params": {},
        "detail": "the second verifier must be a different nurse from the one starting the infusion"}
    with app.app_context():
        assert db.session().exec(select(Infusion)).first() is None


def test_a_wrong_verifier_password_is_401_and_the_attempt_is_recorded(app, api):
    scene = setup(app)
    body = start_body(scene)
    body["verifier"] = signature("nurse2", "verified", password="not-her-password")
    response = api.post(START, as_="nurse", json=body)
    assert response.status_code == 401
    [check] = start_checks(app)
    assert not check.ok and "signature was refused" in check.checks[-1]["detail"]


def test_the_second_verifier_must_be_a_nurse(app, api):
    scene = setup(app)
    response = api.post(START, as_="nurse", json=start_body(scene, verifier="coordinator"))
    assert response.status_code == 403


def test_only_a_nurse_starts_an_infusion(app, api):
    scene = setup(app)
    response = api.post(START, as_="coordinator", json=start_body(scene))
    assert response.status_code == 403


def test_a_start_without_a_verifier_is_400(app, api):
    scene = setup(app)
    body = start_body(scene)
    del body["verifier"]
    response = api.post(START, as_="nurse", json=body)
    assert response.status_code == 400 and "verifier" in response.get_json()["fields"]


def test_a_refused_start_lists_every_failing_check_as_a_reason_and_is_recorded(app, api):
    scene = setup(app, receive_temperature_c=11.0)
    with app.app_context():
        session = db.session()
        other = ward.subject(session)
        db.commit()
    body = start_body(scene)
    body["wristband"] = ward.wristband(other)
    response = api.post(START, as_="nurse", json=body)
    assert response.status_code == 409
    codes = [r["code"] for r in response.get_json()["reasons"]]
    assert codes == ["right_subject", "chain_of_identity_matches", "no_open_excursion"]
    assert all(r["message"] for r in response.get_json()["reasons"])
    [check] = start_checks(app)
    assert not check.ok and check.subject_id == other.id


def test_a_bag_is_started_only_once(app, api):
    scene = setup(app)
    assert api.post(START, as_="nurse", json=start_body(scene)).status_code == 201
    again = api.post(START, as_="nurse2", json=start_body(scene, verifier="nurse"))
    assert again.status_code == 409
    codes = {r["code"] for r in again.get_json()["reasons"]}
    assert {"not_infused", "received_on_ward"} <= codes
    assert [c.ok for c in start_checks(app)] == [True, False]


def test_a_start_time_in_the_future_is_refused(app, api):
    scene = setup(app)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = api.post(START, as_="nurse", json=start_body(scene, started_at=later))
    assert response.status_code == 400 and "started_at" in response.get_json()["fields"]


def test_an_infusion_cannot_be_recorded_as_started_before_its_bag_was_allocated(app, api):
    scene = setup(app)
    with app.app_context():
        allocated_at = db.session().exec(select(Allocation.allocated_at).where(Allocation.bag_id == scene.bag.id)).one()
    earlier = (allocated_at - timedelta(minutes=30)).isoformat()
    response = api.post(START, as_="nurse", json=start_body(scene, started_at=earlier))
    assert response.status_code == 400
    assert "before the bag was allocated" in response.get_json()["fields"]["started_at"]
    with app.app_context():
        assert db.session().exec(select(Infusion)).first() is None


# --- completing -----------------------------------------------------------------------------------------

def started(app, api) -> tuple[ward.Bedside, int]:
    scene = setup(app)
    response = api.post(START, as_="nurse", json=start_body(scene))
    assert response.status_code == 201, response.get_json()
    return scene, response.get_json()["infusion_id"]


def completion(**extra) -> dict:
    now = datetime.now(UTC)
    return {"volume_ml": 48.5, "ended_at": now.isoformat(), "ultrasound_monitored": True,
            "partial_reason": "dead volume in the line",
            "reactions": [{"description": "chills", "severity": "mild",
                           "onset_at": (now - timedelta(minutes=10)).isoformat()}],
            "vital_signs": {"heart_rate": 80}, **extra}


def test_completing_records_volume_reactions_and_marks_the_visit_done(app, api):
    scene, infusion_id = started(app, api)
    response = api.post(f"{START}/{infusion_id}/complete", as_="nurse2", json=completion())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "completed" and body["volume_ml"] == 48.5
    assert body["reactions"][0]["severity"] == "mild" and body["reactions"][0]["onset_at"].endswith("Z")
    assert body["vital_signs"]["end"] == {"heart_rate": 80} and body["completed_by"]["username"] == "nurse2"
    with app.app_context():
        assert db.session().get(Visit, scene.visit.id).status == "done"
    read = api.get(f"{START}/{infusion_id}", as_="auditor").get_json()
    assert read["status"] == "completed" and read["ended_at"]


def test_completing_twice_is_refused(app, api):
    _, infusion_id = started(app, api)
    assert api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion()).status_code == 200
    again = api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion())
    assert again.status_code == 409
    assert [r["code"] for r in again.get_json()["reasons"]] == ["infusion_already_completed"]


@pytest.mark.parametrize(("change", "code"), [
    ({"volume_ml": 60.0}, "volume_exceeds_bag"),
    ({"ended_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}, "ended_before_start"),
])
def test_impossible_completions_are_refused_with_a_reason(app, api, change, code):
    _, infusion_id = started(app, api)
    response = api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion(**change))
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == [code]


@pytest.mark.parametrize("change", [{"volume_ml": -1}, {"ended_at": "2026-11-25T10:00:00"},
                                    {"reactions": [{"description": "rash", "severity": "awful"}]},
                                    {"ultrasound_monitored": None}])
def test_malformed_completions_are_400(app, api, change):
    _, infusion_id = started(app, api)
    response = api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion(**change))
    assert response.status_code == 400


def test_an_unknown_infusion_is_404(app, api):
    assert api.get(f"{START}/999", as_="nurse").status_code == 404
