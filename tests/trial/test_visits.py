"""The visit calendar: statuses at the site today, follow-ups recorded by the coordinator, infusions by the ward."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.core.errors import Forbidden, Refused
from cellchain.people import accounts
from cellchain.trial import visits
from cellchain.trial.models import Visit
from tests.factories.trial import randomized, register, site_today


def _visits(api, subject_id: str) -> list[dict]:
    return api.get(f"/api/v1/subjects/{subject_id}/visits", as_="coordinator").get_json()["visits"]


def _visit(api, subject_id: str, week: int, kind: str) -> dict:
    return next(v for v in _visits(api, subject_id) if (v["week"], v["kind"]) == (week, kind))


def test_visits_whose_window_closed_undone_are_missed_and_later_ones_planned(api):
    subject = randomized(api, day0=site_today() - timedelta(days=30))
    statuses = {(v["week"], v["kind"]): v["status"] for v in _visits(api, subject["subject_id"])}
    assert statuses[(0, "infusion")] == "missed"
    assert statuses[(4, "infusion")] == "planned" and statuses[(4, "follow_up")] == "planned"
    assert statuses[(48, "follow_up")] == "planned"


def test_the_coordinator_records_a_follow_up_done_and_it_is_audited(app, api):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4))
    visit = _visit(api, subject["subject_id"], 4, "follow_up")
    response = api.post(f"/api/v1/visits/{visit['visit_id']}/done", as_="coordinator")
    assert response.status_code == 200 and response.get_json()["status"] == "done"
    assert _visit(api, subject["subject_id"], 4, "follow_up")["status"] == "done"
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "visit")).one()
        assert entry.action == "done" and json.loads(entry.new_values)["week"] == 4
    again = api.post(f"/api/v1/visits/{visit['visit_id']}/done", as_="coordinator")
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "visit_already_done"


def test_an_infusion_visit_cannot_be_marked_done_by_hand(api):
    subject = randomized(api)
    visit = _visit(api, subject["subject_id"], 0, "infusion")
    response = api.post(f"/api/v1/visits/{visit['visit_id']}/done", as_="coordinator")
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["not_follow_up_visit"]


def test_a_follow_up_is_refused_before_its_window_opens_and_before_randomization(api):
    subject = register(api)
    visit = _visit(api, subject["subject_id"], 48, "follow_up")
    response = api.post(f"/api/v1/visits/{visit['visit_id']}/done", as_="coordinator")
    assert {r["code"] for r in response.get_json()["reasons"]} == {"subject_not_randomized", "visit_window_not_open"}


def test_a_late_follow_up_is_recorded_and_shows_out_of_window(api):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4, days=10))
    visit = _visit(api, subject["subject_id"], 4, "follow_up")
    assert visit["status"] == "missed"
    assert api.post(f"/api/v1/visits/{visit['visit_id']}/done", as_="coordinator").status_code == 200
    assert _visit(api, subject["subject_id"], 4, "follow_up")["status"] == "out_of_window"


def test_a_follow_up_time_must_carry_its_zone_and_not_be_in_the_future(api):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4))
    visit = _visit(api, subject["subject_id"], 4, "follow_up")
    url = f"/api/v1/visits/{visit['visit_id']}/done"
    naive = api.post(url, as_="coordinator", json={"done_at": "2026-01-05T10:00:00"})
    assert naive.status_code == 400 and "done_at" in naive.get_json()["fields"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api.post(url, as_="coordinator", json={"done_at": future}).status_code == 400
    assert api.post(url, as_="nurse").status_code == 403


def test_the_ward_marks_an_infusion_visit_done_through_the_service(app, api):
    subject = randomized(api)
    visit_id = _visit(api, subject["subject_id"], 0, "infusion")["visit_id"]
    with app.app_context():
        session = db.session()
        nurse, lab = accounts.find_user(session, "nurse"), accounts.find_user(session, "lab")
        visit = session.get(Visit, visit_id)
        with pytest.raises(Forbidden):
            visits.mark_done(session, actor=lab, visit=visit, when=datetime.now(UTC))
        visits.mark_done(session, actor=nurse, visit=visit, when=datetime.now(UTC))
        with pytest.raises(Refused) as refused:
            visits.mark_done(session, actor=nurse, visit=visit, when=datetime.now(UTC))
        assert refused.value.reasons[0].code == "visit_already_done"
        db.commit()
    assert _visit(api, subject["subject_id"], 0, "infusion")["status"] == "done"


def test_a_visit_status_is_counted_in_site_days(app, api):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4))
    visit_id = _visit(api, subject["subject_id"], 4, "follow_up")["visit_id"]
    zone = ZoneInfo(app.config["SITE_TIMEZONE"])
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        # 23:30 at the site on the last day of the window is still in the window, whatever UTC says.
        visit.status, visit.done_at = "done", datetime.combine(visit.window_end, time(23, 30), tzinfo=zone)
        assert visits.status_of(visit, today=site_today(), timezone=app.config["SITE_TIMEZONE"]) == "done"
        visit.done_at = datetime.combine(visit.window_end + timedelta(days=1), time(0, 30), tzinfo=zone)
        assert visits.status_of(visit, today=site_today(), timezone=app.config["SITE_TIMEZONE"]) == "out_of_window"
        db.rollback()
