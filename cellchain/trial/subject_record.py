"""What a subject's page reads: the visit calendar with what the coordinator may do at each visit, the
subject's infusions and the bags allocated to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.manufacturing.models import Bag
from cellchain.trial import allocation, visits
from cellchain.trial.models import Subject
from cellchain.trial.rules import lifecycle
from cellchain.trial.rules.schedule import FOLLOW_UP, INFUSION
from cellchain.ward.models import Infusion


@dataclass(frozen=True)
class CalendarRow:
    """A visit as the page shows it, with what the coordinator may do there (decided here, not in Jinja)."""

    state: visits.VisitState
    bag_code: str | None
    can_allocate: bool
    can_record: bool
    can_plan: bool = False
    can_weigh: bool = False  # record the visit's weight: an open infusion visit without its bag yet
    can_mark_missed: bool = False  # not done nor marked, its window open or closed (visits.mark_missed)


def calendar_rows(session: Session, subject: Subject, *, today: date, timezone: str,
                  editable: bool) -> list[CalendarRow]:
    """The calendar with its actions: a bag goes to the next open infusion visit without one, a follow-up
    is recorded once its window has opened. ``editable``: the reader may act (a coordinator, subject randomized).
    Infusion visits are worked only while the subject is in treatment; a withdrawn subject's follow-up visits
    still planned (the reason let follow-up continue) are still recorded."""
    states = visits.calendar(session, subject, today=today, timezone=timezone)
    treating = editable and subject.status in lifecycle.INFUSIBLE
    upcoming = next((s.visit.id for s in states
                     if s.visit.kind == INFUSION and s.open_for_work and s.allocation is None), None)
    rows = []
    for state in states:
        bag = session.get(Bag, state.allocation.bag_id) if state.allocation else None
        visit = state.visit
        rows.append(CalendarRow(
            state, bag.bag_code if bag else None,
            can_allocate=treating and visit.id == upcoming,
            can_record=editable and visit.kind == FOLLOW_UP and visit.status == "planned"
            and today >= visit.window_start,
            can_plan=treating and visit.kind == INFUSION and state.open_for_work,
            can_weigh=treating and visit.kind == INFUSION and state.open_for_work and state.allocation is None,
            can_mark_missed=editable and visit.status == "planned" and today >= visit.window_start))
    return rows


@dataclass(frozen=True)
class StateLine:
    """One move of the subject's lifecycle as the page's history shows it."""

    recorded_at: datetime
    actor: str
    action: str
    status: str
    reason: str | None


def state_history(session: Session, subject: Subject) -> list[StateLine]:
    """Every entry of the subject's audit trail that set its state, oldest first."""
    lines = []
    for entry in trail.history(session, "subject", subject.subject_code):
        new = json.loads(entry.new_values) if entry.new_values else {}
        if isinstance(new, dict) and "status" in new:
            lines.append(StateLine(datetime.fromisoformat(entry.recorded_at), entry.actor, entry.action,
                                   new["status"], entry.reason))
    return lines


def infusions_of(session: Session, subject: Subject) -> list[Infusion]:
    """The subject's infusions, earliest first."""
    return list(session.exec(select(Infusion).where(Infusion.subject_id == subject.id)
                             .order_by(Infusion.started_at)).all())


def allocated_bags(session: Session, subject: Subject) -> dict[int, Bag]:
    """The bags allocated to the subject, by bag id."""
    return {a.bag_id: session.get(Bag, a.bag_id) for a in allocation.allocations_of(session, subject)}


def bag_code(session: Session, bag_id: int) -> str:
    return session.get(Bag, bag_id).bag_code


def subject_code_of_visit(session: Session, visit_id: int) -> str:
    """The code of the subject a visit belongs to (404 for an unknown visit)."""
    return session.get(Subject, visits.get_visit(session, visit_id).subject_id).subject_code
