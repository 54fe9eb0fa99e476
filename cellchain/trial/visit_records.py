"""A subject's visits and bag allocations with the bag and subject each names, for the trial's answers.

A calendar's allocations name their bags: all of them are read in one query, so a subject with every
infusion visit allocated costs no more statements than one with none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from cellchain.manufacturing.models import Bag
from cellchain.trial.models import Allocation, Subject
from cellchain.trial.visits import VisitState


@dataclass(frozen=True)
class AllocationRecord:
    """A bag allocated to a visit, with the bag (product, cells, volume) and the subject it goes to."""

    allocation: Allocation
    bag: Bag
    subject: Subject


@dataclass(frozen=True)
class VisitRecord:
    """A visit as the calendar shows it today, with its allocation if a bag is allocated to it."""

    state: VisitState
    subject: Subject
    allocation: AllocationRecord | None = None


def allocation_record(session: Session, row: Allocation) -> AllocationRecord:
    return AllocationRecord(row, session.get(Bag, row.bag_id), session.get(Subject, row.subject_id))


def visit_records(session: Session, subject: Subject, states: Sequence[VisitState]) -> list[VisitRecord]:
    """The subject's calendar (``visits.calendar``) with every allocated bag read in one query."""
    bag_ids = {s.allocation.bag_id for s in states if s.allocation is not None}
    bags = {b.id: b for b in session.exec(select(Bag).where(Bag.id.in_(bag_ids)))} if bag_ids else {}
    return [VisitRecord(s, subject, AllocationRecord(s.allocation, bags[s.allocation.bag_id], subject)
                        if s.allocation is not None else None) for s in states]
