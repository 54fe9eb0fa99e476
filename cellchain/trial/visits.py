"""A subject's visit calendar: planned from day 0, and marked done when the visit happened.

The schedule itself (weeks, windows) is ``rules.schedule``; this module stores it, says where each
visit stands today at the site, and records a visit as done. ``planned`` and ``done`` are stored; ``out_of_window``
depends on when the visit was done, and a visit whose window closed without it reads ``missed`` on the day you
ask, so both are computed. ``missed`` is stored only when the coordinator marks a visit missed, with a reason
(``mark_missed``): the subject will not come, which the protocol deviation register then holds
(docs/rules.md, "Clinical protocol deviations"). A visit marked missed is final: nothing is planned, weighed,
allocated, recorded or infused at it.

Who marks a visit done: the ward's infusion service when an infusion is completed (``mark_done``), and
the coordinator for a follow-up visit (``record_follow_up``). An infusion visit is never marked done
by hand: its record is the infusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import dosing, lifecycle, schedule
from cellchain.trial.rules.protocol import Protocol

DONE_ROLES = ("nurse", "coordinator")
PLANNING_ROLES = ("coordinator",)
REASON_MAX = 500
FOLLOW_UP_ROLES = ("coordinator",)
MISSED_ROLES = ("coordinator",)
MARKED_MISSED = "missed"
STATUSES = ("planned", "done", "missed", "out_of_window", "cancelled")
CANCELLED = "cancelled"


@dataclass(frozen=True)
class VisitState:
    """A visit as the calendar shows it today: its row, computed status, and allocation if any."""

    visit: Visit
    status: str
    allocation: Allocation | None = None

    @property
    def open_for_work(self) -> bool:
        """Not done and its window not yet closed: something can still be scheduled or recorded."""
        return self.status == "planned"


def site_today(timezone: str) -> date:
    """Today's date at the site; visit windows are calendar days there, not in UTC."""
    return datetime.now(ZoneInfo(timezone)).date()


def _planned(visit: Visit) -> schedule.PlannedVisit:
    return schedule.PlannedVisit(visit.week, visit.kind, visit.target_date, visit.window_start, visit.window_end)


def status_of(visit: Visit, *, today: date, timezone: str) -> str:
    """``done`` in its window, ``out_of_window`` when done early or late, ``missed`` (marked by the coordinator,
    or its window closed), ``planned``, or ``cancelled`` (stored: the subject's withdrawal or death ended it)."""
    if visit.status == CANCELLED:
        return CANCELLED
    if visit.status == MARKED_MISSED:
        return "missed"
    if visit.status == "done" and visit.done_at is not None:
        done_on = visit.done_at.astimezone(ZoneInfo(timezone)).date()
        return "done" if schedule.timing_of(_planned(visit), done_on) == "in_window" else "out_of_window"
    return schedule.visit_status(_planned(visit), today=today, done=False)


def plan_for(session: Session, *, actor: Actor, subject: Subject, protocol: Protocol) -> list[Visit]:
    """Store the subject's schedule from day 0 and the protocol's weeks and windows; audited once."""
    planned = schedule.plan_visits(
        subject.day0, infusion_weeks=protocol.infusion_weeks, follow_up_weeks=protocol.follow_up_weeks,
        infusion_window_days=protocol.infusion_window_days, follow_up_window_days=protocol.follow_up_window_days)
    zone = ZoneInfo(protocol.timezone)
    rows = [Visit(subject_id=subject.id, week=p.week, kind=p.kind, target_date=p.target_date,
                  window_start=p.window_start, window_end=p.window_end,
                  planned_at=schedule.planned_time(p.target_date, protocol.infusion_planned_time, zone)
                  if p.kind == schedule.INFUSION else None) for p in planned]
    session.add_all(rows)
    session.flush()
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code, action="plan_visits",
                 new={"visits": [{"visit_id": v.id, "week": v.week, "kind": v.kind, "target_date": v.target_date,
                                  "window": [v.window_start, v.window_end], "planned_at": v.planned_at}
                                 for v in rows]})
    return rows


def visits_of(session: Session, subject: Subject) -> list[Visit]:
    statement = select(Visit).where(Visit.subject_id == subject.id).order_by(Visit.target_date, Visit.id)
    rows = list(session.exec(statement))
    return sorted(rows, key=lambda v: (v.target_date, schedule.KINDS.index(v.kind)))


def calendar(session: Session, subject: Subject, *, today: date, timezone: str) -> list[VisitState]:
    """Every visit of the subject with today's status and its allocation (infusion visits)."""
    rows = visits_of(session, subject)
    allocations = {a.visit_id: a for a in session.exec(select(Allocation).where(Allocation.subject_id == subject.id))}
    return [VisitState(v, status_of(v, today=today, timezone=timezone), allocations.get(v.id)) for v in rows]


def calendars(session: Session, subjects: Sequence[Subject], *, today: date,
              timezone: str) -> dict[int, list[VisitState]]:
    """``calendar`` for a page of subjects, by subject id: their visits and allocations in two statements."""
    ids = [subject.id for subject in subjects]
    if not ids:
        return {}
    by_subject: dict[int, list[Visit]] = {i: [] for i in ids}
    for visit in session.exec(select(Visit).where(Visit.subject_id.in_(ids)).order_by(Visit.target_date, Visit.id)):
        by_subject[visit.subject_id].append(visit)
    allocations = {a.visit_id: a for a in session.exec(select(Allocation).where(Allocation.subject_id.in_(ids)))}
    return {i: [VisitState(v, status_of(v, today=today, timezone=timezone), allocations.get(v.id))
                for v in sorted(rows, key=lambda v: (v.target_date, schedule.KINDS.index(v.kind)))]
            for i, rows in by_subject.items()}


def next_due(states: Sequence[VisitState]) -> VisitState | None:
    """The earliest visit still to happen (not done, window not closed): what the coordinator plans next."""
    return next((s for s in states if s.open_for_work), None)


def get_visit(session: Session, visit_id: int, *, for_update: bool = False) -> Visit:
    statement = select(Visit).where(Visit.id == visit_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    visit = session.exec(statement).first()
    if visit is None:
        raise NotFound(f"no visit {visit_id}")
    return visit


def mark_done(session: Session, *, actor: Actor, visit: Visit, when: datetime) -> Visit:
    """Record that the visit took place at ``when`` (for the infusion service when an infusion completes).

    Done out of window is still recorded (the calendar then says ``out_of_window``): hiding a late visit
    would hide a protocol deviation. Refused: a visit already done, a time without zone or in the future.
    """
    require_role(actor.roles, *DONE_ROLES, action=N_("record a visit as done"))
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise Invalid({"when": translated(N_("give the time with its UTC offset"))})
    if when > utcnow():
        raise Invalid({"when": translated(N_("is in the future; record a visit once it has happened"))})
    visit = get_visit(session, visit.id, for_update=True)
    if visit.status == "done":
        raise Refused(Reason("visit_already_done", week=visit.week))
    if visit.status == CANCELLED:
        raise Refused(Reason("visit_cancelled", week=visit.week))
    if visit.status == MARKED_MISSED:
        raise Refused(Reason("visit_marked_missed", week=visit.week))
    visit.status, visit.done_at = "done", when
    session.add(visit)
    session.flush()
    trail.record(session, actor=actor, record_type="visit", record_id=visit.id, action="done",
                 old={"status": "planned"}, new={"status": "done", "done_at": when, "week": visit.week,
                                                 "kind": visit.kind})
    _advance(session, actor=actor, visit=visit)
    return visit


def _advance(session: Session, *, actor: Actor, visit: Visit) -> None:
    """The subject's last infusion visit done completes the treatment; the last follow-up, the study."""
    subject = session.get(Subject, visit.subject_id)
    last_week = session.exec(select(func.max(Visit.week)).where(Visit.subject_id == subject.id,
                                                                Visit.kind == visit.kind)).one()
    to = lifecycle.after_visit_done(subject.status, kind=visit.kind, week=visit.week, last_week=last_week)
    if to is None:
        return
    old, subject.status = subject.status, to
    session.add(subject)
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code,
                 action="complete_treatment" if to == lifecycle.TREATMENT_COMPLETED else "complete_study",
                 old={"status": old}, new={"status": to, "visit_id": visit.id, "week": visit.week})


def record_follow_up(session: Session, *, actor: Actor, visit_id: int, timezone: str,
                     when: datetime | None = None) -> Visit:
    """The coordinator records a follow-up visit as done; infusion visits are done by their infusion.

    A visit whose window has not opened yet is refused: recording week 48 in week 2 is a slip, not a
    visit. A late visit is recorded and shows as ``out_of_window``.
    """
    require_role(actor.roles, *FOLLOW_UP_ROLES, action=N_("record a follow-up visit"))
    when = when or utcnow()
    visit = get_visit(session, visit_id, for_update=True)
    subject = session.get(Subject, visit.subject_id)
    reasons = []
    if visit.kind != schedule.FOLLOW_UP:
        reasons.append(Reason("not_follow_up_visit"))
    if subject.arm is None:
        reasons.append(Reason("subject_not_randomized", subject_code=subject.subject_code))
    if visit.status == "done":
        reasons.append(Reason("visit_already_done", week=visit.week))
    if visit.status == CANCELLED:
        reasons.append(Reason("visit_cancelled", week=visit.week))
    if visit.status == MARKED_MISSED:
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    if when.tzinfo is not None and when.astimezone(ZoneInfo(timezone)).date() < visit.window_start:
        reasons.append(Reason("visit_window_not_open", week=visit.week, window_start=visit.window_start))
    if reasons:
        raise Refused(reasons)
    return mark_done(session, actor=actor, visit=visit, when=when)


def plan_infusion(session: Session, *, actor: Actor, visit_id: int, planned_at: datetime, reason: str | None,
                  timezone: str) -> Visit:
    """Set or move an infusion visit's planned date and time, inside its window; moving it needs a reason.

    Refused as well when the bag already allocated to the visit expires before the new time: the
    coordinator allocates another bag first. Audited with the old and new time and the reason.
    """
    require_role(actor.roles, *PLANNING_ROLES, action=N_("plan infusions"))
    if not isinstance(planned_at, datetime) or planned_at.tzinfo is None:
        raise Invalid({"planned_at": translated(N_("give the date and time with its UTC offset"))})
    if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_MAX):
        raise Invalid({"reason": translated(N_(
            "the reason in words, at most {reason_max} characters")).format(
            reason_max=REASON_MAX)})
    reason = (reason or "").strip()
    visit = get_visit(session, visit_id, for_update=True)
    if visit.planned_at is not None and not reason:
        raise Invalid({"reason": translated(N_("say why the infusion moves"))})
    local = planned_at.astimezone(ZoneInfo(timezone))
    reasons = schedule.planning_reasons(_planned(visit), local, done=visit.status == "done")
    if visit.status == CANCELLED:
        reasons.append(Reason("visit_cancelled", week=visit.week))
    if visit.status == MARKED_MISSED:
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    allocation = session.exec(select(Allocation).where(Allocation.visit_id == visit.id)).first()
    if allocation is not None:
        reasons += _allocated_bag_reasons(session, allocation, planned_at, timezone)
    if reasons:
        raise Refused(reasons)
    old = visit.planned_at
    visit.planned_at = planned_at
    session.add(visit)
    session.flush()
    trail.record(session, actor=actor, record_type="visit", record_id=visit.id,
                 action="reschedule_infusion" if old else "plan_infusion", old={"planned_at": old},
                 new={"planned_at": planned_at, "week": visit.week}, reason=reason or None)
    return visit


def _allocated_bag_reasons(session: Session, allocation: Allocation, planned_at: datetime,
                           timezone: str) -> list[Reason]:
    bag = session.get(Bag, allocation.bag_id)
    if bag.expires_at >= planned_at:
        return []
    zone = ZoneInfo(timezone)
    return [Reason("expires_too_soon", variant="replan", bag_code=bag.bag_code,
                   expires_at=bag.expires_at.astimezone(zone), planned_at=planned_at.astimezone(zone))]


def record_weight(session: Session, *, actor: Actor, visit_id: int, weight_kg: Any,
                  now: datetime | None = None) -> Visit:
    """The coordinator records the subject's weight for an infusion visit, before its bag is allocated
    (``now``: when, passed only by the demo for its past visits).

    Allocation checks the bag's dose against this weight (docs/rules.md, "Trial: allocation and dose"),
    so it is refused once the visit has a bag (allocate again to a new weight is a new decision) or is done.
    A weight recorded again replaces the earlier one; both are in the audit trail.
    """
    require_role(actor.roles, *PLANNING_ROLES, action=N_("record a visit's weight"))
    weight = dosing.validate_weight(weight_kg)
    visit = get_visit(session, visit_id, for_update=True)
    reasons = []
    if visit.kind != schedule.INFUSION:
        reasons.append(Reason("not_infusion_visit", week=visit.week))
    if visit.status == "done":
        reasons.append(Reason("visit_already_done", week=visit.week))
    if visit.status == CANCELLED:
        reasons.append(Reason("visit_cancelled", week=visit.week))
    if visit.status == MARKED_MISSED:
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    if session.exec(select(Allocation.id).where(Allocation.visit_id == visit.id)).first() is not None:
        reasons.append(Reason("visit_already_allocated", variant="reweigh", week=visit.week))
    if reasons:
        raise Refused(reasons)
    old = visit.weight_kg
    visit.weight_kg, visit.weight_recorded_at, visit.weight_recorded_by = weight, now or utcnow(), actor.id
    session.add(visit)
    session.flush()
    trail.record(session, actor=actor, record_type="visit", record_id=visit.id, action="record_weight",
                 old={"weight_kg": old}, new={"weight_kg": weight, "week": visit.week})
    return visit


def mark_missed(session: Session, *, actor: Actor, visit_id: int, reason: Any, timezone: str,
                now: datetime | None = None) -> Visit:
    """The coordinator marks a visit missed, with the reason: the subject will not come to it.

    Refused: a visit done or already marked, a visit whose window has not opened yet (marking week 48 missed
    in week 2 is a slip, not a missed visit). Audited with the reason. ``now``: the demo's past days only.
    The caller opens the visit's clinical protocol deviation in the same transaction
    (``safety.clinical_deviations.mark_visit_missed``).
    """
    require_role(actor.roles, *MISSED_ROLES, action=N_("mark a visit missed"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
        raise Invalid({"reason": translated(N_(
            "say why the visit is missed, at most {reason_max} characters")).format(
            reason_max=REASON_MAX)})
    visit = get_visit(session, visit_id, for_update=True)
    today = (now or utcnow()).astimezone(ZoneInfo(timezone)).date()
    reasons = []
    if visit.status == "done":
        reasons.append(Reason("visit_already_done", week=visit.week))
    if visit.status == MARKED_MISSED:
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    if today < visit.window_start:
        reasons.append(Reason("visit_window_not_open", week=visit.week, window_start=visit.window_start))
    if reasons:
        raise Refused(reasons)
    old = visit.status
    visit.status = MARKED_MISSED
    session.add(visit)
    session.flush()
    trail.record(session, actor=actor, record_type="visit", record_id=visit.id, action="mark_missed",
                 old={"status": old}, new={"status": MARKED_MISSED, "week": visit.week, "kind": visit.kind},
                 reason=reason.strip())
    return visit
