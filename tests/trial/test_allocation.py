"""Allocating a bag to an infusion visit: the arm decides the product, the weight the dose; every refusal named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.manufacturing.models import Bag
from cellchain.trial import allocation
from cellchain.trial.models import Allocation, Visit
from tests.factories import trial as factory
from tests.factories.trial import randomized, register, site_today

BEIJING = ZoneInfo("Asia/Shanghai")  # the site's zone in the tests (core/config.py SITE_TIMEZONE)


@pytest.fixture
def arms(api) -> dict[str, dict]:
    """One randomized subject per arm (day 0 today): every block of 2 or 4 holds both arms."""
    found: dict[str, dict] = {}
    while len(found) < 2:
        subject = randomized(api)
        found.setdefault(subject["arm"], subject)
    return found


def make(app, maker, **values) -> str:
    with app.app_context():
        bag = maker(db.session(), **values)
        db.commit()
        return bag.bag_code


def week(api, subject: dict, number: int, kind: str = "infusion") -> int:
    visits = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    return next(v["visit_id"] for v in visits if (v["week"], v["kind"]) == (number, kind))


def allocate(api, visit_id: int, bag_id: str, weight_kg: float = 70.0):
    return api.post(f"/api/v1/visits/{visit_id}/allocation", as_="coordinator",
                    json={"bag_id": bag_id, "weight_kg": weight_kg})


def codes(response) -> list[str]:
    assert response.status_code == 409, response.get_json()
    return [r["code"] for r in response.get_json()["reasons"]]


def test_an_arm_a_subject_gets_a_released_ucmsc_bag_dosed_for_the_weight(app, api, arms):
    bag = make(app, factory.ucmsc_bag, total_cells=70_000_000)
    response = allocate(api, week(api, arms["A"], 0), bag, weight_kg=70.0)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["bag_id"] == bag and body["subject_id"] == arms["A"]["subject_id"]
    assert body["required_cells"] == 70_000_000 and body["weight_kg"] == 70.0
    visits = api.get(f"/api/v1/subjects/{arms['A']['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    assert visits[0]["allocation"]["bag_id"] == bag
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "allocation")).one()
        assert json.loads(entry.new_values)["bag_id"] == bag and entry.actor == "coordinator"


def test_an_arm_b_subject_gets_a_placebo_bag(api, app, arms):
    response = allocate(api, week(api, arms["B"], 0), make(app, factory.placebo_bag))
    assert response.status_code == 201 and response.get_json()["required_cells"] is None


def test_the_wrong_product_for_the_arm_is_refused_by_name(app, api, arms):
    assert codes(allocate(api, week(api, arms["A"], 0), make(app, factory.placebo_bag))) == ["wrong_product_for_arm"]
    assert codes(allocate(api, week(api, arms["B"], 0), make(app, factory.ucmsc_bag))) == ["wrong_product_for_arm"]


def test_a_dose_outside_the_tolerance_for_the_weight_is_refused_and_its_bounds_accepted(app, api, arms):
    visit = week(api, arms["A"], 0)
    for just_outside in (77_000_001, 62_999_999):  # 70 kg needs 7.0e7 +/- 10%
        bag = make(app, factory.ucmsc_bag, total_cells=just_outside)
        assert codes(allocate(api, visit, bag)) == ["dose_out_of_tolerance"]
    heavier = allocate(api, visit, make(app, factory.ucmsc_bag, total_cells=70_000_000), weight_kg=90.0)
    assert codes(heavier) == ["dose_out_of_tolerance"] and "90.0 kg" in heavier.get_json()["reasons"][0]["message"]
    assert allocate(api, visit, make(app, factory.ucmsc_bag, total_cells=77_000_000)).status_code == 201


def test_a_placebo_bag_of_the_wrong_volume_is_refused(app, api, arms):
    bag = make(app, factory.placebo_bag, volume_ml=100.0)
    assert codes(allocate(api, week(api, arms["B"], 0), bag)) == ["placebo_volume_out_of_tolerance"]


def test_a_quarantined_or_rejected_bag_is_refused(app, api, arms):
    visit = week(api, arms["A"], 0)
    quarantined = make(app, factory.ucmsc_bag, quality_status="quarantine", lot_status="awaiting_release")
    assert codes(allocate(api, visit, quarantined)) == ["bag_not_released"]
    rejected = make(app, factory.ucmsc_bag, quality_status="rejected", lot_status="rejected")
    assert codes(allocate(api, visit, rejected)) == ["bag_not_released"]
    placebo = make(app, factory.placebo_bag, quality_status="quarantine")
    assert codes(allocate(api, week(api, arms["B"], 0), placebo)) == ["bag_not_released"]


def test_a_bag_expiring_before_the_planned_infusion_is_refused(app, api, arms):
    soon = make(app, factory.ucmsc_bag, expires_at=datetime.now(UTC) + timedelta(days=1))
    response = allocate(api, week(api, arms["A"], 4), soon)
    assert codes(response) == ["expires_too_soon"]
    planned = (site_today() + timedelta(days=28)).isoformat()
    assert f"week 4 infusion planned for {planned} 09:00" in response.get_json()["reasons"][0]["message"]


def _expiring(app, expires_at: datetime, *, frozen: bool = False) -> str:
    """A released UC-MSC bag expiring at ``expires_at`` (still frozen, not thawed, if ``frozen``)."""
    with app.app_context():
        bag = factory.ucmsc_bag(db.session(), expires_at=expires_at)
        if frozen:
            bag.preservation, bag.frozen_at = "cryopreserved", datetime.now(UTC) - timedelta(hours=1)
        db.commit()
        return bag.bag_code


def test_a_bag_expiring_too_soon_names_both_times_on_the_sites_clock_and_the_api_keeps_them_as_iso_times(
        app, api, arms):
    expires = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    bag = _expiring(app, expires)
    response = allocate(api, week(api, arms["A"], 4), bag)
    assert codes(response) == ["expires_too_soon"]
    reason = response.get_json()["reasons"][0]
    shown = expires.astimezone(BEIJING)
    planned = (site_today() + timedelta(days=28)).isoformat()
    assert reason["message"] == (f"{bag} expires at {shown:%Y-%m-%d %H:%M} UTC+08:00, before the week 4 infusion "
                                 f"planned for {planned} 09:00 UTC+08:00")
    params = reason["params"]
    assert params == {"bag_code": bag, "expires_at": shown.isoformat(), "week": 4,
                      "planned_at": f"{planned}T09:00:00+08:00"}
    assert datetime.fromisoformat(params["expires_at"]) == expires and params["expires_at"].endswith("+08:00")


def test_a_frozen_bag_expiring_before_an_unplanned_visits_window_closes_says_so_in_plain_english(app, api, arms):
    visit_id = week(api, arms["A"], 0)
    with app.app_context():
        db.session().get(Visit, visit_id).planned_at = None
        db.commit()
    expires = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    bag = _expiring(app, expires, frozen=True)
    reason = allocate(api, visit_id, bag).get_json()["reasons"][0]
    window_end = (site_today() + timedelta(days=3)).isoformat()
    assert reason["code"] == "expires_too_soon"
    assert reason["message"] == (f"{bag} expires at {expires.astimezone(BEIJING):%Y-%m-%d %H:%M} UTC+08:00 (its "
                                 f"frozen expiry), before the week 0 window closes at the end of {window_end}")
    assert reason["params"]["window_end"] == window_end and "planned_at" not in reason["params"]


def test_a_coordinator_reading_chinese_reads_a_bag_expiring_too_soon_in_chinese_with_the_sites_offset(
        app, api, arms, client, auth):
    visit = week(api, arms["A"], 4)
    expires = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    bag = _expiring(app, expires, frozen=True)
    auth.login("coordinator")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = auth.post(f"/trial/visits/{visit}/allocation", {"scan": bag, "weight_kg": "70"}).get_data(as_text=True)
    found = re.search(r'<li data-reason="expires_too_soon">(.*?)</li>', page)
    assert found, page
    said = unescape(found.group(1))
    planned = (site_today() + timedelta(days=28)).isoformat()
    assert said == (f"{bag} 的冻存有效期至 {expires.astimezone(BEIJING):%Y-%m-%d %H:%M} UTC+08:00，早于第 4 周计划于 "
                    f"{planned} 09:00 UTC+08:00 进行的输注")
    assert "CST" not in said
    assert re.findall(r"[A-Za-z]+", said.replace(bag, "").replace("UTC+08:00", "")) == []


def test_a_bag_filled_today_is_allocated_to_todays_week_0_infusion(app, api, arms):
    fresh = make(app, factory.ucmsc_bag, expires_at=datetime.now(UTC) + timedelta(hours=47))
    assert allocate(api, week(api, arms["A"], 0), fresh).status_code == 201


def test_a_visit_not_planned_yet_needs_the_bag_in_date_until_its_window_closes(app, api, arms):
    visit_id = week(api, arms["A"], 0)
    with app.app_context():
        db.session().get(Visit, visit_id).planned_at = None
        db.commit()
    soon = make(app, factory.ucmsc_bag, expires_at=datetime.now(UTC) + timedelta(days=1))
    response = allocate(api, visit_id, soon)
    assert codes(response) == ["expires_too_soon"]
    window_end = (site_today() + timedelta(days=3)).isoformat()
    assert window_end in response.get_json()["reasons"][0]["message"]


def test_a_bag_allocated_elsewhere_and_a_visit_with_a_bag_are_refused(app, api, arms):
    bag = make(app, factory.ucmsc_bag)
    assert allocate(api, week(api, arms["A"], 0), bag).status_code == 201
    assert codes(allocate(api, week(api, arms["A"], 4), bag)) == ["bag_already_allocated"]
    other = make(app, factory.ucmsc_bag)
    assert codes(allocate(api, week(api, arms["A"], 0), other)) == ["visit_already_allocated"]


def test_a_discarded_bag_and_a_closed_window_are_refused(app, api):
    subject = randomized(api, day0=site_today() - timedelta(days=10))
    maker = factory.ucmsc_bag if subject["arm"] == "A" else factory.placebo_bag
    response = allocate(api, week(api, subject, 0), make(app, maker, custody_state="discarded"))
    assert codes(response) == ["visit_window_passed", "bag_not_available"]


def test_every_failing_rule_is_named_at_once(app, api):
    subject = register(api)  # eligible, not randomized
    bag = make(app, factory.ucmsc_bag, quality_status="quarantine", lot_status="in_process", total_cells=1_000_000,
               expires_at=datetime.now(UTC) + timedelta(hours=2))
    assert set(codes(allocate(api, week(api, subject, 4, "follow_up"), bag))) == {
        "not_infusion_visit", "subject_not_randomized", "bag_not_released", "dose_out_of_tolerance",
        "expires_too_soon"}
    # Input that cannot be read is answered first, as a 400 naming the field.
    assert allocate(api, week(api, subject, 4, "follow_up"), bag, weight_kg=-1).status_code == 400


def test_bad_input_names_the_field(app, api, arms):
    visit = week(api, arms["A"], 0)
    bag = make(app, factory.ucmsc_bag)
    assert set(allocate(api, visit, bag, weight_kg=700).get_json()["fields"]) == {"weight_kg"}
    assert set(allocate(api, visit, "not a bag", weight_kg=0).get_json()["fields"]) == {"bag_id", "weight_kg"}
    assert allocate(api, visit, "A999926999999-D0001VA0").status_code == 404
    assert allocate(api, 99999, bag).status_code == 404
    response = api.post(f"/api/v1/visits/{visit}/allocation", as_="nurse", json={"bag_id": bag, "weight_kg": 70})
    assert response.status_code == 403


def test_the_label_service_finds_the_recipient_of_an_allocated_bag(app, api, arms):
    bag_code = make(app, factory.ucmsc_bag)
    spare_code = make(app, factory.ucmsc_bag)
    allocate(api, week(api, arms["A"], 0), f"BAG-{bag_code}")  # the pick-list spelling of a bag id
    with app.app_context():
        session = db.session()
        bag = session.exec(select(Bag).where(Bag.bag_code == bag_code)).one()
        spare = session.exec(select(Bag).where(Bag.bag_code == spare_code)).one()
        assert isinstance(allocation.allocation_for_bag(session, bag), Allocation)
        assert allocation.subject_for_bag(session, bag).subject_code == arms["A"]["subject_id"]
        assert allocation.allocation_for_bag(session, spare) is None
        assert allocation.subject_for_bag(session, spare) is None
