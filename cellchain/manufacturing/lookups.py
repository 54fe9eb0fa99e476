"""Collections, lots and bags by the keys people and labels use: DIN, lot number, bag id."""

from __future__ import annotations

from sqlmodel import Session, select

from cellchain.core.db import one
from cellchain.manufacturing.models import Bag, Collection, Lot


def collection_by_din(session: Session, din: str, *, for_update: bool = False) -> Collection:
    return one(session, select(Collection).where(Collection.din == din), f"no collection has DIN {din}",
               for_update=for_update)


def lot_by_number(session: Session, lot_number: str, *, for_update: bool = False) -> Lot:
    return one(session, select(Lot).where(Lot.lot_number == lot_number), f"no lot {lot_number}",
               for_update=for_update)


def bag_by_code(session: Session, bag_code: str, *, for_update: bool = False) -> Bag:
    return one(session, select(Bag).where(Bag.bag_code == bag_code), f"no bag {bag_code}", for_update=for_update)
