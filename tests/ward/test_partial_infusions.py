"""A partial infusion (less than the bag's volume given) needs the nurse's reason, is kept and audited, and is
flagged on the infusion page, the subject's page and the coordinator's and investigators' dashboards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.trial.models import Visit
from cellchain.ward.models import Infusion
from tests.conftest import signature
from tests.factories import ward

START = "/api/v1/infusions"


def started(app, api) -> tuple[ward.Bedside, int]:
    with app.app_context():
        scene = ward.bedside_ready(db.session())  # a bag of 50 ml
        db.commit()
    response = api.post(START, as_="nurse", json={
        "wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
        "ultrasound_monitored": True, "vital_signs": {"heart_rate": 76, "temperature_c": 36.8}})
    assert response.status_code == 201, response.get_json()
    return scene, response.get_json()["infusion_id"]


def completion(**extra) -> dict:
    now = datetime.now(UTC)
    return {"volume_ml": 30.0, "ended_at": now.isoformat(), "ultrasound_monitored": True,
            "reactions": [{"description": "rigors", "severity": "moderate",
                           "onset_at": (now - timedelta(minutes=10)).isoformat()}],
            "vital_signs": {"heart_rate": 118, "temperature_c": 38.4}, **extra}


def test_a_partial_infusion_without_a_reason_is_refused_naming_the_field_and_nothing_is_written(app, api):
    scene, infusion_id = started(app, api)
    for reason in ({}, {"partial_reason": "   "}):
        response = api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion(**reason))
        assert response.status_code == 400
        assert "partial_reason" in response.get_json()["fields"]
        assert "30 ml" in response.get_json()["fields"]["partial_reason"]
    with app.app_context():
        session = db.session()
        assert session.get(Infusion, infusion_id).status == "started"
        assert session.get(Visit, scene.visit.id).status != "done"


def test_a_partial_infusion_with_its_reason_is_recorded_audited_and_answered(app, api):
    _, infusion_id = started(app, api)
    response = api.post(f"{START}/{infusion_id}/complete", as_="nurse",
                        json=completion(partial_reason="stopped at 30 ml: rigors and fever"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["partial"] is True and body["partial_reason"] == "stopped at 30 ml: rigors and fever"
    assert body["volume_ml"] == 30.0 and body["bag_volume_ml"] == 50.0
    assert api.get(f"{START}/{infusion_id}", as_="auditor").get_json()["partial"] is True
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "infusion",
                                                           AuditEntry.action == "complete")).one()
    audited = json.loads(entry.new_values)
    assert audited["partial"] is True and audited["partial_reason"] == "stopped at 30 ml: rigors and fever"
    assert audited["volume_ml"] == 30.0 and audited["bag_volume_ml"] == 50.0


def test_a_whole_bag_needs_no_reason_and_is_not_flagged(app, api):
    _, infusion_id = started(app, api)
    response = api.post(f"{START}/{infusion_id}/complete", as_="nurse",
                        json=completion(volume_ml=50.0, partial_reason="not partial at all"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["partial"] is False and response.get_json()["partial_reason"] is None


def test_the_nurse_completes_a_partial_infusion_on_its_page_which_shows_vitals_and_reactions(app, client, auth, api):
    _, infusion_id = started(app, api)
    auth.login("nurse")
    form = {"volume_ml": "30", "ultrasound_monitored": "yes", "heart_rate": "118", "temperature_c": "38.4",
            "reaction_0_description": "rigors", "reaction_0_severity": "moderate"}
    refused = auth.post(f"/ward/infusions/{infusion_id}/complete", form)
    assert refused.status_code == 400 and "partial_reason" in refused.get_data(as_text=True)
    done = auth.post(f"/ward/infusions/{infusion_id}/complete", {**form, "partial_reason": "stopped: rigors"})
    assert done.status_code == 303, done.get_data(as_text=True)
    page = " ".join(client.get(f"/ward/infusions/{infusion_id}").get_data(as_text=True).split())
    assert "30 ml of 50 ml" in page and 'data-testid="partial">PARTIAL INFUSION</span> stopped: rigors' in page
    assert "<th>Heart rate (/min)</th><th>Temperature (°C)</th>" in page
    assert "<td>At the start</td><td>76</td><td>36.8</td>" in page
    assert "<td>At the end</td><td>118</td><td>38.4</td>" in page
    assert "<td>moderate</td><td>rigors</td>" in page


def test_the_subject_page_and_the_coordinator_and_investigator_dashboards_flag_a_partial_infusion(app, client,
                                                                                                   auth, api):
    scene, infusion_id = started(app, api)
    api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion(partial_reason="line occluded"))
    code = scene.subject.subject_code
    for role in ("coordinator", "investigator"):
        auth.login(role)
        home = " ".join(client.get("/").get_data(as_text=True).split())
        assert 'data-testid="panel-partial-infusions"' in home, role
        assert f">{code}</a> week {scene.visit.week}" in home and "30 ml of 50 ml" in home
        assert "line occluded" in home
        subject = client.get(f"/trial/subjects/{code}").get_data(as_text=True)
        assert 'data-testid="partial-infusion">PARTIAL INFUSION</span> line occluded' in subject
        auth.logout()
    auth.login("lab")
    assert 'panel-partial-infusions' not in client.get("/").get_data(as_text=True)


def test_a_whole_infusion_is_not_on_the_dashboards(app, client, auth, api):
    _, infusion_id = started(app, api)
    api.post(f"{START}/{infusion_id}/complete", as_="nurse", json=completion(volume_ml=50.0))
    auth.login("coordinator")
    assert 'panel-partial-infusions' not in client.get("/").get_data(as_text=True)
