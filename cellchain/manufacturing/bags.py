"""Filling final bags: UC-MSC bags from a formulated lot, placebo bags of saline; and reading bags.

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
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.identifiers.isbt128 import Din, ProductCode, encode_moment
from cellchain.identifiers.scans import format_bag_id
from cellchain.manufacturing import batch, din, lookups
from cellchain.manufacturing.bag_input import FillInput, PlaceboInput, parse_fill, parse_placebo
from cellchain.manufacturing.lot_access import effective_steps, get_lot, lock_lot, not_in_process
from cellchain.manufacturing.models import QUALITY_STATUSES, Bag, Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial.models import Allocation, Subject
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
LOT_FOR_BANK = "lot_is_for_a_bank"


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

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FillSettings:
        return cls(product_codes=config["PRODUCT_CODES"], collection_type=config["COLLECTION_TYPE"],
                   shelf_life=timedelta(hours=config["PRODUCT_SHELF_LIFE_HOURS"]),
                   placebo_shelf_life=timedelta(days=config["PLACEBO_SHELF_LIFE_DAYS"]),
                   placebo_volume_ml=float(config["PLACEBO_VOLUME_ML"]), fin=config["FACILITY_FIN"],
                   tz=ZoneInfo(config["SITE_TIMEZONE"]), ranges=config["TEMPERATURE_RANGES"])


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
        raise Refused(Reason(DIVISIONS_EXHAUSTED, f"this DIN has {MAX_DIVISIONS - start} divisions left, "
                                                  f"{count} asked for"))
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


def _fill_reasons(session: Session, lot: Lot, entry: FillInput) -> list[Reason]:
    reasons = not_in_process(lot, "be filled")
    if lot.purpose != "dosing":
        reasons.append(Reason(LOT_FOR_BANK, f"lot {lot.lot_number} is grown for a cell bank: its cells are frozen "
                                            "into vials, not filled into bags"))
    if lot.formulated_cells_per_ml is None or lot.formulated_volume_ml is None:
        return [*reasons, Reason(LOT_NOT_FORMULATED, "record the formulation before filling bags")]
    available = lot.formulated_cells_per_ml * lot.formulated_volume_ml
    if entry.count * entry.total_cells > available:
        reasons.append(Reason(FILL_EXCEEDS_FORMULATION, f"{entry.count} bags of {entry.total_cells:.3g} cells "
                                                        f"need more than the {available:.3g} formulated"))
    formulated_at = [s.performed_at for s in effective_steps(session, lot.id) if s.step_key == "formulation"]
    if formulated_at and entry.filled_at < formulated_at[0]:
        reasons.append(Reason(FILL_TIME_ORDER, "the fill is recorded before the formulation"))
    return reasons


def fill_bags(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any],
              settings: FillSettings) -> list[Bag]:
    """Fill a formulated lot into bags, in quarantine until QA releases the lot (docs/rules.md, "Quarantine")."""
    require_role(actor.roles, "lab", action="fill bags")
    entry = parse_fill(data, shelf_life=settings.shelf_life, now=utcnow())
    lot = lock_lot(session, lot_number)
    reasons = _fill_reasons(session, lot, entry)
    code = settings.product_codes["ucmsc"]
    try:
        divisions = next_divisions(_existing_divisions(session, lot.din, code), entry.count)
    except Refused as refusal:
        reasons.extend(refusal.reasons)
    if reasons:
        raise Refused(reasons)
    values = {"lot_id": lot.id, "volume_ml": entry.volume_ml, "total_cells": entry.total_cells,
              "anticoagulant": entry.anticoagulant, "anticoagulant_lot": entry.anticoagulant_lot,
              "anticoagulant_volume_ml": entry.anticoagulant_volume_ml, "filled_at": entry.filled_at,
              "expires_at": entry.expires_at, "quality_status": "quarantine"}
    bags = [_write_bag(session, actor=actor, settings=settings, kind="ucmsc", din_text=lot.din,
                       division_code=d, values=values) for d in divisions]
    details = {"count": entry.count, "bags": [b.bag_code for b in bags], "volume_ml": entry.volume_ml,
               "total_cells": entry.total_cells, "anticoagulant": entry.anticoagulant,
               "anticoagulant_lot": entry.anticoagulant_lot, "anticoagulant_volume_ml": entry.anticoagulant_volume_ml,
               "expires_at": entry.expires_at.isoformat()}
    batch.add_step(session, actor=actor, lot=lot, key="fill", details=details, performed_at=entry.filled_at)
    lot.status = "awaiting_release"
    session.add(lot)
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="fill",
                 old={"status": "in_process"}, new={"status": lot.status, "bags": details["bags"]})
    return bags


def fill_placebo(session: Session, *, actor: Actor, data: Mapping[str, Any], settings: FillSettings) -> list[Bag]:
    """Fill placebo bags of 0.9% sodium chloride under a DIN of their own, released at filling.

    The saline is a licensed commercial medicinal product released by its manufacturer; the lot of
    saline used is recorded on every bag and that release is the placebo's release, so placebo bags
    do not wait for a QA lot release. Their traceability is the same as UC-MSC bags: DIN, product
    code, division, custody from ``filled`` on, and an audit entry per bag.
    """
    require_role(actor.roles, "lab", action="fill placebo bags")
    entry: PlaceboInput = parse_placebo(data, default_volume_ml=settings.placebo_volume_ml,
                                        shelf_life=settings.placebo_shelf_life, now=utcnow())
    din_text = din.issue_din(session, fin=settings.fin, when=entry.filled_at, tz=settings.tz)
    values = {"saline_lot": entry.saline_lot, "volume_ml": entry.volume_ml, "filled_at": entry.filled_at,
              "expires_at": entry.expires_at, "quality_status": "released"}
    bags = [_write_bag(session, actor=actor, settings=settings, kind="placebo", din_text=din_text,
                       division_code=d, values=values) for d in next_divisions([], entry.count)]
    trail.record(session, actor=actor, record_type="placebo_fill", record_id=din_text, action="fill",
                 new={"din": din_text, "count": entry.count, "saline_lot": entry.saline_lot,
                      "bags": [b.bag_code for b in bags]},
                 reason="0.9% saline is a licensed product; its saline lot is the placebo's release")
    return bags


@dataclass(frozen=True)
class BagView:
    bag: Bag
    lot_number: str | None
    subject_code: str | None
    allocation: Allocation | None
    events: list[CustodyEvent]
    barcodes: dict[str, str]


def barcodes(bag: Bag, tz: ZoneInfo) -> dict[str, str]:
    """The ISBT 128 data structures a label of this bag carries (what a scanner reads back)."""
    the_din = Din.parse(bag.din)
    return {"din": the_din.barcode_data(), "din_check": the_din.check,
            "product_code": ProductCode(bag.product_code, bag.collection_type, bag.division).encode(),
            "expiry": encode_moment("expiry_datetime", bag.expires_at, tz)}


def bag_view(session: Session, bag_code: Any, *, tz: ZoneInfo) -> BagView:
    if not isinstance(bag_code, str) or not bag_code.strip():
        raise Invalid({"bag_id": "give the bag id"})
    bag = lookups.bag_by_code(session, bag_code.strip())
    lot = session.get(Lot, bag.lot_id) if bag.lot_id else None
    allocation = session.exec(select(Allocation).where(Allocation.bag_id == bag.id)).first()
    subject = session.get(Subject, allocation.subject_id) if allocation else None
    return BagView(bag, lot.lot_number if lot else None, subject.subject_code if subject else None, allocation,
                   custody.events_of(session, "bag", bag.id), barcodes(bag, tz))


def list_bags(session: Session, *, status: str | None = None, lot_number: str | None = None,
              din_text: str | None = None) -> list[tuple[Bag, str | None]]:
    """Bags with their lot id; ``status`` is a quality status (quarantine ...) or a custody state (at_ward ...)."""
    statement = select(Bag, Lot.lot_number).outerjoin(Lot, Lot.id == Bag.lot_id).order_by(Bag.id)
    if status:
        if status in QUALITY_STATUSES:
            statement = statement.where(Bag.quality_status == status)
        elif status in custody_states.STATES:
            statement = statement.where(Bag.custody_state == status)
        else:
            raise Invalid({"status": f"one of {', '.join((*QUALITY_STATUSES, *custody_states.STATES))}"})
    if lot_number:
        statement = statement.where(Bag.lot_id == get_lot(session, lot_number).id)
    if din_text:
        statement = statement.where(Bag.din == din_text.strip())
    return [(bag, number) for bag, number in session.exec(statement)]

