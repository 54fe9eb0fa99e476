"""Storage units, their racks or shelves and their boxes: created and changed by the lab, audited, found by code.

A unit's allowed range is what its readings are judged against (``temperatures.py``); changing it is
audited with a reason, since it changes what counts as an excursion from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.equipment import instruments
from cellchain.people.rules.roles import Actor, require_role
from cellchain.storage.models import Placement, StorageBox, StorageLocation, StorageUnit
from cellchain.storage.rules import layout

STORAGE_KEEPERS = ("lab",)
STORAGE_READERS = ("lab", "qa", "auditor")
CODE_TAKEN = "storage_code_taken"


def unit_by_code(session: Session, code: str) -> StorageUnit:
    row = session.exec(select(StorageUnit).where(StorageUnit.code == str(code).upper())).first()
    if row is None:
        raise NotFound(translated(N_("no storage unit {code}")).format(code=str(code)[:40]))
    return row


def unit_by_id(session: Session, unit_id: int) -> StorageUnit:
    row = session.get(StorageUnit, unit_id)
    if row is None:
        raise NotFound(translated(N_("no storage unit {unit_id}")).format(unit_id=unit_id))
    return row


def location_by_code(session: Session, code: str) -> StorageLocation:
    row = session.exec(select(StorageLocation).where(StorageLocation.code == str(code).upper())).first()
    if row is None:
        raise NotFound(translated(N_("no rack or shelf {code}")).format(code=str(code)[:40]))
    return row


def box_by_code(session: Session, code: str) -> StorageBox:
    row = session.exec(select(StorageBox).where(StorageBox.code == str(code).upper())).first()
    if row is None:
        raise NotFound(translated(N_("no storage box {code}")).format(code=str(code)[:40]))
    return row


def position_by_code(session: Session, code: str) -> tuple[StorageBox, int, int]:
    """A position label's code (``BX-0001-B3``) as its box, row and column."""
    parts = layout.split_position_code(code)
    if parts is None:
        raise NotFound(translated(N_("no storage position {code}")).format(code=str(code)[:40]))
    box = box_by_code(session, parts[0])
    try:
        row, column = layout.parse_position(parts[1], box.rows, box.columns)
    except Invalid:
        raise NotFound(translated(N_(
            "box {code} has no position {position}")).format(code=box.code, position=parts[1])) from None
    return box, row, column


def list_units(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of storage units by code (keyset on it)."""
    return db.keyset(session, select(StorageUnit), (StorageUnit.code,), page)


@dataclass(frozen=True)
class UnitLayout:
    """A unit with its racks or shelves, each with its boxes and how many positions of each are taken."""

    unit: StorageUnit
    locations: list[tuple[StorageLocation, list[tuple[StorageBox, int]]]]


def unit_layout(session: Session, unit: StorageUnit) -> UnitLayout:
    """Three statements however many racks and boxes: locations, boxes, and the count taken per box."""
    locations = list(session.exec(select(StorageLocation).where(StorageLocation.unit_id == unit.id)
                                  .order_by(StorageLocation.code)))
    boxes = list(session.exec(select(StorageBox).join(StorageLocation, StorageLocation.id == StorageBox.location_id)
                              .where(StorageLocation.unit_id == unit.id).order_by(StorageBox.code)))
    counted = (select(Placement.box_id, func.count())
               .where(Placement.box_id.in_([b.id for b in boxes] or [-1]), Placement.taken_at.is_(None))
               .group_by(Placement.box_id))
    taken = dict(session.exec(counted).all())
    by_location: dict[int, list[tuple[StorageBox, int]]] = {}
    for box in boxes:
        by_location.setdefault(box.location_id, []).append((box, taken.get(box.id, 0)))
    return UnitLayout(unit, [(location, by_location.get(location.id, [])) for location in locations])


def _unique(session: Session, model: type, code: str, what: str) -> None:
    if session.exec(select(model.id).where(model.code == code)).first() is not None:
        raise Refused(Reason(CODE_TAKEN, what=what, code=code))


def create_unit(session: Session, *, actor: Actor, data: Mapping[str, Any]) -> StorageUnit:
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("set up a storage unit"))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, check in (("code", lambda: layout.check_code(data.get("code"), "code")),
                        ("name", lambda: layout.check_name(data.get("name"))),
                        ("range", lambda: layout.unit_range(data.get("kind"), data.get("low_c"), data.get("high_c")))):
        try:
            values[name] = check()
        except Invalid as bad:
            errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    _unique(session, StorageUnit, values["code"], N_("storage unit"))
    low, high = values["range"]
    row = StorageUnit(code=values["code"], name=values["name"], kind=data["kind"], low_c=low, high_c=high,
                      created_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="storage_unit", record_id=row.id, action="create",
                 new={"code": row.code, "name": row.name, "kind": row.kind, "range": [low, high]})
    # The unit is an instrument of the registry, the same record: its due dates and service are kept there.
    instruments.register_storage_unit(session, actor=actor, unit_id=row.id, code=row.code, name=row.name)
    return row


def change_unit(session: Session, *, actor: Actor, unit: StorageUnit, data: Mapping[str, Any]) -> StorageUnit:
    """A new name or allowed range, with the reason (the range decides what is an excursion from now on)."""
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("change a storage unit"))
    reason = data.get("reason")
    errors: dict[str, str] = {}
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = translated(N_("say why the unit changes"))
    name, low, high = unit.name, unit.low_c, unit.high_c
    try:
        name = layout.check_name(data.get("name", unit.name))
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        low, high = layout.unit_range(unit.kind, data.get("low_c", unit.low_c), data.get("high_c", unit.high_c))
    except Invalid as bad:
        errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    old = {"name": unit.name, "range": [unit.low_c, unit.high_c]}
    unit.name, unit.low_c, unit.high_c = name, low, high
    session.add(unit)
    trail.record(session, actor=actor, record_type="storage_unit", record_id=unit.id, action="change", old=old,
                 new={"name": name, "range": [low, high]}, reason=reason.strip())
    if name != old["name"]:  # the registry's record of the unit is the same unit: it carries the new name
        instruments.rename_storage_unit(session, actor=actor, unit_id=unit.id, name=name, reason=reason.strip())
    return unit


def create_location(session: Session, *, actor: Actor, unit: StorageUnit, data: Mapping[str, Any]) -> StorageLocation:
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("add a rack or shelf"))
    errors: dict[str, str] = {}
    code = name = ""
    try:
        code = layout.check_code(data.get("code"), "code")
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        name = layout.check_name(data.get("name") or code)
    except Invalid as bad:
        errors.update(bad.fields)
    if not isinstance(data.get("kind"), str) or data.get("kind") not in layout.LOCATION_KINDS:
        errors["kind"] = translated(N_("one of {choices}")).format(choices=', '.join(layout.LOCATION_KINDS))
    if errors:
        raise Invalid(errors)
    _unique(session, StorageLocation, code, N_("rack or shelf"))
    row = StorageLocation(unit_id=unit.id, code=code, name=name, kind=data["kind"])
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="storage_location", record_id=row.id, action="create",
                 new={"unit": unit.code, "code": code, "name": name, "kind": row.kind})
    return row


def create_box(session: Session, *, actor: Actor, location: StorageLocation, data: Mapping[str, Any]) -> StorageBox:
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("add a storage box"))
    errors: dict[str, str] = {}
    code, name, size = "", "", (0, 0)
    try:
        code = layout.check_code(data.get("code"), "code")
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        name = layout.check_name(data.get("name") or code)
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        size = layout.box_size(data.get("rows"), data.get("columns"))
    except Invalid as bad:
        errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    _unique(session, StorageBox, code, N_("storage box"))
    row = StorageBox(location_id=location.id, code=code, name=name, rows=size[0], columns=size[1])
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="storage_box", record_id=row.id, action="create",
                 new={"location": location.code, "code": code, "name": name, "rows": size[0], "columns": size[1]})
    return row


def rename(session: Session, *, actor: Actor, place: StorageLocation | StorageBox, data: Mapping[str, Any]
           ) -> StorageLocation | StorageBox:
    """A rack's, shelf's or box's new name, with the reason. Its code stays: the labels on it carry the code."""
    what = "storage_box" if isinstance(place, StorageBox) else "storage_location"
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("rename a rack, shelf or box"))
    errors: dict[str, str] = {}
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = translated(N_("say why the name changes"))
    try:
        name = layout.check_name(data.get("name"))
    except Invalid as bad:
        errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    old, place.name = place.name, name
    session.add(place)
    trail.record(session, actor=actor, record_type=what, record_id=place.id, action="rename", old={"name": old},
                 new={"name": name}, reason=reason.strip())
    return place
