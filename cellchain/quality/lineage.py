"""Which lots come from which cell bank (ICH Q5D tiers: cord lot -> MCB -> WCB -> dosing lots).

Two rules follow the cells down the tree: a hold on a bank's lot holds every lot made from its vials
(docs/rules.md, "Quality: holds"), and a dosing lot is released on its own rapid tests plus the results
its banks were released on, named as inherited (docs/rules.md, "Quality: release"). The tree is at most
a few tiers deep, so each walk costs one statement per tier, whatever the number of lots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.manufacturing.models import Lot

MAX_TIERS = 8  # far more than MCB -> WCB -> dosing; a guard against a malformed loop in the record


@dataclass(frozen=True)
class Source:
    """The bank a lot's cells were thawed from, and the lot that bank was frozen from."""

    bank: CellBank
    bank_lot: Lot


def sources_of(session: Session, lot_ids: Sequence[int]) -> dict[int, Source]:
    """For each lot started from a bank vial, its bank and that bank's lot: one statement for any number."""
    if not lot_ids:
        return {}
    bank_lot = aliased(Lot)
    statement = (select(Lot.id, CellBank, bank_lot).join(Vial, Vial.id == Lot.source_vial_id)
                 .join(CellBank, CellBank.id == Vial.bank_id).join(bank_lot, bank_lot.id == CellBank.lot_id)
                 .where(Lot.id.in_(list(set(lot_ids)))))
    return {lot_id: Source(bank, source_lot) for lot_id, bank, source_lot in session.exec(statement)}


def ancestors(session: Session, lot: Lot) -> list[Source]:
    """The banks above a lot, nearest first (a dosing lot's WCB, then the MCB that WCB's lot came from)."""
    found: list[Source] = []
    current = lot
    while current.source_vial_id is not None and len(found) < MAX_TIERS:
        source = sources_of(session, [current.id]).get(current.id)
        if source is None:
            break
        found.append(source)
        current = source.bank_lot
    return found


def descendants(session: Session, lot_id: int) -> list[int]:
    """The lot and every lot made, tier by tier, from the vials of a bank frozen from it."""
    found, frontier = [lot_id], [lot_id]
    for _ in range(MAX_TIERS):
        statement = (select(Lot.id).join(Vial, Vial.id == Lot.source_vial_id)
                     .join(CellBank, CellBank.id == Vial.bank_id).where(CellBank.lot_id.in_(frontier)))
        frontier = [i for i in session.exec(statement) if i not in found]
        if not frontier:
            break
        found += frontier
    return found
