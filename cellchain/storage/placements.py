"""Put, take and move containers in storage positions; what a box holds; where a container is and has been.

Each of put, take and move writes a custody event (who, when, where: unit > rack > box > position) and its
audit entry in the same transaction as the placement (21 CFR 1271.290: tracking from recovery to
distribution). One container per position and one position per container are held by the database's two
partial unique indexes (``models.Placement``); the checks here only name the refusal before the database
would. A put that loses a race to the same position is refused by name, ``storage_position_taken``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import Vial
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag
from cellchain.people.rules.roles import Actor, require_role
from cellchain.storage.models import Placement, StorageBox, StorageLocation, StorageUnit
from cellchain.storage.places import STORAGE_KEEPERS
from cellchain.storage.rules import layout
from cellchain.ward import custody

POSITION_TAKEN = "storage_position_taken"
ITEM_PLACED = "storage_item_already_placed"
NOT_PLACED = "storage_item_not_placed"
SAME_POSITION = "storage_same_position"
NOT_IN_STORAGE = "storage_item_not_in_storage"


@dataclass(frozen=True)
class Item:
    """A storable container: its kind and row id, as custody events name it."""

    kind: str
    id: int


@dataclass(frozen=True)
class Where:
    """A position with everything above it: unit > rack or shelf > box > position."""

    unit: StorageUnit
    location: StorageLocation
    box: StorageBox
    row: int
    column: int

    @property
    def position(self) -> str:
        return layout.position_name(self.row, self.column)

    @property
    def position_code(self) -> str:
        return layout.position_code(self.box.code, self.row, self.column)

    @property
    def text(self) -> str:
        """As a custody event's location: ``LN2-01 > R1 > BX-0001 > B3``."""
        return f"{self.unit.code} > {self.location.code} > {self.box.code} > {self.position}"[:120]


_PLACE = (select(StorageBox, StorageLocation, StorageUnit)
          .join(StorageLocation, StorageLocation.id == StorageBox.location_id)
          .join(StorageUnit, StorageUnit.id == StorageLocation.unit_id)
          .where(StorageBox.id == bindparam("box_id")))


def where(session: Session, box: StorageBox, row: int, column: int) -> Where:
    found_box, location, unit = session.exec(_PLACE, params={"box_id": box.id}).one()
    if not (1 <= row <= found_box.rows and 1 <= column <= found_box.columns):
        raise Invalid({"position": translated(N_("box {code} has rows A-{last_row} and columns 1-{columns}")).format(
            code=box.code, last_row=layout.row_letter(box.rows), columns=box.columns)})
    return Where(unit, location, found_box, row, column)


def _current_of_item(session: Session, item: Item, *, lock: bool = False) -> Placement | None:
    statement = select(Placement).where(Placement.item_type == item.kind, Placement.item_id == item.id,
                                        Placement.taken_at.is_(None))
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _occupant(session: Session, box_id: int, row: int, column: int) -> Placement | None:
    return session.exec(select(Placement).where(Placement.box_id == box_id, Placement.row == row,
                                                Placement.column == column, Placement.taken_at.is_(None))).first()


def item_codes(session: Session, items: Iterable[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str | None]]:
    """The code people read and the custody state of each item: one statement per kind (bags, bank vials)
    however many items a box holds."""
    items = list(items)
    found: dict[tuple[str, int], tuple[str, str | None]] = {}
    for kind, model, code_column in (("bag", Bag, Bag.bag_code), ("vial", Vial, Vial.vial_code)):
        ids = sorted({item_id for item_kind, item_id in items if item_kind == kind})
        if ids:
            statement = select(model.id, code_column, model.custody_state).where(model.id.in_(ids))
            for row_id, code, state in session.exec(statement):
                found[kind, row_id] = (code, state)
    for kind, item_id in items:
        found.setdefault((kind, item_id), (f"{kind} {item_id}", None))
    return found


def _describe(session: Session, item: Item) -> str:
    code, _ = item_codes(session, [(item.kind, item.id)])[item.kind, item.id]
    return code if code.startswith(f"{item.kind} ") else f"{item.kind} {code}"


def _placed_refusal(session: Session, item: Item, placement: Placement) -> Refused:
    box = session.get(StorageBox, placement.box_id)
    return Refused(Reason(ITEM_PLACED, item=_describe(session, item), box_code=box.code,
                                       position=layout.position_name(placement.row, placement.column)))


def _taken_refusal(session: Session, place: Where, occupant: Placement | None) -> Refused:
    who = _describe(session, Item(occupant.item_type, occupant.item_id)) if occupant else N_("another container")
    return Refused(Reason(POSITION_TAKEN, code=place.box.code, position=place.position, who=who))


def _insert(session: Session, place: Where, row: Placement) -> Placement:
    """The placement, or the named refusal when a concurrent put took the position (or the item) first."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        item = Item(row.item_type, row.item_id)
        elsewhere = _current_of_item(session, item)
        if elsewhere is not None:
            raise _placed_refusal(session, item, elsewhere) from None
        raise _taken_refusal(session, place, _occupant(session, place.box.id, place.row, place.column)) from None
    return row


def put(session: Session, *, actor: Actor, item: Item, box: StorageBox, row: int, column: int,
        ranges: Mapping[str, Any], now: datetime | None = None) -> Placement:
    """Put a container in a free position: custody ``stored`` (or ``moved`` for an item recorded as stored
    without a position), placement, audit entry. ``now`` (when it was put) is passed only by the demo, whose
    bank vials went into the tank when they were frozen."""
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("put a container in storage"))
    layout.check_storable(item.kind)
    place = where(session, box, row, column)
    current = _current_of_item(session, item)
    if current is not None:
        raise _placed_refusal(session, item, current)
    occupant = _occupant(session, box.id, row, column)
    if occupant is not None:
        raise _taken_refusal(session, place, occupant)
    state = custody.current_state(session, item.kind, item.id)
    event_name = "moved" if state == "in_storage" else "stored"
    now = now or utcnow()
    event = custody.record_storage_event(session, actor=actor, kind=item.kind, item_id=item.id, ranges=ranges,
                                         handover=custody.Handover(event=event_name, location=place.text,
                                                                   occurred_at=now))
    placement = _insert(session, place, Placement(item_type=item.kind, item_id=item.id, box_id=box.id, row=row,
                                                  column=column, placed_at=now, placed_by=actor.id,
                                                  put_event_id=event.id))
    trail.record(session, actor=actor, record_type="placement", record_id=placement.id, action="put",
                 new={"item_type": item.kind, "item_id": item.id, "where": place.text, "event_id": event.id})
    return placement


def take(session: Session, *, actor: Actor, item: Item, ranges: Mapping[str, Any],
         reason: str | None = None, now: datetime | None = None) -> Placement:
    """Take a container out of its position: custody ``taken`` (in_storage -> at_lab), placement closed
    (``now``: when it was taken, passed only by the demo).

    A container whose chain moved on while it was still recorded in a box (dispatched or discarded through
    a hand-over) leaves its position without a storage event: the placement is closed and audited.
    """
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("take a container out of storage"))
    layout.check_storable(item.kind)
    placement = _current_of_item(session, item, lock=True)
    if placement is None:
        raise Refused(Reason(NOT_PLACED, item=_describe(session, item)))
    box = session.get(StorageBox, placement.box_id)
    place = where(session, box, placement.row, placement.column)
    now = now or utcnow()
    state = custody.current_state(session, item.kind, item.id)
    event = None
    if state == "in_storage":
        event = custody.record_storage_event(session, actor=actor, kind=item.kind, item_id=item.id, ranges=ranges,
                                             handover=custody.Handover(event="taken", location=place.text,
                                                                       occurred_at=now, notes=reason))
    placement.taken_at, placement.taken_by = now, actor.id
    placement.take_event_id = event.id if event else None
    session.add(placement)
    trail.record(session, actor=actor, record_type="placement", record_id=placement.id, action="take",
                 old={"where": place.text}, new={"event_id": placement.take_event_id, "state": state},
                 reason=reason or (None if event else f"the {item.kind} is {state}: its position is cleared"))
    return placement


def move(session: Session, *, actor: Actor, item: Item, box: StorageBox, row: int, column: int,
         ranges: Mapping[str, Any]) -> Placement:
    """Move a stored container to a free position: custody ``moved`` (in_storage -> in_storage); the old
    placement ends and the new one starts at the same moment."""
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("move a container in storage"))
    layout.check_storable(item.kind)
    target = where(session, box, row, column)
    old = _current_of_item(session, item, lock=True)
    if old is None:
        raise Refused(Reason(NOT_PLACED, variant="move", item=_describe(session, item)))
    if (old.box_id, old.row, old.column) == (box.id, row, column):
        raise Refused(Reason(SAME_POSITION, item=_describe(session, item), position=target.position))
    state = custody.current_state(session, item.kind, item.id)
    if state != "in_storage":
        raise Refused(Reason(NOT_IN_STORAGE, item=_describe(session, item), state=state))
    occupant = _occupant(session, box.id, row, column)
    if occupant is not None:
        raise _taken_refusal(session, target, occupant)
    source = where(session, session.get(StorageBox, old.box_id), old.row, old.column)
    now = utcnow()
    event = custody.record_storage_event(session, actor=actor, kind=item.kind, item_id=item.id, ranges=ranges,
                                         handover=custody.Handover(event="moved", location=target.text,
                                                                   occurred_at=now, handed_over_by=source.text))
    old.taken_at, old.taken_by, old.take_event_id = now, actor.id, event.id
    session.add(old)
    session.flush()
    placement = _insert(session, target, Placement(item_type=item.kind, item_id=item.id, box_id=box.id, row=row,
                                                   column=column, placed_at=now, placed_by=actor.id,
                                                   put_event_id=event.id))
    trail.record(session, actor=actor, record_type="placement", record_id=placement.id, action="move",
                 old={"where": source.text, "placement_id": old.id}, new={"where": target.text, "event_id": event.id})
    return placement


# --- reading -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    placement: Placement | None = None
    code: str | None = None
    state: str | None = None

    @property
    def name(self) -> str:
        return layout.position_name(self.row, self.column)

    @property
    def stale(self) -> bool:
        """Still recorded here, but its chain says it left storage (dispatched, discarded)."""
        return self.placement is not None and self.state is not None and self.state != "in_storage"


@dataclass(frozen=True)
class BoxMap:
    unit: StorageUnit
    location: StorageLocation
    box: StorageBox
    grid: list[list[Cell]]

    @property
    def taken(self) -> int:
        return sum(1 for line in self.grid for cell in line if cell.placement is not None)


_IN_BOX = (select(Placement).where(Placement.box_id == bindparam("box_id"), Placement.taken_at.is_(None))
           .order_by(Placement.row, Placement.column))


def box_map(session: Session, box: StorageBox) -> BoxMap:
    """Every position of a box, row by row, with what is in it: three statements for any box and any count."""
    found_box, location, unit = session.exec(_PLACE, params={"box_id": box.id}).one()
    placements = list(session.exec(_IN_BOX, params={"box_id": box.id}))
    codes = item_codes(session, ((p.item_type, p.item_id) for p in placements))
    at = {(p.row, p.column): p for p in placements}
    grid = []
    for row in range(1, found_box.rows + 1):
        line = []
        for column in range(1, found_box.columns + 1):
            placement = at.get((row, column))
            code, state = codes[placement.item_type, placement.item_id] if placement else (None, None)
            line.append(Cell(row, column, placement, code, state))
        grid.append(line)
    return BoxMap(unit, location, found_box, grid)


@dataclass(frozen=True)
class Stay:
    """One placement of an item, with where it was."""

    placement: Placement
    where: Where


@dataclass(frozen=True)
class WhereIs:
    item: Item
    code: str
    state: str | None
    now: Stay | None
    history: list[Stay]


_HISTORY = (select(Placement, StorageBox, StorageLocation, StorageUnit)
            .join(StorageBox, StorageBox.id == Placement.box_id)
            .join(StorageLocation, StorageLocation.id == StorageBox.location_id)
            .join(StorageUnit, StorageUnit.id == StorageLocation.unit_id)
            .where(Placement.item_type == bindparam("kind"), Placement.item_id == bindparam("item_id"))
            .order_by(Placement.placed_at.desc(), Placement.id.desc()))


def where_is(session: Session, item: Item) -> WhereIs:
    """Where the item is now (or None) and every position it has been in, newest first: two statements."""
    layout.check_storable(item.kind)
    stays = [Stay(p, Where(unit, location, box, p.row, p.column))
             for p, box, location, unit in session.exec(_HISTORY, params={"kind": item.kind, "item_id": item.id})]
    code, state = item_codes(session, [(item.kind, item.id)])[item.kind, item.id]
    now = next((s for s in stays if s.placement.taken_at is None), None)
    return WhereIs(item, code, state, now, stays)


def in_unit_during(session: Session, unit_id: int, start: datetime, end: datetime) -> list[Placement]:
    """Every placement in the unit that overlaps ``start..end`` (placed by the end, not taken before the start)."""
    statement = (select(Placement).join(StorageBox, StorageBox.id == Placement.box_id)
                 .join(StorageLocation, StorageLocation.id == StorageBox.location_id)
                 .where(StorageLocation.unit_id == unit_id, Placement.placed_at <= end,
                        (Placement.taken_at.is_(None)) | (Placement.taken_at >= start))
                 .order_by(Placement.item_type, Placement.item_id, Placement.placed_at))
    return list(session.exec(statement))

