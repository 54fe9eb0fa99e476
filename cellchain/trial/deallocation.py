"""Allocation that follows reality: an allocated bag that can no longer be given flags its visit, and the
coordinator takes it off the visit (with a reason, audited) to allocate a replacement (docs/rules.md,
"Trial: allocation follows reality").

Taking a bag off a visit deletes the allocation row, so the visit and the bag are each free again (both
sides are unique); the audit entry written in the same transaction keeps the whole allocation, who took
it off, when and why (21 CFR 11.10(e): the record's previous values stay readable in the trail). A bag
still fit for use goes back to stock: it is simply unallocated, wherever its custody says it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.trial import allocation, visits
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import allocated_bag
from cellchain.ward.models import Infusion

NOT_ALLOCATED = "visit_not_allocated"
ALREADY_INFUSED = "visit_already_infused"


@dataclass(frozen=True)
class Deallocated:
    """What was taken off: the visit, the bag and whether it went back to stock (still fit for use)."""

    visit: Visit
    subject: Subject
    bag: Bag
    reason: str
    back_to_stock: bool
    problems: list[Reason]


@dataclass(frozen=True)
class FlaggedVisit:
    """An open infusion visit whose allocated bag can no longer be given, with every reason in words."""

    visit: Visit
    subject_code: str
    bag_code: str
    problems: list[Reason]


def bag_problems(session: Session, bag: Bag, visit: Visit, timezone: str) -> list[Reason]:
    """Why the bag allocated to ``visit`` can no longer be infused there (empty: it still can)."""
    return allocated_bag.problems(bag_code=bag.bag_code, custody_state=bag.custody_state,
                                  quality_status=bag.quality_status, expires_at=bag.expires_at,
                                  must_last_until=allocation.in_date_until(visit, timezone),
                                  hold_messages=[r.message for r in holds.refusals(session, [bag])])


def flagged_visits(session: Session, *, timezone: str, today: date,
                   subject: Subject | None = None) -> list[FlaggedVisit]:
    """Open infusion visits (not done, window not closed, bag not infused) whose allocated bag can no longer
    be given: the coordinator's dashboard lists them all, a subject's page its own (``subject``)."""
    statement = (select(Visit, Subject.subject_code, Bag)
                 .join(Allocation, Allocation.visit_id == Visit.id).join(Subject, Subject.id == Visit.subject_id)
                 .join(Bag, Bag.id == Allocation.bag_id)
                 .where(Visit.status != "done", Visit.window_end >= today, Bag.custody_state != "infused")
                 .order_by(Visit.target_date, Visit.id))
    if subject is not None:
        statement = statement.where(Visit.subject_id == subject.id)
    flagged = []
    for visit, code, bag in session.exec(statement).all():
        found = bag_problems(session, bag, visit, timezone)
        if found:
            flagged.append(FlaggedVisit(visit, code, bag.bag_code, found))
    return flagged


def deallocate(session: Session, *, actor: Actor, visit_id: int, reason: str | None,
               timezone: str) -> Deallocated:
    """Take the bag off an infusion visit not yet infused, with a reason; audited in the same transaction."""
    require_role(actor.roles, *allocation.ALLOCATING_ROLES, action=N_("take a bag off a visit"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise Invalid({"reason": translated(N_("say why the bag comes off the visit (up to 500 characters)"))})
    visit = visits.get_visit(session, visit_id, for_update=True)
    row = session.exec(select(Allocation).where(Allocation.visit_id == visit.id).with_for_update()).first()
    if row is None:
        raise Refused(Reason(NOT_ALLOCATED, week=visit.week))
    bag = session.get(Bag, row.bag_id)
    infused = session.exec(select(Infusion.id).where(Infusion.visit_id == visit.id)).first()
    if infused is not None or bag.custody_state == "infused":
        raise Refused(Reason(ALREADY_INFUSED, bag_code=bag.bag_code, week=visit.week))
    subject = session.get(Subject, visit.subject_id)
    found = bag_problems(session, bag, visit, timezone)
    back = bag.custody_state not in ("discarded", "infused", None) and bag.quality_status == "released" and not any(
        p.code in (allocated_bag.BAG_DISCARDED, allocated_bag.BAG_REJECTED, allocated_bag.BAG_ON_HOLD) for p in found)
    trail.record(session, actor=actor, record_type="allocation", record_id=row.id, action="deallocate",
                 old={"visit_id": visit.id, "week": visit.week, "subject_id": subject.subject_code,
                      "bag_id": bag.bag_code, "weight_kg": row.weight_kg, "required_cells": row.required_cells,
                      "allocated_by": row.allocated_by, "allocated_at": row.allocated_at},
                 new={"reason": reason.strip(), "back_to_stock": back, "problems": [p.code for p in found]})
    session.delete(row)
    session.flush()
    return Deallocated(visit, subject, bag, reason.strip(), back, found)
