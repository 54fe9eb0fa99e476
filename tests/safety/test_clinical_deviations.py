"""Clinical protocol deviations: an infusion outside its visit's window is refused unless the investigator approved a
deviation for it (which then allows that one infusion), a visit marked missed, a partial infusion and a bedside
refusal for the wrong subject open one by themselves, and the investigator decides each with an e-signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.safety.models import ClinicalDeviation
from cellchain.trial.models import Visit
from cellchain.ward import bedside_facts
from tests.conftest import signature
from tests.factories import trial as trial_factory
from tests.factories import ward

START = "/api/v1/infusions"
REGISTER = "/api/v1/clinical-deviations"


def scene_with_visit(app, *, days_from_today: int = 0) -> ward.Bedside:
    """An all-pass bedside whose visit's window is moved ``days_from_today`` days (-10: it closed last week)."""
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        visit = session.get(Visit, scene.visit.id)
        visit.target_date += timedelta(days=days_from_today)
        visit.window_start += timedelta(days=days_from_today)
        visit.window_end += timedelta(days=days_from_today)
        session.add(visit)
        db.commit()
        scene.visit = visit
        return scene


def start_body(scene: ward.Bedside) -> dict:
    return {"wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
            "ultrasound_monitored": True}


def deviations(app) -> list[ClinicalDeviation]:
    with app.app_context():
        return list(db.session().exec(select(ClinicalDeviation).order_by(ClinicalDeviation.id)))


def open_out_of_window(api, scene: ward.Bedside) -> int:
    opened = api.post(REGISTER, as_="coordinator", json={
        "subject_id": scene.subject.subject_code, "kind": "out_of_window", "visit_id": scene.visit.id,
        "description": "week 0 infusion postponed: the subject was in intensive care during the window"})
    assert opened.status_code == 201, opened.get_json()
    return opened.get_json()["id"]


def test_an_infusion_outside_its_visit_window_is_refused_naming_the_window(app, api):
    scene = scene_with_visit(app, days_from_today=-10)
    refused = api.post(START, as_="nurse", json=start_body(scene))
    assert refused.status_code == 409
    [reason] = refused.get_json()["reasons"]
    assert reason["code"] == "visit_out_of_window"
    assert scene.visit.window_start.isoformat() in reason["message"]
    assert scene.visit.window_end.isoformat() in reason["message"]
    assert "approved by the investigator" in reason["message"]


def test_an_approved_clinical_deviation_allows_that_one_infusion_outside_its_window(app, api):
    scene = scene_with_visit(app, days_from_today=-10)
    deviation_id = open_out_of_window(api, scene)
    still_open = api.post(START, as_="nurse", json=start_body(scene))
    assert [r["code"] for r in still_open.get_json()["reasons"]] == ["visit_out_of_window"]

    approved = api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
                        json={"signature": signature("investigator", "approved")})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved" and approved.get_json()["decision_signature_id"]
    started = api.post(START, as_="nurse", json=start_body(scene))
    assert started.status_code == 201, started.get_json()
    infusion_id = started.get_json()["infusion_id"]

    [row] = deviations(app)
    assert (row.status, row.infusion_id, row.bag_id) == ("approved", infusion_id, scene.bag.id)
    with app.app_context():
        session = db.session()
        # used up: the same visit's bedside no longer finds an allowance
        found = bedside_facts.at_bedside(session.connection(), scene.subject.subject_code, scene.bag.bag_code)
        assert found.window_allowance is None
        entry = session.exec(select(AuditEntry).where(AuditEntry.record_type == "infusion",
                                                      AuditEntry.action == "start")).one()
        assert json.loads(entry.new_values)["clinical_deviation"] == deviation_id


def test_a_rejected_deviation_needs_a_reason_and_allows_nothing(app, api):
    scene = scene_with_visit(app, days_from_today=-10)
    deviation_id = open_out_of_window(api, scene)
    no_reason = api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
                         json={"signature": signature("investigator", "rejected")})
    assert no_reason.status_code == 400 and "note" in no_reason.get_json()["fields"]
    rejected = api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
                        json={"signature": signature("investigator", "rejected"), "note": "give week 4 instead"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    refused = api.post(START, as_="nurse", json=start_body(scene))
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["visit_out_of_window"]
    again = api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
                     json={"signature": signature("investigator", "approved")})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "clinical_deviation_not_open"


def test_only_one_out_of_window_deviation_waits_per_visit_and_it_names_an_infusion_visit(app, api):
    scene = scene_with_visit(app, days_from_today=-10)
    first = open_out_of_window(api, scene)
    second = api.post(REGISTER, as_="investigator", json={
        "subject_id": scene.subject.subject_code, "kind": "out_of_window", "visit_id": scene.visit.id,
        "description": "again"})
    assert second.status_code == 409
    assert second.get_json()["reasons"][0]["code"] == "clinical_deviation_exists"
    assert f"CD-{first}" in second.get_json()["reasons"][0]["message"]
    no_visit = api.post(REGISTER, as_="coordinator", json={
        "subject_id": scene.subject.subject_code, "kind": "out_of_window", "description": "late"})
    assert no_visit.status_code == 400 and "visit_id" in no_visit.get_json()["fields"]


def test_the_investigator_decides_with_her_own_signature_and_the_coordinator_closes_after(app, api):
    scene = scene_with_visit(app)
    opened = api.post(REGISTER, as_="coordinator", json={
        "subject_id": scene.subject.subject_code, "kind": "other", "description": "visit done by telephone"})
    deviation_id = opened.get_json()["id"]
    assert opened.get_json()["automatic"] is False and opened.get_json()["opened_by"] == "coordinator"
    early = api.post(f"{REGISTER}/{deviation_id}/close", as_="coordinator", json={"note": "done"})
    assert early.status_code == 409 and early.get_json()["reasons"][0]["code"] == "clinical_deviation_not_decided"
    as_coordinator = api.post(f"{REGISTER}/{deviation_id}/decision", as_="coordinator",
                              json={"signature": signature("coordinator", "approved")})
    assert as_coordinator.status_code == 403
    borrowed = api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
                        json={"signature": signature("coordinator", "approved")})
    assert borrowed.status_code == 409 and borrowed.get_json()["reasons"][0]["code"] == "signer_not_actor"
    api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
             json={"signature": signature("investigator", "approved")})
    closed = api.post(f"{REGISTER}/{deviation_id}/close", as_="coordinator",
                      json={"note": "telephone visits added to the site's procedure"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    with app.app_context():
        actions = [e.action for e in db.session().exec(
            select(AuditEntry).where(AuditEntry.record_type == "clinical_deviation").order_by(AuditEntry.seq))]
    assert actions == ["open", "approve", "close"]


def test_the_coordinator_marks_a_visit_missed_with_a_reason_and_its_deviation_opens(app, api):
    scene = scene_with_visit(app)
    url = f"/api/v1/visits/{scene.visit.id}/missed"
    no_reason = api.post(url, as_="coordinator", json={"reason": "  "})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    marked = api.post(url, as_="coordinator", json={"reason": "the subject was readmitted to another hospital"})
    assert marked.status_code == 200, marked.get_json()
    assert marked.get_json()["status"] == "missed"
    [row] = deviations(app)
    assert marked.get_json()["clinical_deviation_id"] == row.id
    assert (row.kind, row.visit_id, row.automatic, row.status) == ("missed_visit", scene.visit.id, True, "open")
    assert "readmitted" in row.description
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "visit",
                                                           AuditEntry.action == "mark_missed")).one()
        assert entry.reason == "the subject was readmitted to another hospital"
    again = api.post(url, as_="coordinator", json={"reason": "twice"})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "visit_marked_missed"
    # nothing is infused at a visit marked missed
    refused = api.post(START, as_="nurse", json=start_body(scene))
    assert refused.status_code == 409
    assert "marked missed" in refused.get_json()["reasons"][0]["message"]


def test_a_visit_is_not_marked_missed_before_its_window_opens(app, api):
    scene = scene_with_visit(app, days_from_today=20)
    refused = api.post(f"/api/v1/visits/{scene.visit.id}/missed", as_="coordinator", json={"reason": "moving away"})
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "visit_window_not_open"
    assert deviations(app) == []


def test_a_partial_infusion_opens_a_clinical_deviation(app, api):
    scene = scene_with_visit(app)
    infusion_id = api.post(START, as_="nurse", json=start_body(scene)).get_json()["infusion_id"]
    done = api.post(f"{START}/{infusion_id}/complete", as_="nurse", json={
        "volume_ml": 30.0, "ended_at": datetime.now(UTC).isoformat(), "ultrasound_monitored": True,
        "partial_reason": "stopped at 30 ml: rigors"})
    assert done.status_code == 200, done.get_json()
    [row] = deviations(app)
    assert (row.kind, row.infusion_id, row.visit_id, row.automatic) == ("partial_infusion", infusion_id,
                                                                         scene.visit.id, True)
    assert "30 ml" in row.description and "rigors" in row.description


def test_a_bedside_start_refused_for_the_wrong_subject_opens_one_wrong_product_deviation(app, api):
    scene = scene_with_visit(app)
    with app.app_context():
        other = ward.subject(db.session())
        db.commit()
        other_wristband = ward.wristband(other)
    body = {**start_body(scene), "wristband": other_wristband}
    for _ in range(2):  # scanned twice: one deviation
        refused = api.post(START, as_="nurse", json=body)
        assert refused.status_code == 409
        assert "right_subject" in [r["code"] for r in refused.get_json()["reasons"]]
    [row] = deviations(app)
    assert (row.kind, row.subject_id, row.bag_id, row.visit_id) == ("wrong_product", other.id, scene.bag.id, None)
    assert "WRONG PATIENT" in row.description


def test_the_register_lists_filters_and_pages(app, api):
    scene = scene_with_visit(app)
    for n in range(3):
        api.post(REGISTER, as_="coordinator", json={"subject_id": scene.subject.subject_code, "kind": "other",
                                                    "description": f"note {n}"})
    open_out_of_window(api, scene_with_visit(app, days_from_today=-10))
    first = api.get(f"{REGISTER}?limit=2", as_="auditor").get_json()
    assert first["clinical_deviations"][0]["description"].startswith("week 0 infusion postponed")  # newest first
    rest = api.get(f"{REGISTER}?limit=2&cursor={first['next']}", as_="auditor").get_json()
    assert len(first["clinical_deviations"]) + len(rest["clinical_deviations"]) == 4 and rest["next"] is None
    only = api.get(f"{REGISTER}?kind=out_of_window", as_="qa").get_json()["clinical_deviations"]
    assert [r["kind"] for r in only] == ["out_of_window"]
    mine = api.get(f"{REGISTER}?subject_id={scene.subject.subject_code}&status=not_closed", as_="qa").get_json()
    assert len(mine["clinical_deviations"]) == 3
    bad = api.get(f"{REGISTER}?status=pending", as_="qa")
    assert bad.status_code == 400 and "status" in bad.get_json()["fields"]


def test_the_bedside_check_names_the_approved_deviation_that_allows_the_late_infusion(app, api):
    scene = scene_with_visit(app, days_from_today=-10)
    deviation_id = open_out_of_window(api, scene)
    api.post(f"{REGISTER}/{deviation_id}/decision", as_="investigator",
             json={"signature": signature("investigator", "approved")})
    checked = api.post("/api/v1/infusions/verify", as_="nurse",
                       json={"wristband": scene.wristband, "bag": scene.bag_scan}).get_json()
    assert checked["ok"] is True
    window = next(c for c in checked["checks"] if c["name"] == "infusion_visit_today")
    assert f"CD-{deviation_id}" in window["detail"] and "outside its window" in window["detail"]
    [row] = deviations(app)
    assert row.infusion_id is None  # a check uses nothing up; only the start does


def test_a_dose_outside_tolerance_at_the_bedside_opens_its_deviation_for_the_visit(app, api):
    scene = scene_with_visit(app)
    with app.app_context():
        session = db.session()
        allocation = session.get(type(scene.allocation), scene.allocation.id)
        allocation.weight_kg = 90.0  # the bag's cells were for 70 kg
        session.add(allocation)
        db.commit()
    checked = api.post("/api/v1/infusions/verify", as_="nurse",
                       json={"wristband": scene.wristband, "bag": scene.bag_scan}).get_json()
    assert checked["ok"] is False
    [row] = deviations(app)
    assert (row.kind, row.visit_id, row.subject_id, row.automatic) == ("dose_outside_tolerance", scene.visit.id,
                                                                        scene.subject.id, True)


def test_an_approved_deviation_lets_the_coordinator_allocate_a_bag_after_the_window(app, api):
    subject = trial_factory.randomized(api, day0=trial_factory.site_today() - timedelta(days=10))
    listed = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    visit_id = next(v["visit_id"] for v in listed if (v["week"], v["kind"]) == (0, "infusion"))
    with app.app_context():
        if subject["arm"] == "A":
            bag_code = trial_factory.ucmsc_bag(db.session(), total_cells=70_000_000).bag_code  # dosed for 70 kg
        else:
            bag_code = trial_factory.placebo_bag(db.session()).bag_code
        db.commit()
    body = {"bag_id": bag_code, "weight_kg": 70.0}
    refused = api.post(f"/api/v1/visits/{visit_id}/allocation", as_="coordinator", json=body)
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["visit_window_passed"]
    opened = api.post(REGISTER, as_="coordinator", json={"subject_id": subject["subject_id"], "kind": "out_of_window",
                                                         "visit_id": visit_id, "description": "late week 0"})
    api.post(f"{REGISTER}/{opened.get_json()['id']}/decision", as_="investigator",
             json={"signature": signature("investigator", "approved")})
    allocated = api.post(f"/api/v1/visits/{visit_id}/allocation", as_="coordinator", json=body)
    assert allocated.status_code == 201, allocated.get_json()
