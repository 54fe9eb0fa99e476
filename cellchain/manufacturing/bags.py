"""Filling final bags: UC-MSC bags from a formulated lot, placebo bags of saline; and reading bags.

A bag's cells are always the lot's formulated concentration times the bag's volume: the fill computes
them (a stated ``total_cells`` more than ``CELL_CONTENT_TOLERANCE`` from them is refused; one within it is
accepted and the bag still carries the computed number). Besides its standard bags a fill may make
bags for named subjects' infusion visits, each of the volume that gives ``DOSE_CELLS_PER_KG`` x the
subject's current weight (the visit's recorded weight, else the weight at registration), reserved for
that visit. A fill is fresh or cryopreserved (docs/rules.md, "Frozen bags and the thaw").

A bag's identity is DIN + product code + division (``A999926000001-D0001VA0``). The DIN is always the
cord's (``lot.din``), also for a dosing lot thawed from a bank vial. Divisions run A0, B0,
... Z0, then A1 ... Z1 and so on (a local convention inside ISBT 128's two division characters), and
continue after the bags the DIN already has, across every lot of that cord. The lot's row is locked
while divisions are chosen and the database's unique constraint on (din, product_code, division)
holds even if that lock were missed, so two fills can never label two bags alike. A fill is all or
none: one transaction writes every bag, its audit entries, its opening custody event, the fill step
and the lot's new status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.core.words.numbers import cells_and_power
from cellchain.identifiers.isbt128 import Din, ProductCode, encode_moment
from cellchain.identifiers.scans import format_bag_id
from cellchain.manufacturing import batch, din, lookups
from cellchain.manufacturing.bag_input import (
    MAX_BAG_VOLUME_ML,
    FillInput,
    NamedEntry,
    PlaceboInput,
    container_lot,
    parse_fill,
    parse_named,
    parse_placebo,
)
from cellchain.manufacturing.lot_access import effective_steps, get_lot, lock_lot, not_in_process
from cellchain.manufacturing.models import QUALITY_STATUSES, Bag, BagTally, Lot
from cellchain.materials import usage as materials
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import dosing
from cellchain.ward import custody
from cellchain.ward.models import CustodyEvent
from cellchain.ward.rules import custody_states

FILL_LOCATION = "cell processing lab"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_DIVISIONS = len(LETTERS) * 10
LOT_NOT_FORMULATED = "lot_not_formulated"
FILL_EXCEEDS_FORMULATION = "fill_exceeds_formulation"
FILL_TIME_ORDER = "fill_time_order"
DIVISIONS_EXHAUSTED = "divisions_exhausted"
CELL_CONTENT_MISMATCH = "cell_content_mismatch"
# A count stated by the person filling is their arithmetic of the same formulation, often rounded
# (7.0e7 for 70,350,000): within half a percent it is the same content, beyond it one of the two numbers
# is wrong and the fill stops. The bag always carries the computed content, so the label, the dose check
# at allocation and the bedside read one number (docs/rules.md, "Bags").
CELL_CONTENT_TOLERANCE = 0.005
NAMED_SUBJECT_UNKNOWN = "named_subject_unknown"
NAMED_VISIT_NOT_INFUSION = "named_visit_not_infusion"
NAMED_DOSE_NOT_FILLABLE = "named_dose_not_fillable"
LOT_FOR_BANK = "lot_is_for_a_bank"
NAMED_VOLUME_STEP_ML = 0.1  # bags are filled to a tenth of a millilitre (the fill syringe's graduation)


@dataclass(frozen=True)
class FillSettings:
    """The configuration a fill depends on, read once by the view from the app's config."""

    product_codes: Mapping[str, str]
    collection_type: str
    shelf_life: timedelta
    placebo_shelf_life: timedelta
    placebo_volume_ml: float
    fin: str
    tz: ZoneInfo
    ranges: Mapping[str, Any]
    frozen_shelf_life: timedelta = timedelta(days=180)
    cells_per_kg: float = dosing.CELLS_PER_KG
    dose_tolerance: float = dosing.DOSE_TOLERANCE
    # Anticoagulant and saline must be released material lots; False only while a site moves its typed lot
    # numbers onto material lots (a text naming no material lot is then kept as typed). docs/rules.md, "Materials".
    material_lots_required: bool = True
    gs_substitute: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FillSettings:
        return cls(product_codes=config["PRODUCT_CODES"], collection_type=config["COLLECTION_TYPE"],
                   shelf_life=timedelta(hours=config["PRODUCT_SHELF_LIFE_HOURS"]),
                   placebo_shelf_life=timedelta(days=config["PLACEBO_SHELF_LIFE_DAYS"]),
                   placebo_volume_ml=float(config["PLACEBO_VOLUME_ML"]), fin=config["FACILITY_FIN"],
                   tz=ZoneInfo(config["SITE_TIMEZONE"]), ranges=config["TEMPERATURE_RANGES"],
                   frozen_shelf_life=timedelta(days=config["FROZEN_SHELF_LIFE_DAYS"]),
                   cells_per_kg=config["DOSE_CELLS_PER_KG"], dose_tolerance=config["DOSE_TOLERANCE"],
                   material_lots_required=config["MATERIAL_LOTS_REQUIRED"],
                   gs_substitute=config["GS1_GS_SUBSTITUTE"])


def division(index: int) -> str:
    """The ``index``-th division of a DIN: 0 -> A0, 25 -> Z0, 26 -> A1."""
    return f"{LETTERS[index % len(LETTERS)]}{index // len(LETTERS)}"


def division_index(text: str) -> int | None:
    """The position of a division written by :func:`division`; ``None`` for any other form (``00``)."""
    if len(text) == 2 and text[0] in LETTERS and text[1].isdigit():
        return int(text[1]) * len(LETTERS) + LETTERS.index(text[0])
    return None


def next_divisions(existing: list[str], count: int) -> list[str]:
    """``count`` divisions after every one in ``existing``; refused when the series would run out."""
    used = [i for i in (division_index(d) for d in existing) if i is not None]
    start = max(used) + 1 if used else 0
    if start + count > MAX_DIVISIONS:
        raise Refused(Reason(DIVISIONS_EXHAUSTED, left=MAX_DIVISIONS - start, count=count))
    return [division(start + i) for i in range(count)]


def _existing_divisions(session: Session, din_text: str, code: str) -> list[str]:
    statement = select(Bag.division).where(Bag.din == din_text, Bag.product_code == code)
    return list(session.exec(statement))


def _write_bag(session: Session, *, actor: Actor, settings: FillSettings, kind: str, din_text: str,
               division_code: str, values: dict[str, Any]) -> Bag:
    """One bag, its audit entry and its opening custody event ``filled``."""
    product = ProductCode(settings.product_codes[kind], settings.collection_type, division_code)
    bag = Bag(bag_code=format_bag_id(Din.parse(din_text), product), din=din_text, product_code=product.code,
              collection_type=product.collection_type, division=product.division, kind=kind,
              created_by=actor.id, **values)
    session.add(bag)
    session.flush()
    trail.record(session, actor=actor, record_type="bag", record_id=bag.id, action="fill",
                 new={"bag_id": bag.bag_code, "kind": kind, "quality_status": bag.quality_status,
                      **{k: v for k, v in values.items() if k != "quality_status"}})
    custody.record_system_event(session, actor=actor, record=bag, ranges=settings.ranges,
                                handover=custody.Handover(event="filled", location=FILL_LOCATION,
                                                          occurred_at=bag.filled_at))
    return bag


def cells_in(cells_per_ml: float, volume_ml: float) -> int:
    """The cells a bag of ``volume_ml`` of the formulation holds: the concentration times the volume."""
    return round(cells_per_ml * volume_ml)


def within_cell_tolerance(stated: int, computed: int) -> bool:
    """A stated cell count is the computed one when it is at most ``CELL_CONTENT_TOLERANCE`` from it."""
    return abs(stated - computed) <= CELL_CONTENT_TOLERANCE * computed


def readable_cells(number: float) -> str:
    """A cell count as people read it: ``70,350,000 (7.04 x 10^7)`` (``core/words/numbers.py``)."""
    return cells_and_power(number)


@dataclass(frozen=True)
class NamedDose:
    """A bag to make for one subject's infusion visit: the weight it is dosed for and the volume that gives it."""

    subject_code: str
    subject_id: int
    week: int
    visit_id: int
    weight_kg: float
    weight_from: str  # "visit" (recorded for the visit) or "registration"
    required_cells: int
    volume_ml: float
    total_cells: int


def _named_dose(session: Session, entry: NamedEntry, cells_per_ml: float,
                settings: FillSettings) -> NamedDose | Reason:
    subject = session.exec(select(Subject).where(Subject.subject_code == entry.subject_code)).first()
    if subject is None:
        return Reason(NAMED_SUBJECT_UNKNOWN, subject_code=entry.subject_code)
    visit = session.exec(select(Visit).where(Visit.subject_id == subject.id, Visit.week == entry.week,
                                             Visit.kind == "infusion")).first()
    if visit is None:
        return Reason(NAMED_VISIT_NOT_INFUSION, subject_code=subject.subject_code, week=entry.week)
    weight, source = ((visit.weight_kg, "visit") if visit.weight_kg is not None
                      else (subject.weight_kg, "registration"))
    required = dosing.required_cells(weight, settings.cells_per_kg)
    steps = round(required / cells_per_ml / NAMED_VOLUME_STEP_ML)
    volume = round(steps * NAMED_VOLUME_STEP_ML, 1)
    total = cells_in(cells_per_ml, volume)
    check = dosing.check_dose(total, weight, cells_per_kg=settings.cells_per_kg,
                              tolerance=settings.dose_tolerance) if volume > 0 else None
    if not 0 < volume <= MAX_BAG_VOLUME_ML or check is None or not check.ok:
        return Reason(NAMED_DOSE_NOT_FILLABLE, subject_code=subject.subject_code, week=entry.week,
                      required=required, weight_kg=weight, cells_per_ml=cells_per_ml,
                      volume_ml=required / cells_per_ml, step_ml=NAMED_VOLUME_STEP_ML, max_ml=MAX_BAG_VOLUME_ML)
    return NamedDose(subject.subject_code, subject.id, entry.week, visit.id, weight, source, required, volume, total)


def named_doses(session: Session, lot: Lot, entries: tuple[NamedEntry, ...],
                settings: FillSettings) -> tuple[list[NamedDose], list[Reason]]:
    """Each named entry's bag, computed from the lot's formulated concentration, or why it cannot be made."""
    if lot.formulated_cells_per_ml is None:
        return [], ([Reason(LOT_NOT_FORMULATED)] if entries else [])
    found = [_named_dose(session, e, lot.formulated_cells_per_ml, settings) for e in entries]
    return [d for d in found if isinstance(d, NamedDose)], [r for r in found if isinstance(r, Reason)]


def preview_named(session: Session, *, lot_number: str, named: Any, settings: FillSettings) -> list[NamedDose]:
    """The volume of each named bag as the fill would make it, computed here and written nowhere
    (the fill page shows it before the fill is submitted)."""
    entries = parse_named(named)
    if not entries:
        raise Invalid({"named": translated(N_("name at least one subject and week"))})
    doses, reasons = named_doses(session, get_lot(session, lot_number), entries, settings)
    if reasons:
        raise Refused(reasons)
    return doses


def _fill_reasons(session: Session, lot: Lot, entry: FillInput, doses: list[NamedDose]) -> list[Reason]:
    reasons = not_in_process(lot, N_("be filled"))
    if lot.purpose != "dosing":
        reasons.append(Reason(LOT_FOR_BANK, lot_number=lot.lot_number))
    if lot.formulated_cells_per_ml is None or lot.formulated_volume_ml is None:
        return [*reasons, Reason(LOT_NOT_FORMULATED)]
    if entry.count and entry.total_cells is not None:
        cells = cells_in(lot.formulated_cells_per_ml, entry.volume_ml)
        if not within_cell_tolerance(entry.total_cells, cells):
            off = abs(entry.total_cells - cells) / cells
            reasons.append(Reason(CELL_CONTENT_MISMATCH, stated=readable_cells(entry.total_cells), off=off,
                                  computed=readable_cells(cells), volume_ml=entry.volume_ml,
                                  cells_per_ml=readable_cells(lot.formulated_cells_per_ml),
                                  tolerance=CELL_CONTENT_TOLERANCE))
    needed = entry.count * (entry.volume_ml or 0) + sum(d.volume_ml for d in doses)
    if needed > lot.formulated_volume_ml:
        reasons.append(Reason(FILL_EXCEEDS_FORMULATION, needed=needed, formulated_volume_ml=lot.formulated_volume_ml))
    added = entry.anticoagulant_volume_ml
    short = [d for d in doses if added is not None and added >= d.volume_ml]
    if short:
        reasons.append(Reason(NAMED_DOSE_NOT_FILLABLE, variant="anticoagulant", added=added,
                              subject_code=short[0].subject_code, volume_ml=short[0].volume_ml))
    formulated_at = [s.performed_at for s in effective_steps(session, lot.id) if s.step_key == "formulation"]
    if formulated_at and entry.filled_at < formulated_at[0]:
        reasons.append(Reason(FILL_TIME_ORDER))
    return reasons


def fill_bags(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any],
              settings: FillSettings, now: datetime | None = None) -> list[Bag]:
    """Fill a formulated lot into bags, in quarantine until QA releases the lot (docs/rules.md, "Quarantine").

    Standard bags first, then one bag per named entry (reserved for its subject's visit); every bag's
    cells are the formulated concentration times its volume. ``now`` is the clock the fill time and the
    expiry are checked against; only the demo passes it, for the fills of its past infusions.
    """
    require_role(actor.roles, "lab", action=N_("fill bags"))
    entry = parse_fill(data, shelf_life=settings.shelf_life, frozen_shelf_life=settings.frozen_shelf_life,
                       now=now or utcnow())
    lot = lock_lot(session, lot_number)
    doses, reasons = named_doses(session, lot, entry.named, settings)
    reasons = [*_fill_reasons(session, lot, entry, doses), *[r for r in reasons if r.code != LOT_NOT_FORMULATED]]
    reasons += holds.item_refusals(session, "lot", lot.id)  # docs/rules.md, "Quality: holds"
    bag_count = entry.count + len(entry.named)
    added = (entry.anticoagulant_volume_ml * bag_count, "ml") if entry.anticoagulant_volume_ml else (bag_count, "bags")
    anticoagulant, why = materials.check_reference(
        session, entry.anticoagulant_lot, field="anticoagulant_lot", kinds=("anticoagulant",), used_at=entry.filled_at,
        tz=settings.tz, quantity=added[0], unit=added[1], required=settings.material_lots_required,
        legacy=container_lot, gs_substitute=settings.gs_substitute)  # docs/rules.md, "Materials"
    reasons += why
    code = settings.product_codes["ucmsc"]
    try:
        divisions = next_divisions(_existing_divisions(session, lot.din, code), entry.count + len(entry.named))
    except Refused as refusal:
        reasons.extend(refusal.reasons)
    if reasons:
        raise Refused(reasons)
    common = {"lot_id": lot.id, "anticoagulant": entry.anticoagulant, "anticoagulant_lot": anticoagulant.text,
              "anticoagulant_volume_ml": entry.anticoagulant_volume_ml, "filled_at": entry.filled_at,
              "expires_at": entry.expires_at, "quality_status": "quarantine", "preservation": entry.preservation}
    if entry.preservation == "cryopreserved":
        common |= {"frozen_at": entry.frozen_at, "frozen_expires_at": entry.expires_at}
    values = [{**common, "volume_ml": entry.volume_ml, "total_cells": cells_in(lot.formulated_cells_per_ml,
                                                                               entry.volume_ml)}] * entry.count \
        if entry.count else []
    values += [{**common, "volume_ml": d.volume_ml, "total_cells": d.total_cells, "for_subject_id": d.subject_id,
                "for_visit_id": d.visit_id} for d in doses]
    bags = [_write_bag(session, actor=actor, settings=settings, kind="ucmsc", din_text=lot.din,
                       division_code=d, values=v) for d, v in zip(divisions, values, strict=True)]
    standard = bags[:entry.count]
    details = {"count": entry.count, "bags": [b.bag_code for b in standard], "volume_ml": entry.volume_ml,
               "total_cells": standard[0].total_cells if standard else None, "anticoagulant": entry.anticoagulant,
               "anticoagulant_lot": anticoagulant.text, "anticoagulant_volume_ml": entry.anticoagulant_volume_ml,
               "preservation": entry.preservation, "expires_at": entry.expires_at.isoformat(),
               "named": [{"bag": b.bag_code, "subject_id": d.subject_code, "week": d.week, "weight_kg": d.weight_kg,
                          "weight_from": d.weight_from, "volume_ml": d.volume_ml, "total_cells": d.total_cells}
                         for b, d in zip(bags[entry.count:], doses, strict=True)]}
    if entry.frozen_at is not None:
        details["frozen_at"] = entry.frozen_at.isoformat()
    if anticoagulant.lot is not None:
        details["anticoagulant_material_lot"] = anticoagulant.lot.code
    step = batch.add_step(session, actor=actor, lot=lot, key="fill", details=details, performed_at=entry.filled_at,
                          instruments=data.get("instruments"))
    if anticoagulant.lot is not None:
        materials.record_use(session, actor=actor, material_lot=anticoagulant.lot, quantity=added[0], unit=added[1],
                             used_at=entry.filled_at, role="anticoagulant", lot_id=lot.id, step_id=step.id,
                             lot_number=lot.lot_number)
    lot.status = "awaiting_release"
    session.add(lot)
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="fill",
                 old={"status": "in_process"}, new={"status": lot.status, "bags": [b.bag_code for b in bags]})
    return bags


def fill_placebo(session: Session, *, actor: Actor, data: Mapping[str, Any], settings: FillSettings,
                 now: datetime | None = None) -> list[Bag]:
    """Fill placebo bags of 0.9% sodium chloride under a DIN of their own, released at filling (``now``: the
    clock the fill is checked against, as for ``fill_bags``).

    The saline is a licensed commercial medicinal product released by its manufacturer; the lot of
    saline used is recorded on every bag and that release is the placebo's release, so placebo bags
    do not wait for a QA lot release. Their traceability is the same as UC-MSC bags: DIN, product
    code, division, custody from ``filled`` on, and an audit entry per bag.
    """
    require_role(actor.roles, "lab", action=N_("fill placebo bags"))
    entry: PlaceboInput = parse_placebo(data, default_volume_ml=settings.placebo_volume_ml,
                                        shelf_life=settings.placebo_shelf_life, now=now or utcnow())
    saline, reasons = materials.check_reference(
        session, entry.saline_lot, field="saline_lot", kinds=("saline",), used_at=entry.filled_at, tz=settings.tz,
        quantity=entry.volume_ml * entry.count, unit="ml", required=settings.material_lots_required,
        legacy=container_lot, gs_substitute=settings.gs_substitute)  # docs/rules.md, "Materials"
    if reasons:
        raise Refused(reasons)
    din_text = din.issue_din(session, fin=settings.fin, when=entry.filled_at, tz=settings.tz)
    values = {"saline_lot": saline.text, "volume_ml": entry.volume_ml, "filled_at": entry.filled_at,
              "expires_at": entry.expires_at, "quality_status": "released"}
    bags = [_write_bag(session, actor=actor, settings=settings, kind="placebo", din_text=din_text,
                       division_code=d, values=values) for d in next_divisions([], entry.count)]
    trail.record(session, actor=actor, record_type="placebo_fill", record_id=din_text, action="fill",
                 new={"din": din_text, "count": entry.count, "saline_lot": saline.text,
                      "saline_material_lot": saline.lot.code if saline.lot else None,
                      "bags": [b.bag_code for b in bags]},
                 reason="0.9% saline is a licensed product; its saline lot is the placebo's release")
    if saline.lot is not None:
        materials.record_use(session, actor=actor, material_lot=saline.lot, quantity=entry.volume_ml * entry.count,
                             unit="ml", used_at=entry.filled_at, role="saline", din=din_text)
    return bags


@dataclass(frozen=True)
class BagView:
    bag: Bag
    lot_number: str | None
    subject_code: str | None
    allocation: Allocation | None
    events: list[CustodyEvent]
    barcodes: dict[str, str]
    made_for: str | None = None  # a named bag: "SUBJ-0001 week 4", the visit it is reserved for


def barcodes(bag: Bag, tz: ZoneInfo) -> dict[str, str]:
    """The ISBT 128 data structures a label of this bag carries (what a scanner reads back)."""
    the_din = Din.parse(bag.din)
    return {"din": the_din.barcode_data(), "din_check": the_din.check,
            "product_code": ProductCode(bag.product_code, bag.collection_type, bag.division).encode(),
            "expiry": encode_moment("expiry_datetime", bag.expires_at, tz)}


def bag_view(session: Session, bag_code: Any, *, tz: ZoneInfo) -> BagView:
    if not isinstance(bag_code, str) or not bag_code.strip():
        raise Invalid({"bag_id": translated(N_("give the bag id"))})
    bag = lookups.bag_by_code(session, bag_code.strip())
    lot = session.get(Lot, bag.lot_id) if bag.lot_id else None
    allocation = session.exec(select(Allocation).where(Allocation.bag_id == bag.id)).first()
    subject = session.get(Subject, allocation.subject_id) if allocation else None
    made_for = None
    if bag.for_visit_id is not None:
        owner, visit = session.get(Subject, bag.for_subject_id), session.get(Visit, bag.for_visit_id)
        made_for = f"{owner.subject_code} week {visit.week}"
    return BagView(bag, lot.lot_number if lot else None, subject.subject_code if subject else None, allocation,
                   custody.events_of(session, "bag", bag.id), barcodes(bag, tz), made_for)


def list_bags(session: Session, *, status: str | None = None, lot_number: str | None = None,
              din_text: str | None = None, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of bags with their lot id, in the order they were made (keyset on the bag's id);
    ``status`` is a quality status (quarantine ...) or a custody state (at_ward ...)."""
    return db.keyset(session, _bags(session, status, lot_number, din_text), (Bag.id,), page)


def count_bags(session: Session, *, status: str | None = None) -> int:
    """How many bags ``list_bags`` would list, counted by the database."""
    return db.count(session, _bags(session, status, None, None))


def tally(session: Session) -> dict[tuple[str | None, str], int]:
    """Every bag made, by (custody state, quality status), from the tally the database keeps (``BagTally``):
    a few rows, whatever the number of bags."""
    rows = session.exec(select(BagTally.custody_state, BagTally.quality_status, BagTally.bags))
    return {(state or None, quality): bags for state, quality, bags in rows if bags}


def unexpired(session: Session, *, now: datetime) -> dict[tuple[str | None, str], int]:
    """The bags not yet expired at ``now``, by (custody state, quality status), counted from the expiry index
    alone (``ix_bags_expiry``): as many as are still within their shelf life, never the bags of the past.
    With ``tally`` it gives the expired bags of each state without reading them."""
    # Grouped by an expression, as the tally keys a bag before its fill: grouped by the bare column, SQLite
    # would rather walk the whole (custody_state, expires_at) index in order than sort the few unexpired rows.
    state = func.coalesce(Bag.custody_state, "")
    rows = session.exec(select(state, Bag.quality_status, func.count()).where(Bag.expires_at > now)
                        .group_by(state, Bag.quality_status))
    return {(state or None, quality): n for state, quality, n in rows}


def _bags(session: Session, status: str | None, lot_number: str | None, din_text: str | None) -> Any:
    statement = select(Bag, Lot.lot_number).outerjoin(Lot, Lot.id == Bag.lot_id)
    if status:
        if status in QUALITY_STATUSES:
            statement = statement.where(Bag.quality_status == status)
        elif status in custody_states.STATES:
            statement = statement.where(Bag.custody_state == status)
        else:
            raise Invalid({"status": translated(N_(
                "one of {choices}")).format(choices=', '.join((*QUALITY_STATUSES, *custody_states.STATES)))})
    if lot_number:
        statement = statement.where(Bag.lot_id == get_lot(session, lot_number).id)
    if din_text:
        statement = statement.where(Bag.din == din_text.strip())
    return statement

