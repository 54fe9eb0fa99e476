"""Allocation: one bag to one infusion visit of one randomized subject (docs/rules.md, "Trial: allocation and dose").

Every rule is checked and every failing one named in a single refusal, so the coordinator sees at
once that a bag is both quarantined and too small, not one after the other. The visit and the bag are
locked FOR UPDATE (always in that order) before deciding; unique constraints on ``allocations.visit_id``
and ``allocations.bag_id`` hold the rule even if two servers race.

Once allocated, the bag's label carries the recipient's identifier; the labelling service reprints it
and reads the recipient through :func:`allocation_for_bag` and :func:`subject_for_bag`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.identifiers.scans import scanned_bag_id
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.safety.models import ClinicalDeviation
from cellchain.trial import visits
from cellchain.trial.models import Allocation, BagReturn, Subject, Visit
from cellchain.trial.rules import dosing, lifecycle
from cellchain.trial.rules.allocated_bag import InDateUntil
from cellchain.trial.rules.protocol import Protocol
from cellchain.trial.rules.schedule import INFUSION
from cellchain.ward.rules import custody_states

ALLOCATING_ROLES = ("coordinator",)
PRODUCT_FOR_ARM = {"A": "ucmsc", "B": "placebo"}


def allocation_for_bag(session: Session, bag: Bag) -> Allocation | None:
    """The bag's allocation, if it has one (for the label: recipient identifier and birth date)."""
    return session.exec(select(Allocation).where(Allocation.bag_id == bag.id)).first()


def subject_for_bag(session: Session, bag: Bag) -> Subject | None:
    """The subject the bag is allocated to, or None while it is unallocated."""
    allocation = allocation_for_bag(session, bag)
    return session.get(Subject, allocation.subject_id) if allocation else None


def allocations_of(session: Session, subject: Subject) -> list[Allocation]:
    statement = select(Allocation).where(Allocation.subject_id == subject.id).order_by(Allocation.allocated_at)
    return list(session.exec(statement))


def _weight(visit: Visit, weight_kg: Any) -> float:
    """The weight the dose is checked against: the weight recorded for the visit (``visits.record_weight``);
    a weight given with the allocation must agree with it. A visit without a recorded weight takes the
    weight given here, as allocations did before visits recorded one."""
    given = None if weight_kg in (None, "") else dosing.validate_weight(weight_kg)
    if visit.weight_kg is None:
        if given is None:
            raise Invalid({"weight_kg": translated(N_(
                "record the week {week} visit's weight first, or give the weight")).format(
                week=visit.week)})
        return given
    if given is not None and given != visit.weight_kg:
        raise Invalid({"weight_kg": translated(N_(
            "the week {week} visit's weight is recorded as {recorded:g} kg, not {given:g} kg: record the visit's "
            "weight again if it changed")).format(week=visit.week, recorded=visit.weight_kg, given=given)})
    return visit.weight_kg


def _read_input(session: Session, visit: Visit, bag_scan: Any, weight_kg: Any,
                timezone: str) -> tuple[Bag, float]:
    """The bag a scan or bag id names and the weight, or every field that is wrong at once."""
    errors: dict[str, str] = {}
    weight, bag = None, None
    try:
        weight = _weight(visit, weight_kg)
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        bag = lookups.bag_by_code(session, scanned_bag_id(bag_scan, tz=ZoneInfo(timezone), field="bag_id"))
    except Invalid as bad:
        errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    return bag, weight


def in_date_until(visit: Visit, timezone: str) -> InDateUntil:
    """When the bag must still be in date: the infusion's planned time; for a visit not planned yet, the end
    of its window's last day at the site."""
    zone = ZoneInfo(timezone)
    if visit.planned_at is not None:
        return InDateUntil(visit.planned_at, visit.week, visit.planned_at.astimezone(zone), visit.window_end)
    closes = datetime.combine(visit.window_end + timedelta(days=1), time(0), tzinfo=zone)
    return InDateUntil(closes, visit.week, None, visit.window_end)


def _late_infusion_allowed(session: Session, visit: Visit) -> bool:
    """An approved clinical protocol deviation allows this visit's one infusion after its window: its bag may
    then be allocated late too (docs/rules.md, "Clinical protocol deviations")."""
    return session.exec(select(ClinicalDeviation.id).where(
        ClinicalDeviation.visit_id == visit.id, ClinicalDeviation.kind == "out_of_window",
        ClinicalDeviation.status == "approved", ClinicalDeviation.infusion_id.is_(None))).first() is not None


def _visit_reasons(session: Session, visit: Visit, subject: Subject, today: date) -> list[Reason]:
    reasons = []
    if visit.kind != INFUSION:
        reasons.append(Reason("not_infusion_visit", week=visit.week))
    if today > visit.window_end and not _late_infusion_allowed(session, visit):
        reasons.append(Reason("visit_window_passed", week=visit.week, window_end=visit.window_end))
    if visit.status == "missed":  # marked missed by the coordinator (trial/visits.py mark_missed)
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    if session.exec(select(Allocation.id).where(Allocation.visit_id == visit.id)).first() is not None:
        reasons.append(Reason("visit_already_allocated", week=visit.week))
    if subject.arm is None:
        reasons.append(Reason("subject_not_randomized", subject_code=subject.subject_code))
    elif subject.status not in lifecycle.INFUSIBLE:
        reasons.append(Reason(lifecycle.NOT_ON_TREATMENT, subject_code=subject.subject_code, state=subject.status))
    if visit.status == "cancelled":
        reasons.append(Reason("visit_cancelled", week=visit.week))
    return reasons


def _product_reasons(subject: Subject, bag: Bag, weight: float, protocol: Protocol) -> list[Reason]:
    reasons = []
    wanted = PRODUCT_FOR_ARM.get(subject.arm or "")
    if wanted is not None and bag.kind != wanted:
        reasons.append(Reason("wrong_product_for_arm", arm=subject.arm, wanted=wanted, kind=bag.kind))
    if bag.kind == "placebo":
        volume = dosing.check_placebo_volume(bag.volume_ml, expected_ml=protocol.placebo_volume_ml)
        reasons += [volume] if volume else []
    elif bag.total_cells is None:
        reasons.append(Reason("dose_out_of_tolerance", variant="no_count"))
    else:
        check = dosing.check_dose(bag.total_cells, weight, cells_per_kg=protocol.dose_cells_per_kg,
                                  tolerance=protocol.dose_tolerance)
        reasons += [check.reason] if check.reason else []
    return reasons


def _reserved_reasons(session: Session, bag: Bag, visit: Visit) -> list[Reason]:
    """A bag made for a named subject's visit (its volume is that subject's dose) goes to that visit only."""
    if bag.for_visit_id is None or bag.for_visit_id == visit.id:
        return []
    owner, for_visit = session.get(Subject, bag.for_subject_id), session.get(Visit, bag.for_visit_id)
    return [Reason("bag_reserved_for_another_visit", bag_code=bag.bag_code, subject_code=owner.subject_code,
                   week=for_visit.week, total_cells=bag.total_cells)]


def _bag_reasons(session: Session, bag: Bag, visit: Visit, timezone: str) -> list[Reason]:
    reasons = _reserved_reasons(session, bag, visit)
    if session.exec(select(BagReturn.id).where(BagReturn.bag_id == bag.id,
                                               BagReturn.status == "awaiting_decision")).first() is not None:
        reasons.append(Reason("bag_awaiting_return_decision", bag_code=bag.bag_code))
    lot = session.get(Lot, bag.lot_id) if bag.lot_id else None
    if bag.quality_status != "released" or (lot is not None and lot.status != "released"):
        if lot is not None and lot.status != "released":
            reasons.append(Reason("bag_not_released", variant="lot", bag_code=bag.bag_code,
                                  quality_status=bag.quality_status, lot_status=lot.status))
        else:
            reasons.append(Reason("bag_not_released", variant="allocation", bag_code=bag.bag_code,
                                  quality_status=bag.quality_status))
    if bag.custody_state in custody_states.TERMINAL_STATES:
        reasons.append(Reason("bag_not_available", bag_code=bag.bag_code, custody_state=bag.custody_state))
    until = in_date_until(visit, timezone)
    # A frozen bag not yet thawed is judged by its frozen expiry: it is thawed for the infusion and its
    # thawed expiry is then never later than the frozen one (docs/rules.md, "Frozen bags and the thaw").
    if bag.expires_at < until.until:
        frozen = "frozen" if bag.preservation == "cryopreserved" and bag.thawed_at is None else ""
        reasons.append(Reason("expires_too_soon", variant="_".join(filter(None, (frozen, until.variant))),
                              bag_code=bag.bag_code, expires_at=bag.expires_at.astimezone(ZoneInfo(timezone)),
                              **until.params))
    elsewhere = allocation_for_bag(session, bag)
    if elsewhere is not None:
        reasons.append(Reason("bag_already_allocated", bag_code=bag.bag_code, visit_id=elsewhere.visit_id))
    return reasons + holds.refusals(session, [bag])  # docs/rules.md, "Quality: holds"


def allocate(session: Session, *, actor: Actor, visit_id: int, bag_scan: Any, weight_kg: Any,
             protocol: Protocol, today: date, now: datetime | None = None) -> Allocation:
    """Allocate the scanned bag to an infusion visit at the weight recorded for that visit, or refuse
    with every reason. ``today`` is the site's date (the caller knows the site's zone); ``now``, the time
    recorded as allocated, is passed only by the demo for its past allocations."""
    require_role(actor.roles, *ALLOCATING_ROLES, action=N_("allocate bags"))
    visit = visits.get_visit(session, visit_id, for_update=True)
    found, weight = _read_input(session, visit, bag_scan, weight_kg, protocol.timezone)
    bag = lookups.bag_by_code(session, found.bag_code, for_update=True)
    subject = session.get(Subject, visit.subject_id)
    reasons = (_visit_reasons(session, visit, subject, today) + _product_reasons(subject, bag, weight, protocol)
               + _bag_reasons(session, bag, visit, protocol.timezone))
    if reasons:
        raise Refused(reasons)
    required = dosing.required_cells(weight, protocol.dose_cells_per_kg) if bag.kind == "ucmsc" else None
    allocation = Allocation(visit_id=visit.id, bag_id=bag.id, subject_id=subject.id, weight_kg=weight,
                            required_cells=required, allocated_by=actor.id, allocated_at=now or utcnow())
    session.add(allocation)
    session.flush()
    trail.record(session, actor=actor, record_type="allocation", record_id=allocation.id, action="allocate",
                 new={"visit_id": visit.id, "week": visit.week, "subject_id": subject.subject_code,
                      "arm": subject.arm, "bag_id": bag.bag_code, "kind": bag.kind, "weight_kg": weight,
                      "required_cells": required, "total_cells": bag.total_cells, "volume_ml": bag.volume_ml})
    return allocation
