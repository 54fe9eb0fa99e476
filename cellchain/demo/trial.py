"""Demo trial data: a handful of subjects at different points of the schedule. Safe to run twice.

Everything goes through the real services (registration, screening, randomization, follow-up visits,
allocation), so the demo's audit trail looks like a real site's. Day 0 is set relative to today, so
the calendar shows visits planned, in their window, done and missed. Randomized subjects get a
released bag of their arm's product for their open infusion visit when the stock holds one that
passes every allocation rule; with no bags made yet the demo simply leaves allocation out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit.signatures import SignatureInput
from cellchain.core.errors import Refused
from cellchain.manufacturing.models import Bag
from cellchain.people import accounts
from cellchain.people.rules.roles import Actor
from cellchain.safety import clinical_deviations
from cellchain.trial import allocation, lifecycle, randomization, subjects, visits
from cellchain.trial.models import Allocation, Subject
from cellchain.trial.rules import lifecycle as lifecycle_rules
from cellchain.trial.rules.schedule import FOLLOW_UP, INFUSION

DEMO_PASSWORD = "cellchain-demo"  # noqa: S105 - the published demo password (demo/loader.py)

COORDINATOR = "coordinator"
NO_EXCLUSIONS = {"prior_other_organ_transplant": False, "vital_organ_failure": False,
                 "investigational_drug_within_30_days": False, "on_immunosuppressant": False,
                 "active_infection": False, "pregnant_or_lactating": False}
ALL_INCLUDED = {"meets_transplant_criteria": True, "first_transplant": True, "liver_only": True,
                "consent_signed": True, "willing_to_comply": True}

# (screening number, age at day 0, sex, weight, day 0 relative to today, randomize?, answer overrides)
SUBJECTS: tuple[tuple[str, int, str, float, int, bool, dict[str, Any]], ...] = (
    ("DEMO-SCR-001", 52, "male", 71.5, -20, False, {"on_immunosuppressant": True}),  # screen failure
    ("DEMO-SCR-002", 44, "female", 63.0, 3, False, {"pregnancy_test": "negative"}),  # awaiting randomization
    ("DEMO-SCR-003", 58, "male", 80.2, -1, True, {}),  # week 0 infusion window open
    ("DEMO-SCR-004", 37, "female", 58.4, -27, True, {"pregnancy_test": "not_applicable"}),  # week 4 due
    # week 12 due, last day of its window (so a fresh UC-MSC bag outlives the window), follow-ups done
    ("DEMO-SCR-005", 63, "male", 69.9, -87, True, {}),
    ("DEMO-SCR-006", 49, "female", 66.1, -200, True, {"pregnancy_test": "negative"}),  # follow-up phase
    ("DEMO-SCR-007", 56, "male", 70.3, 0, True, {}),  # week 0 infusion today: its bag allocated and on the ward
    ("DEMO-SCR-008", 61, "male", 74.8, -2, True, {}),  # withdrew consent before the first infusion (WITHDRAWN)
)
WITHDRAWN = "DEMO-SCR-008"
INVESTIGATOR = "investigator"


def answers(age: int, sex: str, weight: float, day0: date, overrides: dict[str, Any]) -> dict[str, Any]:
    birth = day0 - timedelta(days=round(age * 365.25) + 40)  # safe on 29 February too
    data: dict[str, Any] = {"birth_date": birth.isoformat(), "day0": day0.isoformat(), "sex": sex,
                            "weight_kg": weight, **ALL_INCLUDED, **NO_EXCLUSIONS}
    data.update(overrides)
    return data


def _register(session: Session, actor: Actor, protocol: subjects.Protocol, today: date) -> int:
    created = 0
    for number, age, sex, weight, offset, _randomize, overrides in SUBJECTS:
        if session.exec(select(Subject.id).where(Subject.screening_number == number)).first() is None:
            data = {"screening_number": number, **answers(age, sex, weight, today + timedelta(days=offset), overrides)}
            subjects.register(session, actor=actor, data=data, protocol=protocol)
            created += 1
    return created


def _randomize(session: Session, actor: Actor, protocol: subjects.Protocol) -> int:
    created = 0
    for number, *_rest, randomize, _overrides in SUBJECTS:
        subject = session.exec(select(Subject).where(Subject.screening_number == number)).one()
        if randomize and subject.arm is None:
            randomization.randomize(session, actor=actor, subject_code=subject.subject_code,
                                    planned_subjects=protocol.planned_subjects)
            created += 1
    return created


def _past_follow_ups(session: Session, actor: Actor, protocol: subjects.Protocol, today: date) -> int:
    """Follow-ups whose target day has passed are recorded done on that day, 10:00 at the site."""
    created = 0
    zone = ZoneInfo(protocol.timezone)
    for subject in session.exec(select(Subject).where(Subject.arm.is_not(None))).all():
        for visit in visits.visits_of(session, subject):
            if visit.kind == FOLLOW_UP and visit.status != "done" and visit.target_date < today:
                when = datetime.combine(visit.target_date, time(10, 0), tzinfo=zone)
                visits.record_follow_up(session, actor=actor, visit_id=visit.id, when=when, timezone=protocol.timezone)
                created += 1
    return created


MISSED = ("DEMO-SCR-006", 8, "readmitted for a biliary complication throughout the window")
"""The visit the coordinator marked missed, with the reason: its clinical protocol deviation awaits the investigator."""


def _missed_visit(session: Session, actor: Actor, protocol: subjects.Protocol) -> int:
    number, week, reason = MISSED
    subject = session.exec(select(Subject).where(Subject.screening_number == number)).one()
    visit = next(v for v in visits.visits_of(session, subject) if v.kind == INFUSION and v.week == week)
    if visit.status != "planned":
        return 0
    clinical_deviations.mark_visit_missed(session, actor=actor, visit_id=visit.id, reason=reason,
                                          timezone=protocol.timezone)
    return 1


def _allocations(session: Session, actor: Actor, protocol: subjects.Protocol, today: date) -> int:
    """Each randomized subject's open infusion visit gets a released, unallocated bag of its arm's product
    when the stock holds one that passes every allocation rule (dose for the weight, expiry, ...)."""
    created = 0
    allocated = select(Allocation.bag_id)
    stock = session.exec(select(Bag).where(Bag.quality_status == "released", Bag.id.not_in(allocated))
                         .order_by(Bag.expires_at)).all()
    for subject in session.exec(select(Subject).where(Subject.arm.is_not(None)).order_by(Subject.id)).all():
        product = "ucmsc" if subject.arm == "A" else "placebo"
        state = next((s for s in visits.calendar(session, subject, today=today, timezone=protocol.timezone)
                      if s.visit.kind == INFUSION and s.open_for_work), None)
        if state is None or state.allocation is not None:
            continue  # only the next infusion is stocked, and only once
        for bag in [b for b in stock if b.kind == product]:
            try:
                allocation.allocate(session, actor=actor, visit_id=state.visit.id, bag_scan=bag.bag_code,
                                    weight_kg=subject.weight_kg, protocol=protocol, today=today)
            except Refused:
                continue
            stock.remove(bag)
            created += 1
            break
    return created


def _withdrawal(session: Session, protocol: subjects.Protocol, config: Mapping[str, Any],
                policy: accounts.Policy) -> int:
    """The investigator withdraws one randomized subject (consent withdrawn) with an e-signature, as on the
    subject's page: their visits are cancelled before any bag is allocated to them."""
    investigator = accounts.find_user(session, INVESTIGATOR)
    subject = session.exec(select(Subject).where(Subject.screening_number == WITHDRAWN)).first()
    if investigator is None or subject is None or not lifecycle_rules.may_move(subject.status,
                                                                              lifecycle_rules.WITHDRAWN):
        return 0
    lifecycle.end(session, actor=investigator, subject_code=subject.subject_code, to=lifecycle_rules.WITHDRAWN,
                  reason="consent_withdrawn", note="the subject no longer wishes to take part", ended_at=None,
                  signature=SignatureInput(INVESTIGATOR, DEMO_PASSWORD, "approved"), policy=policy,
                  timezone=protocol.timezone, ranges=config["TEMPERATURE_RANGES"])
    return 1


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """Add what is missing of the demo trial; returns how many records were made (0 the second time)."""
    actor = accounts.find_user(session, COORDINATOR)
    if actor is None:
        return 0
    protocol = subjects.Protocol.from_config(config)
    today = visits.site_today(protocol.timezone)
    created = _register(session, actor, protocol, today)
    created += _randomize(session, actor, protocol)
    created += _past_follow_ups(session, actor, protocol, today)
    created += _withdrawal(session, protocol, config, policy)
    created += _missed_visit(session, actor, protocol)
    return created + _allocations(session, actor, protocol, today)
