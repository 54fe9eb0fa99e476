"""The one scan resolver: what a scan is, and which record of this database it names.

Every scan box reads through it: the scan station, the lab's box and ``POST /scans`` (``describe``, and
``destination`` for the page a box opens), custody hand-overs, the ward's receive box and the reports'
search (``identify``), the label pages (``print_target``). The bedside reads its two scans with the same parser
(``identifiers.scans``) in ``ward/bedside_scans.py``, where the check needs both records in one statement.

``identifiers.scans.parse_scan`` decides what the text is (or refuses it with a reason) before anything is
looked up, so a mistyped DIN or a misread barcode never resolves to another record. Then the record
is looked up by the most specific identifier the scan carries: a bag id, then a subject id (or a chain-of-
identity identifier, which names its subject), then a bank
vial (the local structure ``&a<vial code>``, alone or in the vial label's 2D code), then a lot (the local
structure of a culture vessel, ``&e<lot>-P<n>-V<nn>``, or of a QC tube, ``&f<lot>-Q<nn>``), then the DIN's
collection. A local data structure (``&a``-``&z``) names a vial, storage box, position, location, culture
vessel, QC tube or instrument (``&g<code>``) by the site's letter for each
(``LOCAL_DATA_IDENTIFIERS``; docs/identifiers.md). A well-formed scan of something this database does not
hold is not an error: the answer says what it is and that no record has it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.banking import banks, vials
from cellchain.banking.models import CellBank, Vial
from cellchain.core.config import DEFAULTS
from cellchain.core.errors import Invalid, NotFound
from cellchain.core.words import N_, translated
from cellchain.core.words.scans import not_held, scan_kind_label
from cellchain.equipment import instruments
from cellchain.equipment.models import Instrument
from cellchain.identifiers.scans import Scan, parse_scan, read_field
from cellchain.labelling import print_jobs
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.materials import catalogue
from cellchain.materials import usage as material_usage
from cellchain.materials.models import Material, MaterialLot
from cellchain.storage import placements, places
from cellchain.storage.models import StorageBox, StorageLocation
from cellchain.trial import subjects
from cellchain.trial.models import Subject

LETTERS: Mapping[str, str] = DEFAULTS["LOCAL_DATA_IDENTIFIERS"]
GS_SUBSTITUTE: str = DEFAULTS["GS1_GS_SUBSTITUTE"]


@dataclass(frozen=True)
class Identified:
    """A scan and the record it names (``kind`` is collection, bag, vial, subject, box, position or location; a
    position's record is ``(box, row, column)``)."""

    kind: str
    record: Any
    scan: Scan


def _vial_code(scan: Scan, letters: Mapping[str, str]) -> str | None:
    """The vial code a scan carries: its label's local structure alone, or inside the label's 2D code."""
    letter = letters.get("vial")
    if scan.kind == "local" and scan.fields["letter"] == letter:
        return scan.fields["identifier"]
    for structure in scan.fields.get("structures", ()) if scan.kind == "compound" else ():
        if structure.kind == "local" and structure.fields["letter"] == letter:
            return structure.fields["identifier"]
    return None


def _local_kind(scan: Scan, letters: Mapping[str, str]) -> str | None:
    """What a local data structure names by its letter (box, position, location, vial), or None."""
    if scan.kind != "local":
        return None
    return next((kind for kind, letter in letters.items() if letter == scan.fields["letter"]), None)


def _storage_record(session: Session, kind: str, identifier: str) -> Any:
    if kind == "box":
        return places.box_by_code(session, identifier)
    if kind == "position":
        return places.position_by_code(session, identifier)
    return places.location_by_code(session, identifier)


def identify(session: Session, raw: Any, *, tz: ZoneInfo | None = None, field: str = "item",
             letters: Mapping[str, str] = LETTERS) -> Identified:
    """The record a scan names. A DIN names the collection; a bag id or a bag's 2D code names the bag; a
    vial label names the vial; a box, position or location label names it."""
    scan = read_field(raw, tz=tz, field=field)
    code = _vial_code(scan, letters)
    if code is not None:
        return Identified("vial", vials.vial_by_code(session, code), scan)
    local = _local_kind(scan, letters)
    if local in ("box", "position", "location"):
        return Identified(local, _storage_record(session, local, scan.fields["identifier"]), scan)
    if scan.kind == "bag" or (scan.kind == "compound" and "bag_id" in scan.fields):
        return Identified("bag", lookups.bag_by_code(session, scan.fields["bag_id"]), scan)
    if scan.kind == "subject" or (scan.kind == "compound" and "subject_id" in scan.fields):
        return Identified("subject", subjects.subject_by_code(session, scan.fields["subject_id"]), scan)
    if scan.kind == "chain_of_identity":
        return Identified("subject", subjects.subject_by_chain_of_identity(session, scan.fields["chain_of_identity"]),
                          scan)
    if scan.kind in ("din", "compound") and "din" in scan.fields:
        return Identified("collection", lookups.collection_by_din(session, scan.fields["din"]), scan)
    what = translated(N_("{kind} label")).format(kind=local) if local else scan_kind_label(scan.kind)
    raise Invalid({field: translated(N_(
        "this scan ({what}) does not identify a collection, bag, vial, subject or storage place")).format(what=what)})


@dataclass(frozen=True)
class Found:
    """A record a scan names: its type, row id, public key (DIN, lot id, bag id, subject id), and a
    summary of plain values (times as aware datetimes, for the API and the pages to format)."""

    type: str
    id: int
    key: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanAnswer:
    scan: Scan
    record: Found | None
    note: str | None = None


def _bag(session: Session, bag: Bag) -> Found:
    lot = session.get(Lot, bag.lot_id) if bag.lot_id else None
    return Found("bag", bag.id, bag.bag_code, {
        "bag_id": bag.bag_code, "product": bag.kind, "quality_status": bag.quality_status,
        "custody_state": bag.custody_state, "lot_id": lot.lot_number if lot else None,
        "volume_ml": bag.volume_ml, "total_cells": bag.total_cells, "expires_at": bag.expires_at})


def _vial(session: Session, vial: Vial) -> Found:
    bank = session.get(CellBank, vial.bank_id)
    return Found("vial", vial.id, vial.vial_code, {
        "vial_code": vial.vial_code, "bank_code": bank.bank_code, "level": bank.level, "din": bank.din,
        "state": vial.state, "custody_state": vial.custody_state})


def _bank(session: Session, bank: CellBank) -> Found:
    return Found("bank", bank.id, bank.bank_code, {"bank_code": bank.bank_code, "level": bank.level,
                                                   "din": bank.din, "vial_count": bank.vial_count})


def _collection(session: Session, row: Collection) -> Found:
    lot = session.exec(select(Lot).where(Lot.collection_id == row.id, Lot.source_vial_id.is_(None))).first()
    return Found("collection", row.id, row.din, {
        "din": row.din, "eligibility": row.eligibility, "collected_at": row.collected_at,
        "custody_state": row.custody_state, "lot_id": lot.lot_number if lot else None})


def _lot(session: Session, lot: Lot) -> Found:
    collection = session.get(Collection, lot.collection_id)
    return Found("lot", lot.id, lot.lot_number, {
        "lot_id": lot.lot_number, "status": lot.status, "din": collection.din if collection else None,
        "spec_version": lot.spec_version})


def _subject(session: Session, subject: Subject) -> Found:
    return Found("subject", subject.id, subject.subject_code, {
        "subject_id": subject.subject_code, "screening_number": subject.screening_number,
        "eligible": subject.eligible, "randomized": subject.arm is not None})


def _box(session: Session, box: StorageBox) -> Found:
    where = placements.where(session, box, 1, 1)
    shown = placements.box_map(session, box)
    return Found("box", box.id, box.code, {
        "box": box.code, "name": box.name, "unit": where.unit.code, "location": where.location.code,
        "rows": box.rows, "columns": box.columns, "taken": shown.taken})


def _position(session: Session, found: tuple[StorageBox, int, int]) -> Found:
    box, row, column = found
    where = placements.where(session, box, row, column)
    cell = placements.box_map(session, box).grid[row - 1][column - 1]
    return Found("position", box.id, where.position_code, {
        "box": box.code, "position": where.position, "unit": where.unit.code, "location": where.location.code,
        "item_type": cell.placement.item_type if cell.placement else None, "item": cell.code})


def _location(session: Session, location: StorageLocation) -> Found:
    unit = places.unit_layout(session, places.unit_by_id(session, location.unit_id))
    boxes = next((b for loc, b in unit.locations if loc.id == location.id), [])
    return Found("location", location.id, location.code, {
        "location": location.code, "name": location.name, "kind": location.kind, "unit": unit.unit.code,
        "boxes": [box.code for box, _ in boxes]})


STORAGE_SUMMARIES = {"box": _box, "position": _position, "location": _location}


def _material_lot(session: Session, lot: MaterialLot) -> Found:
    material = session.get(Material, lot.material_id)
    return Found("material_lot", lot.id, lot.code, {
        "code": lot.code, "material": material.name, "supplier_lot": lot.supplier_lot, "status": lot.status,
        "expires_on": lot.expires_on.isoformat(), "quantity_left": lot.quantity_left, "unit": lot.unit})


def _material_lot_of(session: Session, scan: Scan) -> Found | None:
    """A supplier's GS1 barcode or a lot's own ML- label names a received material lot (``Missing`` when none)."""
    if scan.kind == "material_lot":
        code = scan.fields["code"]
        return _material_lot(session, _held("material_lot", code, lambda: catalogue.lot_by_code(session, code)))
    if scan.kind == "gs1":
        found = material_usage.find(session, scan.data)
        if isinstance(found, MaterialLot):
            return _material_lot(session, found)
        raise Missing("gs1", gtin=scan.fields.get("gtin", "-"), lot=scan.fields.get("lot", "-"))
    return None


def _instrument(session: Session, row: Instrument) -> Found:
    return Found("instrument", row.id, row.code, {
        "code": row.code, "name": row.name, "kind": row.kind, "place": row.place, "status": row.status,
        "calibration_due": row.calibration_due.isoformat() if row.calibration_due else None,
        "maintenance_due": row.maintenance_due.isoformat() if row.maintenance_due else None})


_LOT_OF = {"vessel": re.compile(r"(.+)-P[0-9]+-V[0-9]{2}"), "qc_tube": re.compile(r"(.+)-Q[0-9]{2}")}


def _lot_number(scan: Scan, letters: Mapping[str, str]) -> str | None:
    """The lot a culture vessel's or QC tube's own identifier names (``labelling/data.py`` vessel_key,
    qc_sample_id), alone or inside the label's 2D code."""
    found = [scan] if scan.kind == "local" else list(scan.fields.get("structures", ()) if scan.kind == "compound"
                                                      else ())
    for structure in found:
        if structure.kind != "local":
            continue
        for kind, pattern in _LOT_OF.items():
            named = pattern.fullmatch(structure.fields["identifier"])
            if structure.fields["letter"] == letters.get(kind) and named:
                return named.group(1)
    return None


class Missing(Exception):
    """A well-formed scan of a record this database does not hold: which record (a key of
    ``core/words/scans.py`` NOT_HELD) and the values that name it."""

    def __init__(self, record: str, **values: Any) -> None:
        super().__init__(record)
        self.record = record
        self.values = values


def _held(record: str, key: str, load: Callable[[], Any]) -> Any:
    try:
        return load()
    except NotFound:
        raise Missing(record, key=key) from None


def _lookup(session: Session, scan: Scan, letters: Mapping[str, str]) -> Found | None:
    """The record of the most specific identifier in the scan; ``Missing`` when this database has none."""
    fields = scan.fields
    if scan.kind in ("gs1", "material_lot"):
        return _material_lot_of(session, scan)
    local = _local_kind(scan, letters)
    if local in STORAGE_SUMMARIES:
        key = fields["identifier"]
        return STORAGE_SUMMARIES[local](session, _held(local, key, lambda: _storage_record(session, local, key)))
    if local == "instrument":
        key = fields["identifier"]
        return _instrument(session, _held("instrument", key, lambda: instruments.by_code(session, key)))
    if scan.kind in ("bag", "compound") and "bag_id" in fields:
        key = fields["bag_id"]
        return _bag(session, _held("bag", key, lambda: lookups.bag_by_code(session, key)))
    if scan.kind in ("subject", "compound") and "subject_id" in fields:
        key = fields["subject_id"]
        return _subject(session, _held("subject", key, lambda: subjects.subject_by_code(session, key)))
    if scan.kind == "chain_of_identity":
        key = fields["chain_of_identity"]
        return _subject(session, _held("chain_of_identity", key,
                                       lambda: subjects.subject_by_chain_of_identity(session, key)))
    code = _vial_code(scan, letters)
    if code is not None:
        return _vial(session, _held("vial", code, lambda: vials.vial_by_code(session, code)))
    lot_number = _lot_number(scan, letters)
    if lot_number is not None:
        return _lot(session, _held("lot", lot_number, lambda: lookups.lot_by_number(session, lot_number)))
    if scan.kind in ("din", "compound") and "din" in fields:
        key = fields["din"]
        return _collection(session, _held("collection", key, lambda: lookups.collection_by_din(session, key)))
    return None


FINDERS = {"collection": (lookups.collection_by_din, _collection), "lot": (lookups.lot_by_number, _lot),
           "bag": (lookups.bag_by_code, _bag), "subject": (subjects.subject_by_code, _subject),
           "vial": (vials.vial_by_code, _vial), "bank": (banks.bank_by_code, _bank),
           "box": (places.box_by_code, _box), "position": (places.position_by_code, _position),
           "location": (places.location_by_code, _location),
           "material_lot": (catalogue.lot_by_code, _material_lot),
           "instrument": (instruments.by_code, _instrument)}


def find(session: Session, record_type: str, key: str) -> Found:
    """A record and its summary by type and public key (NotFound if this database has none)."""
    if record_type not in FINDERS:
        raise NotFound(f"no {str(record_type)[:20]} records")
    load, summarise = FINDERS[record_type]
    return summarise(session, load(session, key))


def describe(session: Session, raw: Any, *, tz: ZoneInfo, letters: Mapping[str, str] = LETTERS,
             gs_substitute: str = GS_SUBSTITUTE) -> ScanAnswer:
    """Parse ``raw`` (refused with ``Invalid({"data": reason})``) and find the record it names, if any."""
    scan = parse_scan(raw, tz=tz, gs_substitute=gs_substitute)
    try:
        return ScanAnswer(scan, _lookup(session, scan, letters))
    except Missing as missing:
        return ScanAnswer(scan, None, not_held(missing.record, **missing.values))


def destination(session: Session, answer: ScanAnswer) -> tuple[str, str] | None:
    """The page a scan box opens, as (page, key): the record's own page, except that a cord's DIN opens its
    lot once one is started (where the next step is recorded), or its genealogy once it has several lots
    (banked cells: a scan of the DIN names no single lot), and a placebo fill's DIN, which names no
    cord, opens the list of its bags. None when the scan names nothing in this database."""
    found = answer.record
    if found is None:
        din = answer.scan.fields.get("din")
        if din and session.exec(select(Bag.id).where(Bag.din == din)).first() is not None:
            return "bags_of_din", din
        return None
    if found.type == "collection":
        numbers = list(session.exec(select(Lot.lot_number).where(Lot.collection_id == found.id).limit(2)))
        if len(numbers) > 1:
            return "genealogy", found.key
        return ("lot", numbers[0]) if numbers else ("collection", found.key)
    return found.type, found.key


def print_target(session: Session, target: str, key: str) -> Found | None:
    """The item a print page is about (404 when unknown); a shipment has no record of its own."""
    print_jobs.target_kind(target)
    if target == "shipment":
        if not print_jobs.shipment_prints(session, key):
            raise NotFound(f"no shipper label {key[:40]} was printed here")
        return None
    return find(session, "lot" if target in ("lot", "qc", "vessel") else target, key)
