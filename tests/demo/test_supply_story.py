"""The demo tells the trial's supply story: cord -> released MCB and WCB with their vials in the tank's boxes ->
dosing lots thawed from WCB vials and released -> subjects infused at weeks 0, 4, 8 and 12 on their planned
days -> one lot held by its positive 14-day sterility culture, its infused subjects listed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.banking.models import CellBank, Vial
from cellchain.core import db
from cellchain.demo import banking as demo_banking
from cellchain.demo import loader as demo
from cellchain.demo import storage as demo_storage
from cellchain.demo import supply
from cellchain.manufacturing.models import Bag, Lot
from cellchain.people.accounts import Policy
from cellchain.quality import holds, qc
from cellchain.quality.models import Hold
from cellchain.safety.models import ClinicalDeviation
from cellchain.trial import visits
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.ward import infusions
from cellchain.ward.models import Infusion
from tests.conftest import FAST_HASH


@pytest.fixture
def story(app):
    with app.app_context():
        demo.load(db.session(), policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
    return app


def _stored(api, box_code: str) -> list[str]:
    box = api.get(f"/api/v1/storage/boxes/{box_code}", as_="qa").get_json()["box"]
    return [cell["item"] for line in box["grid"] for cell in line if cell["item"]]


def test_demo_has_a_released_mcb_and_wcb_whose_frozen_vials_sit_in_the_tank_boxes(story, api):
    banks = {b["level"]: b for b in api.get("/api/v1/banks", as_="qa").get_json()["banks"]}
    assert banks["MCB"]["status"] == banks["WCB"]["status"] == "released"
    assert banks["MCB"]["vial_count"] == demo_banking.MCB_VIALS and banks["WCB"]["vial_count"] == demo_banking.WCB_VIALS
    wcb = api.get(f"/api/v1/banks/{banks['WCB']['bank_code']}", as_="qa").get_json()
    assert wcb["source_vial"] == f"{banks['MCB']['bank_code']}-V001"  # the thawed MCB vial started the WCB
    for level, box_code in (("MCB", demo_storage.MCB_BOX), ("WCB", demo_storage.WCB_BOX)):
        frozen = [v["vial_code"] for v in api.get(f"/api/v1/banks/{banks[level]['bank_code']}", as_="qa")
                  .get_json()["vials"] if v["state"] == "frozen"]
        assert frozen and sorted(_stored(api, box_code)) == sorted(frozen)  # thawed vials were taken out first
    with story.app_context():
        session = db.session()
        bank_lots = session.exec(select(Lot).join(CellBank, CellBank.lot_id == Lot.id)).all()
        assert {r.sample_stage for lot in bank_lots for r in qc.results_of(session, lot)} == {"bank"}
        assert all(lot.spec_version == "UCMSC-BANK-1" for lot in bank_lots)


def test_demo_dosing_lots_are_thawed_from_wcb_vials_and_released_on_the_rapid_tests(story):
    with story.app_context():
        session = db.session()
        dosing = session.exec(select(Lot).join(Vial, Vial.id == Lot.source_vial_id)
                              .join(CellBank, CellBank.id == Vial.bank_id)
                              .where(CellBank.level == "WCB", Lot.purpose == "dosing")).all()
        assert len(dosing) == len(story.config["INFUSION_WEEKS"])  # one lot per infusion week of the cohort
        assert {lot.status for lot in dosing} == {"released"}
        for lot in dosing:
            assert lot.spec_version == "UCMSC-2"
            sterility = qc.results_of(session, lot, "sterility")
            assert len(sterility) == 1 and sterility[0].tested_at > lot.decided_at  # read after release


def test_demo_subjects_were_infused_at_weeks_0_4_8_12_on_their_planned_days_with_in_date_bags(story):
    with story.app_context():
        session = db.session()
        zone = ZoneInfo(story.config["SITE_TIMEZONE"])
        numbers = [number for number, *_rest in supply.SUBJECTS]
        subjects = session.exec(select(Subject).where(Subject.screening_number.in_(numbers))).all()
        assert len(subjects) == len(numbers) and {s.arm for s in subjects} <= {"A", "B"}
        late = {d.visit_id: d for d in session.exec(select(ClinicalDeviation).where(
            ClinicalDeviation.kind == "out_of_window"))}
        assert len(late) == 1
        for subject in subjects:
            assert subject.randomized_at.date() < subject.day0
            rows = session.exec(select(Infusion, Visit, Bag).join(Visit, Visit.id == Infusion.visit_id)
                                .join(Bag, Bag.id == Infusion.bag_id)
                                .where(Infusion.subject_id == subject.id).order_by(Visit.week)).all()
            assert [visit.week for _i, visit, _b in rows] == [0, 4, 8, 12]
            for infusion, visit, bag in rows:
                assert infusion.status == "completed" and visit.status == "done"
                allowed = late.get(visit.id)
                if allowed is None:
                    assert infusion.started_at.astimezone(zone).date() == visit.target_date  # the planned day
                else:  # given late, outside its window, under the approved deviation, which names it
                    assert infusion.started_at.astimezone(zone).date() == visit.target_date + timedelta(
                        days=supply.LATE_DAYS) > visit.window_end
                    assert (allowed.status, allowed.infusion_id) == ("approved", infusion.id)
                assert bag.filled_at < infusion.started_at < bag.expires_at
                allocated = session.exec(select(Allocation).where(Allocation.visit_id == visit.id)).one()
                assert allocated.bag_id == bag.id
                assert visit.weight_recorded_at < allocated.allocated_at < infusion.started_at
                assert bag.kind == ("ucmsc" if subject.arm == "A" else "placebo")
                if bag.kind == "ucmsc":  # a bag filled for this visit, dosed for the weight recorded for it
                    assert bag.for_visit_id == visit.id
                    lot = session.get(Lot, bag.lot_id)
                    assert lot.decided_at < infusion.started_at


def test_demo_lot_with_a_positive_sterility_after_release_is_held_and_lists_its_infused_subjects(story, api):
    with story.app_context():
        session = db.session()
        hold = session.exec(select(Hold).where(Hold.lifted_at.is_(None), Hold.recall.is_(False))).one()
        lot = session.get(Lot, hold.lot_id)
        week12 = session.exec(select(Subject.subject_code).join(Infusion, Infusion.subject_id == Subject.id)
                              .join(Bag, Bag.id == Infusion.bag_id).where(Bag.lot_id == lot.id)).all()
        assert week12  # the story's first subjects fill the first randomization block, so one is in arm A
        spare = session.exec(select(Bag).where(Bag.lot_id == lot.id, Bag.custody_state != "infused")).all()
        assert spare and holds.refusals(session, spare)  # what is left of the lot is held
        hold_id = hold.id
    detail = api.get(f"/api/v1/holds/{hold_id}", as_="investigator").get_json()
    assert detail["open"] and "positive" in detail["cause"]
    assert sorted(s["subject_id"] for s in detail["infused"]) == sorted(week12)
    assert {s["week"] for s in detail["infused"]} <= {supply.HELD_WEEK}
    for person in ("qa", "investigator"):
        notices = api.get("/api/v1/inbox", as_=person).get_json()["notices"]
        assert any(f"/qa/holds/{hold_id}" in (n.get("link") or "") for n in notices)


def test_demo_recall_of_a_lot_sends_its_look_back_with_the_subjects_infused_from_it(story, api):
    with story.app_context():
        session = db.session()
        recall = session.exec(select(Hold).where(Hold.recall.is_(True))).one()
        lot = session.get(Lot, recall.lot_id)
        infused = session.exec(select(Subject.subject_code).join(Infusion, Infusion.subject_id == Subject.id)
                               .join(Bag, Bag.id == Infusion.bag_id).where(Bag.lot_id == lot.id)).all()
        spare = session.exec(select(Bag).where(Bag.lot_id == lot.id, Bag.custody_state != "infused")).all()
        assert infused and spare and holds.refusals(session, spare)
    back = api.get(f"/api/v1/lookback/lot/{lot.lot_number}", as_="investigator").get_json()
    assert sorted(s["subject_id"] for s in back["subjects"]) == sorted(infused)
    assert {s["week"] for s in back["subjects"]} == {supply.RECALLED_WEEK}
    for person in ("qa", "investigator"):
        notices = api.get("/api/v1/inbox", as_=person).get_json()["notices"]
        (sent,) = [n for n in notices if n["kind"] == "recall"]
        assert sent["link"] == f"/lookback/lot/{lot.lot_number}" and all(code in sent["body"] for code in infused)


def test_demo_has_a_week_0_infusion_today_with_its_bag_on_the_ward(story):
    with story.app_context():
        session = db.session()
        subject = session.exec(select(Subject).where(Subject.screening_number == "DEMO-SCR-007")).one()
        today = visits.site_today(story.config["SITE_TIMEZONE"])
        assert subject.day0 == today
        due = [d for d in infusions.due_today(session, today=today) if d.subject.id == subject.id]
        assert [(d.visit.week, d.bag.custody_state) for d in due] == [(0, "at_ward")]


def test_loading_the_demo_story_again_adds_nothing(story):
    with story.app_context():
        session = db.session()
        before = session.exec(select(func.count()).select_from(AuditEntry)).one()
        assert demo.load(session, policy=Policy(hash_method=FAST_HASH), config=story.config) == 0
        db.commit()
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == before


def test_the_pages_the_readme_names_show_the_demo_story(story, client, auth):
    with story.app_context():
        session = db.session()
        mcb = session.exec(select(CellBank).where(CellBank.level == "MCB")).one()
        hold = session.exec(select(Hold).where(Hold.recall.is_(False))).one()
        held_lot = session.get(Lot, hold.lot_id).lot_number
        subject = session.exec(select(Subject).where(Subject.screening_number == supply.SUBJECTS[0][0])).one()
        din, subject_code, hold_id = mcb.din, subject.subject_code, hold.id
    auth.login("qa")
    pages = {"/banks/": mcb.bank_code, f"/storage/boxes/{demo_storage.MCB_BOX}": f"{mcb.bank_code}-V002",
             f"/banks/genealogy/{din}": "WCB-", f"/qa/holds/{hold_id}": held_lot, "/inbox/": held_lot,
             "/reports/dosing": subject_code}
    for path, shown in pages.items():
        answer = client.get(path)
        assert answer.status_code == 200 and shown in answer.get_data(as_text=True), path
    auth.logout()
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{subject_code}").get_data(as_text=True)
    assert page.count('<span class="badge ok">Done</span>') >= 4  # its four infusions (and the follow-ups since)
