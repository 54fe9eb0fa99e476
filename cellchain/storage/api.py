"""API: storage units, racks or shelves and boxes; put, take and move; the box map; where a container is;
each unit's temperature readings (docs/rules.md, "Storage"). The lab keeps storage; QA and the auditor read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app

from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Invalid
from cellchain.core.page_forms import site_zone
from cellchain.core.schemas import FILE_BODY, ErrorSchema, PageQuery
from cellchain.core.timeinput import parse_instant
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_, translated
from cellchain.people.security import current_user, roles_required
from cellchain.storage import placements, places, scan_views, temperatures
from cellchain.storage.label_views import LABEL_PRINTERS, box_labels_pdf, location_label_pdf, position_label_pdf
from cellchain.storage.models import StorageLocation, StorageUnit
from cellchain.storage.places import STORAGE_KEEPERS, STORAGE_READERS
from cellchain.storage.schemas import (
    BoxIn,
    BoxOut,
    LocationIn,
    LocationOut,
    PlacementOut,
    PositionOut,
    PutIn,
    ReadingIn,
    ReadingsImportIn,
    ReadingsOut,
    RecordedOut,
    RenameIn,
    TakeIn,
    UnitChangeIn,
    UnitIn,
    UnitOut,
    UnitsOut,
    WhereIsOut,
    WhereIsQuery,
)

TAGS = ["storage"]
BAD_INPUT = "a field is missing, unknown or wrong: ``fields`` names each"


def _ranges() -> dict[str, Any]:
    return current_app.config["TEMPERATURE_RANGES"]


def unit_answer(unit: StorageUnit) -> dict[str, Any]:
    shown = places.unit_layout(db.session(), unit)
    return {"unit": {"code": unit.code, "name": unit.name, "kind": unit.kind, "low_c": unit.low_c,
                     "high_c": unit.high_c,
                     "locations": [{"location": location, "unit": unit.code,
                                    "boxes": [{"box": box, "taken": taken} for box, taken in boxes]}
                                   for location, boxes in shown.locations]}}


def location_answer(location: StorageLocation) -> dict[str, Any]:
    unit = places.unit_by_id(db.session(), location.unit_id)
    found = next(entry for entry in unit_answer(unit)["unit"]["locations"] if entry["location"].id == location.id)
    return {"location": found}


def placement_answer(placement: Any) -> dict[str, Any]:
    session = db.session()
    item = placements.Item(placement.item_type, placement.item_id)
    found = placements.where_is(session, item)
    stay = next(s for s in found.history if s.placement.id == placement.id)
    return {"item_type": item.kind, "item": found.code, "custody_state": found.state, "placement": stay}


@bp.get("/storage/units", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.arguments(PageQuery, location="query")
@bp.response(200, UnitsOut)
def list_units(_query: dict[str, Any]) -> dict[str, Any]:
    """Every storage unit, by code, a page at a time (?limit=, ?cursor= from ``next``)"""
    page = places.list_units(db.session(), page_request(size_arg="limit"))
    return {"units": page.rows, "next": next_cursor(page)}


@bp.post("/storage/units", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("set up a storage unit"))
@bp.arguments(UnitIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, UnitOut)
def create_unit(data: dict[str, Any]) -> dict[str, Any]:
    """Set up a storage unit (LN2 tank, -80 °C freezer, refrigerator, room) with its allowed range"""
    return unit_answer(places.create_unit(db.session(), actor=current_user(), data=data))


@bp.get("/storage/units/<unit_code>", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.response(200, UnitOut)
def get_unit(unit_code: str) -> dict[str, Any]:
    """A unit with its racks or shelves and their boxes"""
    return unit_answer(places.unit_by_code(db.session(), unit_code))


@bp.post("/storage/units/<unit_code>", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("change a storage unit"))
@bp.arguments(UnitChangeIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, UnitOut)
def change_unit(data: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """Rename a unit or change its allowed range, with the reason"""
    session = db.session()
    unit = places.change_unit(session, actor=current_user(), unit=places.unit_by_code(session, unit_code), data=data)
    return unit_answer(unit)


@bp.post("/storage/units/<unit_code>/locations", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("add a rack or shelf"))
@bp.arguments(LocationIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, LocationOut)
def create_location(data: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """Add a rack or shelf to a unit"""
    session = db.session()
    unit = places.unit_by_code(session, unit_code)
    return location_answer(places.create_location(session, actor=current_user(), unit=unit, data=data))


@bp.get("/storage/locations/<location_code>", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.response(200, LocationOut)
def get_location(location_code: str) -> dict[str, Any]:
    """A rack or shelf with its boxes"""
    return location_answer(places.location_by_code(db.session(), location_code))


@bp.post("/storage/locations/<location_code>", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("rename a rack, shelf or box"))
@bp.arguments(RenameIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, LocationOut)
def rename_location(data: dict[str, Any], location_code: str) -> dict[str, Any]:
    """Rename a rack or shelf, with the reason (its code, on its label, stays)"""
    session = db.session()
    place = places.rename(session, actor=current_user(), place=places.location_by_code(session, location_code),
                          data=data)
    return location_answer(place)


@bp.post("/storage/locations/<location_code>/boxes", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("add a storage box"))
@bp.arguments(BoxIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, BoxOut)
def create_box(data: dict[str, Any], location_code: str) -> dict[str, Any]:
    """Add a box of rows x columns to a rack or shelf"""
    session = db.session()
    location = places.location_by_code(session, location_code)
    box = places.create_box(session, actor=current_user(), location=location, data=data)
    return {"box": placements.box_map(session, box)}


@bp.get("/storage/boxes/<box_code>", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.response(200, BoxOut)
def get_box(box_code: str) -> dict[str, Any]:
    """The box map: every position, row by row, with what it holds"""
    session = db.session()
    return {"box": placements.box_map(session, places.box_by_code(session, box_code))}


@bp.post("/storage/boxes/<box_code>", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("rename a rack, shelf or box"))
@bp.arguments(RenameIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, BoxOut)
def rename_box(data: dict[str, Any], box_code: str) -> dict[str, Any]:
    """Rename a box, with the reason (its code, on its labels, stays)"""
    session = db.session()
    box = places.rename(session, actor=current_user(), place=places.box_by_code(session, box_code), data=data)
    return {"box": placements.box_map(session, box)}


@bp.get("/storage/positions/<position_code>", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.response(200, PositionOut)
def get_position(position_code: str) -> dict[str, Any]:
    """One position and what it holds"""
    session = db.session()
    box, row, column = places.position_by_code(session, position_code)
    where = placements.where(session, box, row, column)
    cell = placements.box_map(session, box).grid[row - 1][column - 1]
    return {"code": where.position_code, "box": box.code, "position": where.position, "unit": where.unit.code,
            "location": where.location.code, "item_type": cell.placement.item_type if cell.placement else None,
            "item": cell.code}


def _to_position(data: dict[str, Any], operation: Callable[..., Any]) -> dict[str, Any]:
    """Put or move: the container and the position the request scans name, then the operation."""
    session = db.session()
    item = scan_views.container(session, data)
    box, row, column = scan_views.position(session, data.get("target"), data.get("position"))
    return placement_answer(operation(session, actor=current_user(), item=item, box=box, row=row, column=column,
                                      ranges=_ranges()))


@bp.post("/storage/put", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("put a container in storage"))
@bp.arguments(PutIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, PlacementOut)
def put(data: dict[str, Any]) -> dict[str, Any]:
    """Put a container in a free position (custody: stored)"""
    return _to_position(data, placements.put)


@bp.post("/storage/take", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("take a container out of storage"))
@bp.arguments(TakeIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, PlacementOut)
def take(data: dict[str, Any]) -> dict[str, Any]:
    """Take a container out of its position (custody: taken)"""
    session = db.session()
    item = scan_views.container(session, data)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid({"reason": translated(N_("text"))})
    placement = placements.take(session, actor=current_user(), item=item, ranges=_ranges(),
                                reason=reason.strip() if reason and reason.strip() else None)
    return placement_answer(placement)


@bp.post("/storage/move", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("move a container in storage"))
@bp.arguments(PutIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, PlacementOut)
def move(data: dict[str, Any]) -> dict[str, Any]:
    """Move a stored container to a free position (custody: moved)"""
    return _to_position(data, placements.move)


@bp.get("/storage/where-is", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.arguments(WhereIsQuery, location="query")
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, WhereIsOut)
def where_is(query: dict[str, Any]) -> placements.WhereIs:
    """Where a container is: unit > rack > box > position, and every position it has been in"""
    session = db.session()
    return placements.where_is(session, scan_views.container(session, query))


@bp.get("/storage/units/<unit_code>/readings", tags=TAGS)
@roles_required(*STORAGE_READERS, action=N_("read storage"))
@bp.arguments(PageQuery, location="query")
@bp.response(200, ReadingsOut)
def readings(_query: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """The unit's temperature readings, newest first, a page at a time (?limit=, ?cursor= from ``next``)"""
    session = db.session()
    unit = places.unit_by_code(session, unit_code)
    page = temperatures.recent(session, unit, page_request(size_arg="limit"))
    return {"readings": page.rows, "next": next_cursor(page)}


def _recorded(recorded: temperatures.Recorded) -> dict[str, Any]:
    return {"readings": len(recorded.readings), "out_of_range": recorded.out_of_range,
            "excursions": [x.id for x in recorded.excursions]}


@bp.post("/storage/units/<unit_code>/readings", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("record a storage temperature"))
@bp.arguments(ReadingIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, RecordedOut)
def enter_reading(data: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """Record one temperature of the unit; out of range, every item in it gets an excursion for QA"""
    session = db.session()
    unit = places.unit_by_code(session, unit_code)
    measured_at = None
    if data.get("measured_at") not in (None, ""):
        measured_at = parse_instant(data["measured_at"], "measured_at")
    notes = data.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > 2000):
        raise Invalid({"notes": translated(N_("text of up to {max_reason} characters")).format(max_reason=2000)})
    return _recorded(temperatures.enter(session, actor=current_user(), unit=unit, measured_at=measured_at,
                                        temperature_c=data.get("temperature_c"), notes=notes or None))


@bp.post("/storage/units/<unit_code>/readings/import", tags=TAGS)
@roles_required(*STORAGE_KEEPERS, action=N_("import a temperature logger file"))
@bp.arguments(ReadingsImportIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, RecordedOut)
def import_readings(data: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """Import a logger's CSV file (time,temperature_c): every line or none"""
    session = db.session()
    unit = places.unit_by_code(session, unit_code)
    content, name = data.get("content"), data.get("file_name")
    errors = {}
    if not isinstance(content, str) or not content.strip():
        errors["content"] = translated(N_("the CSV text"))
    if not isinstance(name, str) or not name.strip():
        errors["file_name"] = translated(N_("the file's name"))
    if errors:
        raise Invalid(errors)
    return _recorded(temperatures.import_file(session, actor=current_user(), unit=unit, content=content,
                                              file_name=name, tz=site_zone()))


@bp.get("/storage/boxes/<box_code>/labels.pdf", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The labels, as PDF")
def box_labels(box_code: str) -> Response:
    """Labels of a box and each of its positions"""
    return box_labels_pdf(box_code)


@bp.get("/storage/positions/<position_code>/label.pdf", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The label, as PDF")
def position_label(position_code: str) -> Response:
    """The label of one position"""
    return position_label_pdf(position_code)


@bp.get("/storage/locations/<location_code>/label.pdf", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The label, as PDF")
def location_label(location_code: str) -> Response:
    """The label of a rack or shelf"""
    return location_label_pdf(location_code)


@bp.get("/storage/boxes/<box_code>/labels.zpl", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="text/plain", description="The labels, as ZPL II")
def box_labels_zpl(box_code: str) -> Response:
    """Labels of a box and each of its positions, for a label printer"""
    return box_labels_pdf(box_code, "zpl")


@bp.get("/storage/positions/<position_code>/label.zpl", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="text/plain", description="The label, as ZPL II")
def position_label_zpl(position_code: str) -> Response:
    """The label of one position, for a label printer"""
    return position_label_pdf(position_code, "zpl")


@bp.get("/storage/locations/<location_code>/label.zpl", tags=TAGS)
@roles_required(*LABEL_PRINTERS, action=N_("print storage labels"))
@bp.response(200, FILE_BODY, content_type="text/plain", description="The label, as ZPL II")
def location_label_zpl(location_code: str) -> Response:
    """The label of a rack or shelf, for a label printer"""
    return location_label_pdf(location_code, "zpl")
