"""Each infusion visit has a planned date and time inside its window; the coordinator moves it with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from tests.factories import trial as factory
from tests.factories.trial import randomized, site_today

SITE = ZoneInfo("Asia/Shanghai")


def visits_of(api, subject: dict) -> list[dict]:
    return api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]


def infusion(api, subject: dict, week: int) -> dict:
    return next(v for v in visits_of(api, subject) if (v["week"], v["kind"]) == (week, "infusion"))


def at_site(day, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=SITE).isoformat()


def plan(api, visit_id: int, planned_at: str, reason: str | None = None, as_: str = "coordinator"):
    body = {"planned_at": planned_at} if reason is None else {"planned_at": planned_at, "reason": reason}
    return api.post(f"/api/v1/visits/{visit_id}/plan", as_=as_, json=body)


def test_registering_plans_each_infusion_at_the_sites_planned_time(api):
    subject = randomized(api)
    day0 = site_today()
    for visit in visits_of(api, subject):
        if visit["kind"] == "infusion":
            expected = datetime.combine(day0 + timedelta(weeks=visit["week"]), time(9), tzinfo=SITE)
            assert datetime.fromisoformat(visit["planned_at"].replace("Z", "+00:00")) == expected
        else:
            assert visit["planned_at"] is None


def test_the_coordinator_moves_an_infusion_inside_its_window_with_a_reason_and_the_trail_says_so(app, api):
    subject = randomized(api)
    week4 = infusion(api, subject, 4)
    moved_to = at_site(site_today() + timedelta(weeks=4, days=2), 14, 30)
    response = plan(api, week4["visit_id"], moved_to, "the subject's transport is on Thursday")
    assert response.status_code == 200, response.get_json()
    assert datetime.fromisoformat(response.get_json()["planned_at"].replace("Z", "+00:00")) == \
        datetime.fromisoformat(moved_to)
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "visit",
                                                           AuditEntry.record_id == str(week4["visit_id"]),
                                                           AuditEntry.action == "reschedule_infusion")).one()
        assert entry.reason == "the subject's transport is on Thursday" and "planned_at" in entry.old_values


def test_moving_an_infusion_needs_a_reason_a_day_in_its_window_and_a_coordinator(api):
    subject = randomized(api)
    week4 = infusion(api, subject, 4)
    inside = at_site(site_today() + timedelta(weeks=4, days=1), 10)
    no_reason = plan(api, week4["visit_id"], inside)
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    outside = plan(api, week4["visit_id"], at_site(site_today() + timedelta(weeks=4, days=4), 10), "later")
    assert outside.status_code == 409
    assert [r["code"] for r in outside.get_json()["reasons"]] == ["planned_outside_window"]
    follow_up = next(v for v in visits_of(api, subject) if v["kind"] == "follow_up")
    refused = plan(api, follow_up["visit_id"], at_site(date.fromisoformat(follow_up["target_date"]), 10), "wrong visit")
    assert "not_infusion_visit" in [r["code"] for r in refused.get_json()["reasons"]]
    assert plan(api, week4["visit_id"], inside, "nurse tries", as_="nurse").status_code == 403
    assert plan(api, week4["visit_id"], "tomorrow", "typed").status_code == 400


def test_an_infusion_cannot_move_past_the_expiry_of_the_bag_allocated_to_it(app, api):
    subject = randomized(api)
    while subject["arm"] != "A":
        subject = randomized(api)
    week0 = infusion(api, subject, 0)
    with app.app_context():
        bag = factory.ucmsc_bag(db.session(), expires_at=datetime.now(UTC) + timedelta(hours=30))
        db.commit()
        code = bag.bag_code
    allocated = api.post(f"/api/v1/visits/{week0['visit_id']}/allocation", as_="coordinator",
                         json={"bag_id": code, "weight_kg": 70.0})
    assert allocated.status_code == 201, allocated.get_json()
    late = plan(api, week0["visit_id"], at_site(site_today() + timedelta(days=3), 18), "ward is full")
    assert late.status_code == 409 and [r["code"] for r in late.get_json()["reasons"]] == ["expires_too_soon"]
    refused = late.get_json()["reasons"][0]
    new_time = f"{site_today() + timedelta(days=3)} 18:00 UTC+08:00"
    assert refused["message"].startswith(f"the allocated bag {code} expires at ")
    assert f"UTC+08:00, before the new time {new_time}: allocate another bag first" in refused["message"]
    assert refused["params"]["planned_at"] == f"{site_today() + timedelta(days=3)}T18:00:00+08:00"
    assert datetime.fromisoformat(refused["params"]["expires_at"]).utcoffset() == timedelta(hours=8)


def test_the_coordinator_moves_an_infusion_from_the_subject_page(api, client, auth):
    subject = randomized(api)
    week4 = infusion(api, subject, 4)
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert f'action="/trial/visits/{week4["visit_id"]}/plan"' in page
    day = site_today() + timedelta(weeks=4, days=1)
    done = auth.post(f"/trial/visits/{week4['visit_id']}/plan",
                     {"planned_at": f"{day.isoformat()}T15:45", "reason": "clinic slot"})
    assert done.status_code == 303
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert f"{day.isoformat()} 15:45" in page
    refused = auth.post(f"/trial/visits/{week4['visit_id']}/plan",
                        {"planned_at": f"{(day + timedelta(days=9)).isoformat()}T10:00", "reason": "much later"})
    assert (refused.status_code == 409 and "planned outside window" in refused.get_data(as_text=True).lower()) \
        or "outside the week 4 window" in refused.get_data(as_text=True)
