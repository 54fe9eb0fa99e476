"""Bags made for named subjects: each one's volume gives 1e6 cells/kg of that subject's weight, it is reserved for
that subject's visit, and allocation checks its dose against the weight recorded for the visit; a frozen bag
is allocated by its frozen expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.manufacturing.models import Bag, Lot
from cellchain.trial.models import Allocation
from tests.factories import materials
from tests.factories import trial as trial_factory
from tests.factories.lab import formulated_lot, in_db, make_lot, snapshot
from tests.factories.trial import randomized

FILL = {"anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A"}
CELLS_PER_ML = 2_000_000.0  # so a bag's millilitres are half the subject's kilograms


def arm_a(api, weight_kg: float) -> dict:
    """A randomized arm A subject of that weight (blocks of 2 and 4 hold both arms, so this ends)."""
    while True:
        subject = randomized(api, weight_kg=weight_kg)
        if subject["arm"] == "A":
            return subject


def lot_at(app, cells_per_ml: float = CELLS_PER_ML, volume_ml: float = 300.0) -> str:
    """A formulated lot, and the released heparin lot ``FILL`` names."""
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        return make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=700_000_000,
                        formulation=(cells_per_ml, volume_ml)).lot_number


def visit_id(api, subject: dict, week: int) -> int:
    visits = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    return next(v["visit_id"] for v in visits if (v["week"], v["kind"]) == (week, "infusion"))


def release(app, lot_id: str) -> None:
    """QA's release of the lot and its bags (its own rules are tested in tests/quality)."""
    with in_db(app) as session:
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        lot.status = "released"
        for bag in session.exec(select(Bag).where(Bag.lot_id == lot.id)):
            bag.quality_status = "released"
            session.add(bag)
        session.add(lot)


def named_fill(app, api, subjects: list[dict], *, count: int = 0) -> dict[str, dict]:
    lot_id = lot_at(app)
    body = {**FILL, "count": count, "named": [{"subject_id": s["subject_id"], "week": 0} for s in subjects]}
    if count:
        body["volume_ml"] = 40
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json=body)
    assert response.status_code == 201, response.get_json()
    release(app, lot_id)
    bags = response.get_json()["bags"][count:]
    return {s["subject_id"]: b for s, b in zip(subjects, bags, strict=True)}


def test_named_bags_for_55_70_and_90_kg_subjects_hold_one_million_cells_per_kg(app, api, client, auth):
    subjects = [arm_a(api, w) for w in (55.0, 70.0, 90.0)]
    bags = named_fill(app, api, subjects, count=2)
    for subject, weight in zip(subjects, (55.0, 70.0, 90.0), strict=True):
        bag = bags[subject["subject_id"]]
        assert bag["volume_ml"] == weight / 2 and bag["total_cells"] == int(weight * 1_000_000)
        assert bag["made_for_visit_id"] == visit_id(api, subject, 0)
    auth.login("lab")
    page = client.get(f"/lab/bags/{bags[subjects[0]['subject_id']]['bag_id']}").get_data(as_text=True)
    assert f"{subjects[0]['subject_id']} week 0" in page


def test_every_bag_holds_the_formulated_concentration_times_its_volume(app, api):
    lot_id = lot_at(app)
    wrong = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                     json={**FILL, "count": 2, "volume_ml": 35, "total_cells": 60_000_000})
    assert wrong.status_code == 409
    assert [r["code"] for r in wrong.get_json()["reasons"]] == ["cell_content_mismatch"]
    computed = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "count": 2, "volume_ml": 35})
    assert [b["total_cells"] for b in computed.get_json()["bags"]] == [70_000_000, 70_000_000]


def test_the_named_volumes_are_shown_before_the_fill_and_nothing_is_written(app, api, client, auth):
    subjects = [arm_a(api, w) for w in (55.0, 90.0)]
    lot_id = lot_at(app)
    named = [{"subject_id": s["subject_id"], "week": 0} for s in subjects]
    api.token("lab")
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    preview = api.post(f"/api/v1/lots/{lot_id}/named-doses", as_="lab", json={"named": named})
    assert [d["volume_ml"] for d in preview.get_json()["named"]] == [27.5, 45.0]
    lines = "\n".join(f"{s['subject_id']} 0" for s in subjects)
    posted = auth.post(f"/lab/lots/{lot_id}/bags", {"named": lines, "preview": "1", "anticoagulant": "heparin",
                                                    "anticoagulant_lot": "HEP2611A"})
    # the preview is a GET of the lot page with what was typed: a reload shows it again and posts nothing
    assert posted.status_code == 303
    where = urlsplit(posted.headers["Location"])
    assert where.path == f"/lab/lots/{lot_id}" and where.fragment == "fill"
    query = parse_qs(where.query)
    assert query["preview"] == ["1"] and query["named"] == [lines] and query["anticoagulant_lot"] == ["HEP2611A"]
    assert not {"csrf_token", "submission_id"} & set(query)
    for _ in range(2):
        page = client.get(f"{where.path}?{where.query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'data-testid="named-preview"' in html
        assert "27.5 ml" in html and "45 ml" in html and 'value="HEP2611A"' in html
    with in_db(app) as session:
        assert snapshot(session) == before
    filled = auth.post(f"/lab/lots/{lot_id}/bags", {"named": lines, "count": "0", "anticoagulant": "heparin",
                                                    "anticoagulant_lot": "HEP2611A"})
    assert filled.status_code == 303
    with in_db(app) as session:
        volumes = sorted(b.volume_ml for b in session.exec(select(Bag).where(Bag.din == lot_id)))
    assert volumes == [27.5, 45.0]


def test_a_refused_preview_is_a_page_with_the_reason_in_the_fill_form_and_writes_nothing(app, api, client, auth):
    lot_id = lot_at(app)
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    page = client.get(f"/lab/lots/{lot_id}", query_string={"preview": "1", "named": "SUBJ-9999 0", "count": "2"})
    html = page.get_data(as_text=True)
    assert page.status_code == 409 and 'data-reason="named_subject_unknown"' in html
    assert "SUBJ-9999 0</textarea>" in html and 'name="count" inputmode="numeric" value="2"' in html
    assert 'data-testid="named-preview"' not in html
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_named_bag_is_refused_to_another_subject_and_another_visit(app, api):
    owner, other = arm_a(api, 55.0), arm_a(api, 55.0)
    bag = named_fill(app, api, [owner])[owner["subject_id"]]
    for visit in (visit_id(api, other, 0), visit_id(api, owner, 4)):
        response = api.post(f"/api/v1/visits/{visit}/allocation", as_="coordinator",
                            json={"bag_id": bag["bag_id"], "weight_kg": 55.0})
        assert response.status_code == 409, response.get_json()
        assert "bag_reserved_for_another_visit" in [r["code"] for r in response.get_json()["reasons"]]
    mine = api.post(f"/api/v1/visits/{visit_id(api, owner, 0)}/allocation", as_="coordinator",
                    json={"bag_id": bag["bag_id"], "weight_kg": 55.0})
    assert mine.status_code == 201, mine.get_json()


def test_allocation_checks_a_named_bag_against_the_weight_recorded_for_the_visit(app, api, client):
    subject = arm_a(api, 55.0)
    bag = named_fill(app, api, [subject])[subject["subject_id"]]
    visit = visit_id(api, subject, 0)
    weighed = api.post(f"/api/v1/visits/{visit}/weight", as_="coordinator", json={"weight_kg": 65.0})
    assert weighed.status_code == 200 and weighed.get_json()["weight_kg"] == 65.0
    refused = api.post(f"/api/v1/visits/{visit}/allocation", as_="coordinator", json={"bag_id": bag["bag_id"]})
    assert refused.status_code == 409
    (reason,) = refused.get_json()["reasons"]
    assert reason["code"] == "dose_out_of_tolerance" and "5.5e7 cells" in reason["message"]
    assert "65.0 kg" in reason["message"]
    disagree = api.post(f"/api/v1/visits/{visit}/allocation", as_="coordinator",
                        json={"bag_id": bag["bag_id"], "weight_kg": 55.0})
    assert disagree.status_code == 400 and disagree.get_json()["fields"]["weight_kg"] == (
        "the week 0 visit's weight is recorded as 65 kg, not 55 kg: record the visit's weight again if it changed")
    in_chinese = client.post(f"/api/v1/visits/{visit}/allocation", json={"bag_id": bag["bag_id"], "weight_kg": 55.0},
                             headers={**api.headers("coordinator"), "Accept-Language": "zh-CN"})
    assert in_chinese.get_json()["fields"]["weight_kg"] == (
        "第 0 周访视的体重记录为 65 kg，而不是 55 kg：如体重有变化，请重新记录该访视的体重")
    api.post(f"/api/v1/visits/{visit}/weight", as_="coordinator", json={"weight_kg": 56.0})
    allocated = api.post(f"/api/v1/visits/{visit}/allocation", as_="coordinator", json={"bag_id": bag["bag_id"]})
    assert allocated.status_code == 201 and allocated.get_json()["weight_kg"] == 56.0
    with in_db(app) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.record_type == "visit",
                                                        AuditEntry.action == "record_weight",
                                                        AuditEntry.record_id == str(visit))).all()
    assert [e.actor for e in entries] == ["coordinator", "coordinator"]
    again = api.post(f"/api/v1/visits/{visit}/weight", as_="coordinator", json={"weight_kg": 60.0})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "visit_already_allocated"


def test_the_coordinator_records_the_visit_weight_on_the_subject_page_and_allocates_at_it(app, api, client, auth):
    subject = arm_a(api, 70.0)
    bag = named_fill(app, api, [subject])[subject["subject_id"]]
    visit = visit_id(api, subject, 0)
    auth.login("coordinator")
    bad = auth.post(f"/trial/visits/{visit}/weight", {"weight_kg": "700"})
    assert bad.status_code == 400 and "plausible" in bad.get_data(as_text=True)
    response = auth.post(f"/trial/visits/{visit}/weight", {"weight_kg": "68.5"})
    assert response.status_code == 303
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert "68.5 kg" in page and "Dose checked against the recorded 68.5 kg" in page
    allocated = auth.post(f"/trial/visits/{visit}/allocation", {"scan": bag["bag_id"]})
    assert allocated.status_code == 303
    with in_db(app) as session:
        row = session.exec(select(Allocation).where(Allocation.visit_id == visit)).one()
    assert row.weight_kg == 68.5


def test_a_named_entry_for_an_unknown_subject_or_a_follow_up_week_is_refused_by_name(app, api):
    subject = arm_a(api, 70.0)
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lot_id = formulated_lot(session).lot_number
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                        json={**FILL, "named": [{"subject_id": "SUBJ-9999", "week": 0},
                                                {"subject_id": subject["subject_id"], "week": 2}]})
    assert response.status_code == 409, response.get_json()
    assert [r["code"] for r in response.get_json()["reasons"]] == ["named_subject_unknown", "named_visit_not_infusion"]


def test_a_frozen_bag_is_allocated_to_an_infusion_weeks_away_within_its_frozen_expiry(app, api):
    subject = arm_a(api, 70.0)
    now = datetime.now(UTC)
    with in_db(app) as session:
        frozen = trial_factory.ucmsc_bag(session, expires_at=now + timedelta(days=180))
        frozen.preservation, frozen.frozen_at, frozen.frozen_expires_at = "cryopreserved", now, frozen.expires_at
        session.add(frozen)
        fresh = trial_factory.ucmsc_bag(session, expires_at=now + timedelta(hours=48))
        codes = frozen.bag_code, fresh.bag_code
    week_8 = visit_id(api, subject, 8)
    refused = api.post(f"/api/v1/visits/{week_8}/allocation", as_="coordinator",
                       json={"bag_id": codes[1], "weight_kg": 70.0})
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["expires_too_soon"]
    allocated = api.post(f"/api/v1/visits/{week_8}/allocation", as_="coordinator",
                         json={"bag_id": codes[0], "weight_kg": 70.0})
    assert allocated.status_code == 201, allocated.get_json()
