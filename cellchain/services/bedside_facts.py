"""What the bedside check reads, as plain read-only values, in as few statements as the rules allow.

A nurse waits on this check, at the bedside, for every bag (issue 9). It reads the database live
every time: the wristband's subject, the bag with its lot, allocation, visit and infusion (one
statement), and the bag's custody events with any open temperature excursion (one statement). They
are SQLAlchemy Core statements built once (only SQL with parameters) and their rows become small
named tuples: building ORM objects cost more than the queries, and the guards only read.

The guards in ``bedside`` judge these values; ``infusions.start`` loads the ORM bag it changes itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, bindparam, select

from cellchain.models.bags import Bag
from cellchain.models.custody import CustodyEvent, Excursion
from cellchain.models.infusions import Infusion
from cellchain.models.lots import Lot
from cellchain.models.trial import Allocation, Subject, Visit


class SubjectView(NamedTuple):
    id: int
    subject_code: str
    arm: str | None
    birth_date: date


class BagView(NamedTuple):
    id: int
    bag_code: str
    kind: str
    quality_status: str
    custody_state: str | None
    expires_at: datetime
    volume_ml: float
    total_cells: int | None


class LotView(NamedTuple):
    id: int
    lot_number: str
    status: str


class AllocationView(NamedTuple):
    id: int
    subject_id: int
    weight_kg: float


class VisitView(NamedTuple):
    id: int
    subject_id: int
    week: int
    kind: str
    status: str
    window_start: date
    window_end: date


class SubjectRef(NamedTuple):
    """The subject a bag is allocated to: who, not what the wristband says."""

    id: int
    subject_code: str


class InfusionRef(NamedTuple):
    id: int


class EventView(NamedTuple):
    event: str
    occurred_at: datetime
    location: str


class ExcursionView(NamedTuple):
    temperature_c: float
    low_c: float
    high_c: float


class BagFacts(NamedTuple):
    bag: BagView
    lot: LotView | None
    allocation: AllocationView | None
    visit: VisitView | None
    allocated_subject: SubjectRef | None
    infusion: InfusionRef | None


class CustodyFacts(NamedTuple):
    events: list[EventView]
    open_excursions: list[ExcursionView]


def _table(model: Any) -> Table:
    return model.__table__


def _columns(view: type[NamedTuple], table: Table) -> list:
    return [table.c[name] for name in view._fields]


_SUBJECTS, _BAGS, _LOTS = _table(Subject), _table(Bag), _table(Lot)
_ALLOCATIONS, _VISITS, _INFUSIONS = _table(Allocation), _table(Visit), _table(Infusion)
_EVENTS, _EXCURSIONS = _table(CustodyEvent), _table(Excursion)
_ALLOCATED = _SUBJECTS.alias("allocated_subject")

_SUBJECT = select(*_columns(SubjectView, _SUBJECTS)).where(_SUBJECTS.c.subject_code == bindparam("code"))

# The bag and each record it is tied to, in the order of BagFacts; each part's first column is its id,
# which an outer join leaves NULL when the record does not exist.
_PARTS: tuple[tuple[type[NamedTuple], Table], ...] = (
    (BagView, _BAGS), (LotView, _LOTS), (AllocationView, _ALLOCATIONS), (VisitView, _VISITS),
    (SubjectRef, _ALLOCATED), (InfusionRef, _INFUSIONS))


def _slices(parts: tuple[tuple[type[NamedTuple], Table], ...]) -> tuple[tuple[type[NamedTuple], slice], ...]:
    found, start = [], 0
    for view, _ in parts:
        found.append((view, slice(start, start + len(view._fields))))
        start += len(view._fields)
    return tuple(found)


_SLICES = _slices(_PARTS)

_BAG = (select(*[c for view, table in _PARTS for c in _columns(view, table)])
        .select_from(_BAGS
                     .outerjoin(_LOTS, _LOTS.c.id == _BAGS.c.lot_id)
                     .outerjoin(_ALLOCATIONS, _ALLOCATIONS.c.bag_id == _BAGS.c.id)
                     .outerjoin(_VISITS, _VISITS.c.id == _ALLOCATIONS.c.visit_id)
                     .outerjoin(_ALLOCATED, _ALLOCATED.c.id == _ALLOCATIONS.c.subject_id)
                     .outerjoin(_INFUSIONS, _INFUSIONS.c.bag_id == _BAGS.c.id))
        .where(_BAGS.c.bag_code == bindparam("code")))
# For an infusion start: the bag's row is held (FOR UPDATE OF bags) until the transaction ends, so two
# starts of one bag are judged one after the other (rule 6). SQLite's write lock does the same there.
_BAG_LOCKED = _BAG.with_for_update(of=_BAGS)

# Every open excursion is recorded at one of the item's custody events (its custody_event_id), so
# the events and their open excursions come back together, oldest event first.
_CUSTODY = (select(*_columns(EventView, _EVENTS), *_columns(ExcursionView, _EXCURSIONS))
            .select_from(_EVENTS.outerjoin(_EXCURSIONS, and_(_EXCURSIONS.c.custody_event_id == _EVENTS.c.id,
                                                            _EXCURSIONS.c.status == "open")))
            .where(_EVENTS.c.item_type == "bag", _EVENTS.c.item_id == bindparam("bag_id"))
            .order_by(_EVENTS.c.occurred_at, _EVENTS.c.id))


def subject_by_code(connection: Connection, code: str) -> SubjectView | None:
    row = connection.execute(_SUBJECT, {"code": code}).first()
    return None if row is None else SubjectView._make(row)


def bag_by_code(connection: Connection, code: str, *, lock: bool = False) -> BagFacts | None:
    row = connection.execute(_BAG_LOCKED if lock else _BAG, {"code": code}).first()
    if row is None:
        return None
    return BagFacts._make(None if row[part.start] is None else view._make(row[part]) for view, part in _SLICES)


def custody_of_bag(connection: Connection, bag_id: int) -> CustodyFacts:
    events, excursions = [], []
    for row in connection.execute(_CUSTODY, {"bag_id": bag_id}):
        events.append(EventView._make(row[:3]))
        if row[3] is not None:
            excursions.append(ExcursionView._make(row[3:]))
    return CustodyFacts(events, excursions)
