"""The look-back from any collection, cell bank, lot or bag (docs/rules.md, "Quality: look-back").

When a cord, bank, lot or bag turns out to be unsafe, QA and the investigators need, at once: every item
derived from it (lots, banks, vials, bags) with its status and where it is now (its storage position, or
its custody state when it is not stored), and every subject who received any of it, with the infusion's
dates (21 CFR 1271.290 tracking; EU Directive 2004/23/EC art. 8 traceability).

Read in a fixed number of statements whatever the tree's size: the item, the derived lots (one statement
per bank tier), their banks, the banks' vials, the bags, the current placements and the infusions.
Placements and infusions are joined through the bag's lot, so a cord of a hundred lots costs no more
statements than a lot of one bag (bench/bench_lookback.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core.types import utcnow
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.materials import usage
from cellchain.quality.recall import items
from cellchain.quality.recall.items import ItemRef
from cellchain.storage.models import Placement, StorageBox, StorageLocation, StorageUnit
from cellchain.storage.rules.layout import position_name
from cellchain.trial.models import Subject, Visit
from cellchain.ward.models import Infusion

MAX_TIERS = 8  # as quality/lineage.py: a guard against a malformed loop in the record


@dataclass(frozen=True)
class DerivedItem:
    """One item of the look-back: the item itself first, then what came from it, tier by tier."""

    kind: str  # collection | lot | bank | vial | bag | material_lot
    code: str
    parent: str  # the code of the item it came from ("" for the item the look-back starts from)
    status: str  # a cord's eligibility, a lot's status, a bank's lot status, a vial's state, a bag's quality status
    custody_state: str | None
    position: str | None  # where it is stored now: unit > rack > box > position


@dataclass(frozen=True)
class Recipient:
    """A subject who received a bag of the look-back, and when."""

    subject_code: str
    week: int
    bag_code: str
    lot_number: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass
class Lookback:
    item: ItemRef
    items: list[DerivedItem] = field(default_factory=list)
    subjects: list[Recipient] = field(default_factory=list)
    made_at: datetime = field(default_factory=utcnow)

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def code(self) -> str:
        return self.item.code

    def count(self, kind: str) -> int:
        return sum(1 for i in self.items if i.kind == kind)

    @property
    def bags_not_infused(self) -> list[DerivedItem]:
        given = {r.bag_code for r in self.subjects}
        return [i for i in self.items if i.kind == "bag" and i.code not in given]


def descend(session: Session, lot_ids: list[int]) -> list[int]:
    """The lots and, tier by tier, every lot made from the vials of a bank frozen from one of them."""
    found, frontier = list(dict.fromkeys(lot_ids)), list(dict.fromkeys(lot_ids))
    for _ in range(MAX_TIERS):
        if not frontier:
            break
        statement = (select(Lot.id).join(Vial, Vial.id == Lot.source_vial_id)
                     .join(CellBank, CellBank.id == Vial.bank_id).where(CellBank.lot_id.in_(frontier)))
        seen = set(found)
        frontier = [i for i in session.exec(statement) if i not in seen]
        found += frontier
    return found


def _derived_lot_ids(session: Session, item: ItemRef) -> list[int]:
    if item.kind == "collection":
        return list(session.exec(select(Lot.id).where(Lot.collection_id == item.id).order_by(Lot.id)))
    if item.kind == "lot":
        return descend(session, [item.id])
    if item.kind == "bank":
        first = list(session.exec(select(Lot.id).join(Vial, Vial.id == Lot.source_vial_id)
                                  .where(Vial.bank_id == item.id).order_by(Lot.id)))
        return descend(session, first)
    if item.kind == "material_lot":
        # the lots it was used in, and every lot made from a bank frozen from one of them (docs/rules.md,
        # "Materials": a material in a bank lot reaches every lot thawed from that bank)
        return descend(session, usage.reached(session, item.id)[0])
    return []  # a bag: nothing is made from a bag


def lookback(session: Session, kind: Any, code: Any) -> Lookback:
    """Every item derived from the item ``kind`` ``code`` names, and every subject who received any of it."""
    item = items.by_code(session, kind, code, kind_field="kind", code_field="code")
    return of_item(session, item)


def of_item(session: Session, item: ItemRef) -> Lookback:
    found = Lookback(item)
    lot_ids = _derived_lot_ids(session, item)
    lots = {lot.id: lot for lot in session.exec(select(Lot).where(Lot.id.in_(lot_ids)))} if lot_ids else {}
    if item.kind == "collection":
        cord = session.get(Collection, item.id)
        found.items.append(DerivedItem("collection", cord.din, "", cord.eligibility, cord.custody_state, None))
    banks = _banks(session, item, lot_ids)
    bank_ids = [bank.id for bank, _ in banks]
    # plain rows, not ORM objects: a bank holds hundreds of vials and a cord thousands of bags
    vials = list(session.exec(select(Vial.id, Vial.bank_id, Vial.vial_code, Vial.state, Vial.custody_state)
                              .where(Vial.bank_id.in_(bank_ids)).order_by(Vial.bank_id, Vial.number))) \
        if bank_ids else []
    bag_where = Bag.id == item.id if item.kind == "bag" else Bag.lot_id.in_(lot_ids) if lot_ids else None
    if item.kind == "material_lot":
        dins = usage.reached(session, item.id)[1]  # placebo fills whose saline it was
        found.items.append(DerivedItem("material_lot", item.code, "", "", None, None))
        if dins:
            placebo = and_(Bag.lot_id.is_(None), Bag.din.in_(dins))
            bag_where = placebo if bag_where is None else or_(bag_where, placebo)
    bags = list(session.exec(select(Bag.id, Bag.lot_id, Bag.bag_code, Bag.quality_status, Bag.custody_state)
                             .where(bag_where).order_by(Bag.lot_id, Bag.division, Bag.id))) \
        if bag_where is not None else []
    places = _places(session, bag_where, bank_ids)
    lot_numbers = {lot_id: lot.lot_number for lot_id, lot in lots.items()}
    if item.kind == "bag" and item.lot_id is not None:
        lot_numbers[item.lot_id] = session.get(Lot, item.lot_id).lot_number
    found.items += _lot_rows(session, item, [lots[i] for i in lot_ids], {v.id: v.vial_code for v in vials})
    bank_codes = {bank.id: bank.bank_code for bank, _ in banks}
    for bank, status in banks:
        parent = "" if item.kind == "bank" and bank.id == item.id else lot_numbers.get(bank.lot_id, "")
        found.items.append(DerivedItem("bank", bank.bank_code, parent, status, None, None))
    for vial in vials:
        found.items.append(DerivedItem("vial", vial.vial_code, bank_codes[vial.bank_id], vial.state,
                                       vial.custody_state, places.get(("vial", vial.id))))
    for bag in bags:
        parent = "" if item.kind == "bag" else lot_numbers.get(bag.lot_id, item.code if bag.lot_id is None else "")
        found.items.append(DerivedItem("bag", bag.bag_code, parent, bag.quality_status, bag.custody_state,
                                       places.get(("bag", bag.id))))
    if bag_where is not None:
        found.subjects = _recipients(session, bag_where, lot_numbers)
    # the item the look-back starts from first, then what came from it
    found.items.sort(key=lambda i: (i.kind, i.code) != (item.kind, item.code))
    return found


def _banks(session: Session, item: ItemRef, lot_ids: list[int]) -> list[tuple[CellBank, str]]:
    """The banks frozen from the derived lots (and the bank the look-back starts from), with their lots' status."""
    wanted = ([CellBank.id == item.id] if item.kind == "bank" else []) + \
        ([CellBank.lot_id.in_(lot_ids)] if lot_ids else [])
    if not wanted:
        return []
    return list(session.exec(select(CellBank, Lot.status).join(Lot, Lot.id == CellBank.lot_id)
                             .where(or_(*wanted)).order_by(CellBank.id)))


def _lot_rows(session: Session, item: ItemRef, lots: list[Lot], vial_codes: dict[int, str]) -> list[DerivedItem]:
    rows = []
    for lot in lots:
        if item.kind == "lot" and lot.id == item.id:
            parent = ""
        elif lot.source_vial_id is None:
            parent = lot.din
        else:
            parent = vial_codes.get(lot.source_vial_id) or _vial_code(session, lot.source_vial_id)
        rows.append(DerivedItem("lot", lot.lot_number, parent, lot.status, None, None))
    return rows


def _recipients(session: Session, bag_where: Any, lot_numbers: dict[int, str]) -> list[Recipient]:
    statement = (select(Subject.subject_code, Visit.week, Bag.bag_code, Bag.lot_id, Infusion.started_at,
                        Infusion.ended_at)
                 .join(Bag, Bag.id == Infusion.bag_id).join(Subject, Subject.id == Infusion.subject_id)
                 .join(Visit, Visit.id == Infusion.visit_id).where(bag_where)
                 .order_by(Infusion.started_at, Infusion.id))
    return [Recipient(subject, week, bag_code, lot_numbers.get(lot_id), started, ended)
            for subject, week, bag_code, lot_id, started, ended in session.exec(statement)]


def _vial_code(session: Session, vial_id: int) -> str:
    vial = session.get(Vial, vial_id)
    return vial.vial_code if vial else ""


def _places(session: Session, bag_where: Any, bank_ids: list[int]) -> dict[tuple[str, int], str]:
    """Where each stored vial and bag is now, as unit > rack > box > position: one statement."""
    kinds = []
    if bag_where is not None:
        kinds.append(and_(Placement.item_type == "bag",
                          Placement.item_id.in_(select(Bag.id).where(bag_where).scalar_subquery())))
    if bank_ids:
        kinds.append(and_(Placement.item_type == "vial",
                          Placement.item_id.in_(select(Vial.id).where(Vial.bank_id.in_(bank_ids)).scalar_subquery())))
    if not kinds:
        return {}
    statement = (select(Placement.item_type, Placement.item_id, StorageUnit.code, StorageLocation.code,
                        StorageBox.code, Placement.row, Placement.column)
                 .join(StorageBox, StorageBox.id == Placement.box_id)
                 .join(StorageLocation, StorageLocation.id == StorageBox.location_id)
                 .join(StorageUnit, StorageUnit.id == StorageLocation.unit_id)
                 .where(Placement.taken_at.is_(None), or_(*kinds)))
    return {(kind, item_id): f"{unit} > {location} > {box} > {position_name(row, column)}"
            for kind, item_id, unit, location, box, row, column in session.exec(statement)}
