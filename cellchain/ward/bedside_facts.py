"""What the bedside check reads, as plain read-only values, in as few statements as the rules allow.

A nurse waits on this check, at the bedside, for every bag. It reads the database live
every time, in one statement: the wristband's subject, the bag with its lot, allocation, visit and
infusion, whether any hold is open on the bag's cord, the bag, or a material lot used in a lot of its cord or
in its placebo fill (probes of two indexes), the approved clinical protocol deviation (if any) that allows the
allocated visit's one infusion outside its window, and the bag's custody events with any open temperature
excursion. Only when such a hold is open does the check read further, to learn whether that hold reaches this
bag (``quality.holds.nearest_over``). It is a SQLAlchemy Core statement built once (only SQL with
parameters), and its rows become small named tuples: building ORM objects cost more than the query, and
the guards only read.

The guards in ``rules/bedside_checks.py`` judge these values; ``infusions.start`` loads the ORM bag it changes itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, Table, and_, bindparam, func, literal, or_, select

from cellchain.manufacturing.models import Bag, Lot
from cellchain.materials.models import MaterialUse
from cellchain.quality.models import Hold
from cellchain.safety.models import ClinicalDeviation
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.ward.models import CustodyEvent, Excursion, Infusion
from cellchain.ward.rules.bedside_checks import (
    AllocationView,
    BagView,
    EventView,
    ExcursionView,
    InfusionRef,
    LotView,
    SubjectRef,
    SubjectView,
    VisitView,
)


class BagFacts(NamedTuple):
    bag: BagView
    lot: LotView | None
    allocation: AllocationView | None
    visit: VisitView | None
    allocated_subject: SubjectRef | None
    infusion: InfusionRef | None
    # the first open hold on the bag's cord, on the bag, or on a material lot of its cord's lots or of its placebo
    # fill; None: no hold can reach it
    hold_probe: int | None


class CustodyFacts(NamedTuple):
    events: list[EventView]
    open_excursions: list[ExcursionView]


class Bedside(NamedTuple):
    """What the two scans name: the wristband's subject, the bag with its records, the bag's custody."""

    subject: SubjectView | None
    bag: BagFacts | None
    custody: CustodyFacts
    window_allowance: int | None = None  # the approved, unused out-of-window deviation of the allocated visit


def _columns(view: type[NamedTuple], table: Table) -> list:
    return [table.c[name] for name in view._fields]


_SUBJECTS, _BAGS, _LOTS = Subject.__table__, Bag.__table__, Lot.__table__
_ALLOCATIONS, _VISITS, _INFUSIONS = Allocation.__table__, Visit.__table__, Infusion.__table__
_EVENTS, _EXCURSIONS, _HOLDS = CustodyEvent.__table__, Excursion.__table__, Hold.__table__
_ALLOCATED = _SUBJECTS.alias("allocated_subject")

_SUBJECT = select(*_columns(SubjectView, _SUBJECTS)).where(_SUBJECTS.c.subject_code == bindparam("code"))

# The wristband's subject, and the bag with each record tied to it and its custody events (each with
# its open excursion: one found at a hand-over hangs on that event; one found by a storage unit's reading
# hangs on the bag's one ``filled`` event, the first of its chain), in one
# statement: a nurse waits on each round trip. Both lookups hang off a one-row anchor by outer joins,
# so the answer is one row per custody event (or one row), and a part is absent when its first
# column, never NULL in a stored row, comes back NULL.
_PARTS: tuple[tuple[type[NamedTuple], Table], ...] = (
    (SubjectView, _SUBJECTS), (BagView, _BAGS), (LotView, _LOTS), (AllocationView, _ALLOCATIONS),
    (VisitView, _VISITS), (SubjectRef, _ALLOCATED), (InfusionRef, _INFUSIONS), (EventView, _EVENTS),
    (ExcursionView, _EXCURSIONS))


def _slices(parts: tuple[tuple[type[NamedTuple], Table], ...]) -> tuple[tuple[type[NamedTuple], slice], ...]:
    found, start = [], 0
    for view, _ in parts:
        found.append((view, slice(start, start + len(view._fields))))
        start += len(view._fields)
    return tuple(found)


_SUBJECT_PART, *_BAG_PARTS, _EVENT_PART, _EXCURSION_PART = _slices(_PARTS)
_ANCHOR = select(literal(1).label("one")).subquery("anchor")
# A hold reaches a bag only from its cord's genealogy or a material lot used in it (docs/rules.md, "Quality:
# holds"), and every hold but a material lot's names its item's cord: with no open hold on the cord (the partial
# index ix_holds_open_per_cord) or on such a material lot nothing more is read. Scalar columns, so the answer
# stays one row per custody event.
_ITEM_PROBE = (select(func.min(_HOLDS.c.id))
               .where(_HOLDS.c.lifted_at.is_(None),
                      or_(_HOLDS.c.collection_id == _LOTS.c.collection_id,
                          and_(_HOLDS.c.item_kind == "bag", _HOLDS.c.item_id == _BAGS.c.id)))
               .scalar_subquery())
# A material lot belongs to no cord: its open holds (few, from the partial index uq_holds_open_per_item) are
# joined to their uses (ix_material_uses_material_lot), kept when one went into a lot of the bag's cord (every
# lot of a genealogy names its cord) or was the saline of the bag's placebo fill. COALESCE reads it only when the
# first probe found nothing.
_USES, _USED_IN = MaterialUse.__table__, _LOTS.alias("used_in")
_MATERIAL_PROBE = (select(func.min(_HOLDS.c.id))
                   .select_from(_HOLDS.join(_USES, _USES.c.material_lot_id == _HOLDS.c.item_id)
                                .outerjoin(_USED_IN, _USED_IN.c.id == _USES.c.lot_id))
                   .where(_HOLDS.c.item_kind == "material_lot", _HOLDS.c.lifted_at.is_(None),
                          or_(_USED_IN.c.collection_id == _LOTS.c.collection_id,
                              and_(_USES.c.lot_id.is_(None), _BAGS.c.lot_id.is_(None), _USES.c.din == _BAGS.c.din)))
                   .scalar_subquery())
_HOLD_PROBE = func.coalesce(_ITEM_PROBE, _MATERIAL_PROBE).label("hold_probe")
_DEVIATIONS = ClinicalDeviation.__table__
# A column, not a join: at most one value whatever the number of deviations, so still one row per event.
_ALLOWANCE = (select(func.min(_DEVIATIONS.c.id))
              .where(_DEVIATIONS.c.visit_id == _VISITS.c.id, _DEVIATIONS.c.kind == "out_of_window",
                     _DEVIATIONS.c.status == "approved", _DEVIATIONS.c.infusion_id.is_(None))
              .scalar_subquery().label("window_allowance"))
_BEDSIDE = (select(*[c for view, table in _PARTS for c in _columns(view, table)], _EVENTS.c.id.label("event_row"),
                   _HOLD_PROBE, _ALLOWANCE)
            .select_from(_ANCHOR
                         .outerjoin(_SUBJECTS, _SUBJECTS.c.subject_code == bindparam("subject"))
                         .outerjoin(_BAGS, _BAGS.c.bag_code == bindparam("bag"))
                         .outerjoin(_LOTS, _LOTS.c.id == _BAGS.c.lot_id)
                         .outerjoin(_ALLOCATIONS, _ALLOCATIONS.c.bag_id == _BAGS.c.id)
                         .outerjoin(_VISITS, _VISITS.c.id == _ALLOCATIONS.c.visit_id)
                         .outerjoin(_ALLOCATED, _ALLOCATED.c.id == _ALLOCATIONS.c.subject_id)
                         .outerjoin(_INFUSIONS, _INFUSIONS.c.bag_id == _BAGS.c.id)
                         .outerjoin(_EVENTS, and_(_EVENTS.c.item_type == "bag", _EVENTS.c.item_id == _BAGS.c.id))
                         .outerjoin(_EXCURSIONS, and_(_EXCURSIONS.c.status == "open", or_(
                             _EXCURSIONS.c.custody_event_id == _EVENTS.c.id,
                             and_(_EXCURSIONS.c.storage_reading_id.is_not(None), _EVENTS.c.event == "filled",
                                  _EXCURSIONS.c.item_type == "bag", _EXCURSIONS.c.item_id == _BAGS.c.id)))))
            .order_by(_EVENTS.c.occurred_at, _EVENTS.c.id))
# For an infusion start: the bag's row is held until the transaction ends, so two starts of one bag
# are judged one after the other (rule 6). SQLite's write lock, taken at BEGIN, does the same there.
_LOCK_BAG = select(_BAGS.c.id).where(_BAGS.c.bag_code == bindparam("code")).with_for_update()


def _part(row: Row, view: type[NamedTuple], part: slice) -> Any:
    return None if row[part.start] is None else view._make(row[part])


def subject_by_code(connection: Connection, code: str) -> SubjectView | None:
    row = connection.execute(_SUBJECT, {"code": code}).first()
    return None if row is None else SubjectView._make(row)


def lock_bag(connection: Connection, code: str) -> None:
    connection.execute(_LOCK_BAG, {"code": code})


def at_bedside(connection: Connection, subject_code: str | None, bag_code: str | None) -> Bedside:
    """The subject and the bag the two scans name, as the database holds them now."""
    rows = connection.execute(_BEDSIDE, {"subject": subject_code, "bag": bag_code}).all()
    first = rows[0]
    bag_parts = [_part(first, view, part) for view, part in _BAG_PARTS]
    seen: set[int] = set()  # an event with several storage excursions comes back once per excursion
    events = [_part(row, *_EVENT_PART) for row in rows
              if row.event_row is None or (row.event_row not in seen and not seen.add(row.event_row))]
    excursions = [_part(row, *_EXCURSION_PART) for row in rows]
    bag = None if bag_parts[0] is None else BagFacts._make([*bag_parts, first.hold_probe])
    return Bedside(_part(first, *_SUBJECT_PART), bag,
                   CustodyFacts([e for e in events if e is not None], [x for x in excursions if x is not None]),
                   first.window_allowance)
