"""A storage unit with a rack and a box, bags to put in it, and the scans a lab technician makes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cellchain.manufacturing.models import Bag
from cellchain.storage import placements, places
from cellchain.storage.models import StorageBox, StorageLocation, StorageUnit
from tests.factories import ward
from tests.factories.ward import RANGES, user

LETTERS = {"vial": "a", "box": "b", "position": "c", "location": "d"}


@dataclass
class Site:
    unit: StorageUnit
    rack: StorageLocation
    box: StorageBox


def site(session: Session, *, unit_code: str = "LN2-01", rack_code: str = "R1", box_code: str = "BX-0001",
         rows: int = 3, columns: int = 4, kind: str = "ln2_vapour") -> Site:
    lab = user(session, "lab")
    unit = places.create_unit(session, actor=lab, data={"code": unit_code, "name": f"Tank {unit_code}", "kind": kind})
    rack = places.create_location(session, actor=lab, unit=unit, data={"code": rack_code, "kind": "rack"})
    box = places.create_box(session, actor=lab, location=rack,
                            data={"code": box_code, "rows": rows, "columns": columns})
    return Site(unit, rack, box)


def bag(session: Session) -> Bag:
    """A filled, released bag in the lab (custody at_lab)."""
    return ward.bag(session)


def put(session: Session, item: Bag, box: StorageBox, row: int, column: int) -> placements.Placement:
    return placements.put(session, actor=user(session, "lab"), item=placements.Item("bag", item.id), box=box, row=row,
                          column=column, ranges=RANGES)


def box_scan(box: StorageBox) -> str:
    return f"&b{box.code}"


def position_scan(box: StorageBox, position: str) -> str:
    return f"&c{box.code}-{position}"
