"""The items a hold is placed on (a collection, a cell bank, a lot, a bag, a material lot) and what each is
derived from.

Every item descends from one cord (``collection_id``): a lot names its cord, a bank its lot, a bag its lot
(a placebo bag has none). An item's ancestry is the item, its lot, the banks its cells came through tier by
tier and the lots those banks were frozen from, and the cord: one statement for the item and one per bank
tier (``quality/lineage.py``); with ``materials``, also the material lots used in any of those lots (or, for
a placebo bag, its saline), one statement more (docs/rules.md, "Quality: holds").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, select

from cellchain.banking.models import CellBank
from cellchain.core.errors import Invalid, NotFound
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.materials.models import MaterialLot, MaterialUse
from cellchain.quality import lineage
from cellchain.quality.models import HOLD_ITEM_KINDS

MAX_CODE = 40


@dataclass(frozen=True)
class ItemRef:
    """One item by its kind and row id, the code people read, its cord and the lot it is or belongs to."""

    kind: str
    id: int
    code: str
    collection_id: int | None
    lot_id: int | None  # a lot's own id, a bank's lot, a bag's lot; None for a cord or a placebo bag


_BY_CODE = {
    "collection": (select(Collection.id, Collection.din, Collection.id, None), Collection.din),
    "bank": (select(CellBank.id, CellBank.bank_code, Lot.collection_id, CellBank.lot_id)
             .join(Lot, Lot.id == CellBank.lot_id), CellBank.bank_code),
    "lot": (select(Lot.id, Lot.lot_number, Lot.collection_id, Lot.id), Lot.lot_number),
    "bag": (select(Bag.id, Bag.bag_code, Lot.collection_id, Bag.lot_id).outerjoin(Lot, Lot.id == Bag.lot_id),
            Bag.bag_code),
    # A material lot (ML-000001) belongs to no cord: what it reached is what it was used in (recall/lookback.py).
    "material_lot": (select(MaterialLot.id, MaterialLot.code, None, None), MaterialLot.code),
}
_ID_COLUMNS = {"collection": Collection.id, "bank": CellBank.id, "lot": Lot.id, "bag": Bag.id,
               "material_lot": MaterialLot.id}


def check_kind(kind: Any, field: str = "item_kind") -> str:
    if kind not in HOLD_ITEM_KINDS:
        raise Invalid({field: translated(N_("one of {choices}")).format(choices=', '.join(HOLD_ITEM_KINDS))})
    return kind


def by_code(session: Session, kind: Any, code: Any, *, kind_field: str = "item_kind",
            code_field: str = "item_id") -> ItemRef:
    """The item a kind and a code name (a cord's DIN, a bank code, a lot number, a bag id): one statement."""
    kind = check_kind(kind, kind_field)
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise Invalid({code_field: translated(N_(
            "give the {kind}'s id (up to {max_code} characters)")).format(
            kind=kind, max_code=MAX_CODE)})
    statement, column = _BY_CODE[kind]
    row = session.exec(statement.where(column == code.strip())).first()
    if row is None:
        raise NotFound(f"no {kind} {code.strip()}")
    return ItemRef(kind, *row)


def by_id(session: Session, kind: str, item_id: int) -> ItemRef:
    statement, _ = _BY_CODE[check_kind(kind)]
    row = session.exec(statement.where(_ID_COLUMNS[kind] == item_id)).first()
    if row is None:
        raise NotFound(f"no {kind} {item_id}")
    return ItemRef(kind, *row)


def codes_of(session: Session, items: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The code of each (kind, id): one statement per kind present."""
    found: dict[tuple[str, int], str] = {}
    for kind in HOLD_ITEM_KINDS:
        ids = sorted(i for k, i in items if k == kind)
        if ids:
            statement = _BY_CODE[kind][0].where(_ID_COLUMNS[kind].in_(ids))
            found.update({(kind, row[0]): row[1] for row in session.exec(statement)})
    return found


def ancestry(session: Session, item: ItemRef, *, materials: bool = False) -> set[tuple[str, int]]:
    """The item and every item it is derived from, as (kind, id): a hold on any of them reaches it. With
    ``materials``, the material lots used in the item's lot and the lots above it, or a placebo bag's saline."""
    found = {(item.kind, item.id)}
    if item.collection_id is not None:
        found.add(("collection", item.collection_id))
    if item.lot_id is None:
        if materials and item.kind == "bag":  # a placebo bag: the saline of its fill, by its DIN
            statement = (select(MaterialUse.material_lot_id)
                         .join(Bag, and_(Bag.din == MaterialUse.din, MaterialUse.lot_id.is_(None)))
                         .where(Bag.id == item.id))
            found |= {("material_lot", i) for i in session.exec(statement)}
        return found
    found.add(("lot", item.lot_id))
    lot = session.get(Lot, item.lot_id)
    for source in lineage.ancestors(session, lot):
        found |= {("bank", source.bank.id), ("lot", source.bank_lot.id)}
    if materials:
        lot_ids = sorted(i for kind, i in found if kind == "lot")
        statement = select(MaterialUse.material_lot_id).where(MaterialUse.lot_id.in_(lot_ids))
        found |= {("material_lot", i) for i in session.exec(statement)}
    return found
