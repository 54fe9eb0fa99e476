"""Demo supply story: subjects randomized about fifteen weeks ago and infused at weeks 0, 4, 8 and 12 on their
planned days, each infusion from a dosing lot thawed from a working-cell-bank vial (``demo/banking.py``) a
few days before, grown, formulated and filled into fresh bags the day before (48 h shelf life), tested on the
rapid tests and released by QA; the placebo arm gets placebo bags of a batch filled before day 0. The
sterility culture of each lot is read 14 days after release (Ph. Eur. 2.6.27): negative for all but the lot of
the week-12 infusions, whose positive culture holds it (QA and the investigator are told, its remaining bags
are held, its infused subjects listed on the hold page). Then QA recalls the week-4 lot (the heparin lot it was
filled with was recalled by its maker): its look-back, with the subjects infused from it, goes to QA and the
investigators, and its spare bags are held.

Everything through the real operations as the demo people, at the times it happened: the lab thaws, grows
and fills (bags named for each UC-MSC subject's visit, of the volume the visit's weight needs, plus spare
standard bags); QC enters results; QA releases with the demo password; the coordinator records each visit's
weight and allocates; lab and ward record the hand-overs; the nurse starts each infusion after the bedside
checks with the second nurse's signature, and completes it. The operations that read the clock take the
past time (``now``); the signatures keep the time they were made. Safe to run twice: nothing is added once
the past placebo batch of this story exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.demo import banking as demo_banking
from cellchain.demo import equipment as demo_equipment
from cellchain.demo import lab as demo_lab
from cellchain.demo import qc as demo_qc
from cellchain.demo import trial as demo_trial
from cellchain.demo.equipment import USED
from cellchain.identifiers import scans
from cellchain.manufacturing import bags, batch, lots
from cellchain.manufacturing.models import Bag, Lot
from cellchain.people import accounts
from cellchain.people.models import User
from cellchain.quality import holds, qc, release
from cellchain.safety import clinical_deviations
from cellchain.trial import allocation, randomization, subjects, visits
from cellchain.trial.models import Subject, Visit
from cellchain.trial.rules.schedule import INFUSION
from cellchain.ward import bedside, custody, infusions

DAY0_DAYS_AGO = 100
PLACEBO_SALINE_LOT = "NS2608A"
SPARE_BAGS = 2  # standard bags besides the named ones: the lot's stock a later allocation could draw on
# (screening number, age at day 0, sex, weight, days after the first day 0): two cohorts a day apart share
# each dosing lot (a bag filled the afternoon before is in date the next two mornings).
SUBJECTS: tuple[tuple[str, int, str, float, int], ...] = (
    ("DEMO-SCR-101", 47, "male", 72.4, 0),
    ("DEMO-SCR-102", 55, "female", 61.0, 0),
    ("DEMO-SCR-103", 39, "male", 84.6, 0),
    ("DEMO-SCR-104", 60, "male", 77.3, 1),
    ("DEMO-SCR-105", 51, "female", 58.9, 1),
    ("DEMO-SCR-106", 44, "male", 69.5, 1),
)
HELD_WEEK = 12  # the lot of this week's infusions grows a positive sterility culture
RECALLED_WEEK = 4  # QA recalls this week's lot: the anticoagulant lot it was filled with was recalled
RECALL_REASON = ("heparin lot used at the fill recalled by its maker (particulate matter); "
                 "follow up the subjects infused")
LATE_WEEK, LATE_DAYS = 4, 5
"""The first placebo subject's week-4 infusion is given 5 days after its target day, outside its window, under a
clinical protocol deviation the investigator approved (a placebo bag keeps for months; a fresh UC-MSC bag would not
outlive the delay)."""
LOT_HOURS = {"thaw": 8, "seed": 10, "fill": 14}  # site times on the days around an infusion
VITALS = {"heart_rate": 74, "bp": "124/78", "temperature_c": 36.7, "spo2": 98}


@dataclass
class _Story:
    who: demo_lab.Actors
    zone: ZoneInfo
    protocol: subjects.Protocol
    config: Mapping[str, Any]

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def person(self, session: Session, username: str) -> User:
        return accounts.find_user(session, username)


def _first_day0(protocol: subjects.Protocol) -> date:
    return visits.site_today(protocol.timezone) - timedelta(days=DAY0_DAYS_AGO)


def enrol(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """Register and randomize the story's subjects, three days before their day 0: loaded before the trial
    demo's subjects, so the randomization list's order follows the randomization times."""
    del policy  # no accounts or signatures here; the signature matches the other demo loaders
    coordinator = accounts.find_user(session, demo_trial.COORDINATOR)
    if coordinator is None or _enrolled(session):
        return 0
    protocol = subjects.Protocol.from_config(config)
    zone = ZoneInfo(config["SITE_TIMEZONE"])
    for number, age, sex, weight, offset in SUBJECTS:
        day0 = _first_day0(protocol) + timedelta(days=offset)
        answers = demo_trial.answers(age, sex, weight, day0, {"pregnancy_test": "negative"} if sex == "female" else {})
        subject = subjects.register(session, actor=coordinator, data={"screening_number": number, **answers},
                                    protocol=protocol)
        randomization.randomize(session, actor=coordinator, subject_code=subject.subject_code,
                                planned_subjects=protocol.planned_subjects, fin=config["FACILITY_FIN"],
                                now=datetime.combine(day0 - timedelta(days=3), time(11), tzinfo=zone))
    return len(SUBJECTS)


def _enrolled(session: Session) -> list[Subject]:
    numbers = [number for number, *_rest in SUBJECTS]
    return list(session.exec(select(Subject).where(Subject.screening_number.in_(numbers)).order_by(Subject.id)))


def _visit(session: Session, subject: Subject, week: int) -> Visit:
    return session.exec(select(Visit).where(Visit.subject_id == subject.id, Visit.kind == INFUSION,
                                            Visit.week == week)).one()


def _dosing_lot(session: Session, story: _Story, fill_day: date, named: list[Subject], week: int, *,
                frozen: bool = False) -> Lot:
    """A WCB vial thawed three days before the fill, one passage, harvest, wash, formulation and the fill:
    a bag named for each UC-MSC subject's visit and ``SPARE_BAGS`` standard bags; ``frozen``: the bags are
    cryopreserved ten minutes after the fill (docs/rules.md, "Frozen bags and the thaw")."""
    who = story.who
    thawed = story.at(fill_day - timedelta(days=3), LOT_HOURS["thaw"])
    lot = demo_banking.take_and_thaw(session, who, demo_banking.next_vial(session, "WCB"), "dosing", thawed)
    demo_lab.record_step(session, who, lot, "media_and_reagent_lots", thawed + timedelta(hours=1), {},
                         [{"material_lot": "MSCSFM2608", "quantity": 500}, {"material_lot": "HPL2608C", "quantity": 50},
                          {"material_lot": "TRY2608", "quantity": 20}])
    seeded = story.at(fill_day - timedelta(days=3), LOT_HOURS["seed"])
    harvested = seeded + timedelta(days=2, hours=20)
    lots.record_passage(session, actor=who.lab, lot_number=lot.lot_number, limit=who.config["PASSAGE_LIMIT"],
                        data={"number": lot.first_passage, "seeded_cells": 60_000_000, "harvested_cells": 480_000_000,
                              "viability_pct": 94.0, "seeded_at": seeded, "harvested_at": harvested,
                              "instruments": USED["passage"]})
    lots.record_harvest(session, actor=who.lab, lot_number=lot.lot_number,
                        data={"harvested_cells": 480_000_000, "harvested_at": harvested + timedelta(minutes=30),
                              "instruments": USED["harvest"]})
    demo_lab.record_step(session, who, lot, "wash", harvested + timedelta(hours=1), {"washes": 2,
                                                                                    "buffer lot": "PBS2608"})
    lots.record_formulation(session, actor=who.lab, lot_number=lot.lot_number,
                            data={"cells_per_ml": 1_000_000, "volume_ml": 460,
                                  "performed_at": harvested + timedelta(hours=2), "instruments": USED["formulation"]})
    filled_at = story.at(fill_day, LOT_HOURS["fill"])
    freezing = {"preservation": "cryopreserved", "frozen_at": filled_at + timedelta(minutes=10)} if frozen else {}
    bags.fill_bags(session, actor=who.lab, lot_number=lot.lot_number,
                   settings=bags.FillSettings.from_config(story.config),
                   data={**freezing, "count": SPARE_BAGS, "volume_ml": 70, "total_cells": 70_000_000,
                         "anticoagulant": "heparin", "anticoagulant_lot": "HEP2608A", "anticoagulant_volume_ml": 5,
                         "named": [{"subject_id": s.subject_code, "week": week} for s in named],
                         "filled_at": filled_at, "instruments": USED["fill"]},
                   now=story.at(fill_day, LOT_HOURS["fill"], 15))
    demo_lab.verify_all(session, who, lot)
    return lot


def _test_and_release(session: Session, story: _Story, lot: Lot, fill_day: date) -> datetime:
    """The rapid tests on samples taken at the fill, read that evening; QA releases an hour later. The
    sterility culture is left for ``_read_sterility``."""
    analyst, reviewer = story.person(session, "qc"), story.person(session, "qa")
    sampled, tested = story.at(fill_day, LOT_HOURS["fill"], 30), story.at(fill_day, 19)
    for code in qc.missing_tests(session, lot):
        if code == "sterility":
            continue
        entry = qc.ResultInput(test=code, value=demo_qc.DEMO_VALUES[code], sample_stage="final_product",
                               sampled_at=sampled, tested_at=tested)
        qc.record_result(session, actor=analyst, lot_number=lot.lot_number, entry=entry, tz=story.zone)
    signature = signatures.SignatureInput(username=reviewer.username, password=demo_lab.DEMO_PASSWORD,
                                          meaning="released")
    released = story.at(fill_day, 20)
    release.release(session, actor=reviewer, lot_number=lot.lot_number, signature=signature,
                    policy=story.who.policy, steps=batch.step_definitions(story.config["BATCH_RECORD_STEPS"]),
                    now=released)
    return released


def _read_sterility(session: Session, story: _Story, lot: Lot, fill_day: date, positive: bool) -> None:
    """The 14-day culture of the fill's sample, read after release; a positive one holds the lot (qc.py)."""
    entry = qc.ResultInput(test="sterility", value="positive" if positive else "negative",
                           sample_stage="final_product", sampled_at=story.at(fill_day, LOT_HOURS["fill"], 30),
                           tested_at=story.at(fill_day + timedelta(days=14), 10))
    qc.record_result(session, actor=story.person(session, "qc"), lot_number=lot.lot_number, entry=entry,
                     tz=story.zone)


def _bag_for(session: Session, subject: Subject, visit: Visit, lot: Lot, placebo: list[Bag]) -> Bag:
    """A placebo bag, or the bag of ``lot`` filled for this visit (a named bag goes to its visit only)."""
    if subject.arm != "A":
        return placebo.pop(0)
    return session.exec(select(Bag).where(Bag.lot_id == lot.id, Bag.for_visit_id == visit.id)).one()


def _allow_late(session: Session, story: _Story, subject: Subject, visit: Visit) -> None:
    """The coordinator opens the out-of-window deviation of the late infusion; the investigator approves it, signed."""
    investigator = story.person(session, "investigator")
    row = clinical_deviations.open_by_hand(
        session, actor=story.person(session, demo_trial.COORDINATOR), subject_code=subject.subject_code,
        kind=clinical_deviations.OUT_OF_WINDOW, visit_id=visit.id,
        description=f"Week {visit.week} infusion postponed {LATE_DAYS} days: the subject had a fever through the "
                    "window (CMV reactivation, treated)")
    clinical_deviations.decide(session, actor=investigator, deviation_id=row.id, policy=story.who.policy,
                               note="placebo arm; the protocol allows a late dose once the fever has resolved",
                               signature=signatures.SignatureInput(username=investigator.username,
                                                                   password=demo_lab.DEMO_PASSWORD,
                                                                   meaning="approved"))


def _infuse(session: Session, story: _Story, subject: Subject, visit: Visit, bag: Bag, *, late_days: int = 0) -> None:
    """Weight, allocation, lab -> ward, bedside checks and start (second nurse signs), completion; ``late_days``
    after the target day (outside the window: under an approved clinical protocol deviation)."""
    coordinator, lab = story.person(session, demo_trial.COORDINATOR), story.who.lab
    nurse, second = story.person(session, "nurse"), story.person(session, "nurse2")
    ranges = story.config["TEMPERATURE_RANGES"]
    day = visit.target_date + timedelta(days=late_days)
    if late_days:
        _allow_late(session, story, subject, visit)
    planned = story.at(day, 9)
    allocation.allocate(session, actor=coordinator, visit_id=visit.id, bag_scan=bag.bag_code,
                        weight_kg=visit.weight_kg or subject.weight_kg, protocol=story.protocol,
                        today=day - timedelta(days=1), now=story.at(day - timedelta(days=1), 17))
    temperature = 5.0  # both kinds travel at 2-8 °C (TEMPERATURE_RANGES)
    custody.record_handover(session, actor=lab, record=bag, ranges=ranges, handover=custody.Handover(
        event="dispatched", location="cell processing lab", occurred_at=planned - timedelta(minutes=70),
        temperature_c=temperature, handed_over_by=lab.full_name, received_by="hospital courier"))
    custody.record_handover(session, actor=nurse, record=bag, ranges=ranges, handover=custody.Handover(
        event="received_at_ward", location="liver transplant ward", occurred_at=planned - timedelta(minutes=40),
        temperature_c=temperature, handed_over_by="hospital courier", received_by=nurse.full_name))
    session.flush()  # the bedside reads the bag's custody straight from the database, as a later request would
    started = planned + timedelta(minutes=10)
    request = infusions.StartRequest(
        wristband=scans.wristband_data(subject.subject_code), bag=bag.bag_code, started_at=started,
        verifier=signatures.SignatureInput(username=second.username, password=demo_lab.DEMO_PASSWORD,
                                           meaning="verified"),
        ultrasound_monitored=True, vital_signs=VITALS)
    refused: list[Any] = []
    infusion = infusions.start(session, actor=nurse, request=request, protocol=bedside.Protocol.from_config(
        story.config), policy=story.who.policy, ranges=ranges, defer=refused.append, now=started)
    infusions.complete(session, actor=nurse, infusion_id=infusion.id, completion=infusions.Completion(
        volume_ml=bag.volume_ml, ended_at=started + timedelta(minutes=45), reactions=[], vital_signs=VITALS,
        ultrasound_monitored=True), timezone=story.config["SITE_TIMEZONE"])


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The enrolled subjects' lots, bags and infusions unless they are there; the number of records made."""
    enrolled = [s for s in _enrolled(session) if s.arm is not None]
    if not enrolled or session.exec(select(Bag.id).where(Bag.saline_lot == PLACEBO_SALINE_LOT)).first() is not None:
        return 0
    if demo_banking.next_vial(session, "WCB") is None:
        return 0  # no released working bank to thaw from (the banking demo comes first)
    demo_equipment.load(session, config=config, policy=policy)  # the instruments its steps use, if not there yet
    who = demo_lab.Actors(accounts.find_user(session, "lab"), accounts.find_user(session, "lab2"), policy, config)
    protocol = subjects.Protocol.from_config(config)
    story = _Story(who, ZoneInfo(config["SITE_TIMEZONE"]), protocol, config)
    first_day0 = _first_day0(protocol)
    placebo_arm = [s for s in enrolled if s.arm != "A"]
    placebo = bags.fill_placebo(session, actor=who.lab, settings=bags.FillSettings.from_config(config),
                                data={"count": len(protocol.infusion_weeks) * len(placebo_arm) + SPARE_BAGS,
                                      "saline_lot": PLACEBO_SALINE_LOT,
                                      "filled_at": story.at(first_day0 - timedelta(days=2), 15)},
                                now=story.at(first_day0 - timedelta(days=2), 16))
    created = len(placebo)
    recalled = None
    for week in protocol.infusion_weeks:
        fill_day = first_day0 + timedelta(weeks=week, days=-1)
        dosed = [s for s in enrolled if s.arm == "A"]
        for subject in enrolled:
            visits.record_weight(session, actor=story.person(session, demo_trial.COORDINATOR),
                                 visit_id=_visit(session, subject, week).id, weight_kg=subject.weight_kg,
                                 now=story.at(fill_day - timedelta(days=1), 15))
        lot = _dosing_lot(session, story, fill_day, dosed, week)
        _test_and_release(session, story, lot, fill_day)
        for subject in enrolled:
            visit = _visit(session, subject, week)
            late = LATE_DAYS if week == LATE_WEEK and placebo_arm and subject.id == placebo_arm[0].id else 0
            _infuse(session, story, subject, visit, _bag_for(session, subject, visit, lot, placebo), late_days=late)
        _read_sterility(session, story, lot, fill_day, positive=week == HELD_WEEK)
        created += 1 + SPARE_BAGS + len(dosed) + 2 * len(enrolled)
        if week == RECALLED_WEEK:
            recalled = lot
    if recalled is not None:
        _recall(session, story, recalled)
    return created


def _recall(session: Session, story: _Story, lot: Lot) -> None:
    """QA recalls a lot given weeks ago: the look-back (its bags, the subjects infused) goes to QA and the
    investigators, and the lot's spare bags are held (docs/rules.md, "Quality: holds")."""
    reviewer = story.person(session, "qa")
    signature = signatures.SignatureInput(username=reviewer.username, password=demo_lab.DEMO_PASSWORD,
                                          meaning="approved")
    holds.place(session, actor=reviewer, item_kind="lot", item_code=lot.lot_number, reason=RECALL_REASON,
                recall=True, signature=signature, policy=story.who.policy)
