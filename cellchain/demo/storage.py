"""Demo storage: a 2-8 °C refrigerator with a shelf and a box holding the placebo bags still in the lab (the
UC-MSC bags stay on the bench for the demo's hand-overs), an LN2 tank with a rack and two boxes, one per
cell bank (the banking demo puts the vials in them), and a reading of each in range.

Through the storage operations as the demo lab technician, so each put is a custody event with its audit
entry like a real one. Safe to run twice: nothing is added once the refrigerator exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from cellchain.manufacturing.models import Bag
from cellchain.people import accounts
from cellchain.storage import placements, places, temperatures
from cellchain.storage.models import StorageUnit

FRIDGE, TANK = "FRIDGE-1", "TANK-1"
MCB_BOX, WCB_BOX = "CB-0001", "CB-0002"


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The units, racks, boxes, readings and puts made; 0 when the demo storage is there already."""
    del policy  # no accounts or signatures here; the signature matches the other demo loaders
    lab = accounts.find_user(session, "lab")
    if lab is None or session.exec(select(StorageUnit.id).where(StorageUnit.code == FRIDGE)).first() is not None:
        return 0
    fridge = places.create_unit(session, actor=lab, data={"code": FRIDGE, "name": "Product refrigerator",
                                                          "kind": "refrigerator"})
    shelf = places.create_location(session, actor=lab, unit=fridge, data={"code": "FRIDGE-1-S1", "kind": "shelf",
                                                                          "name": "Top shelf"})
    box = places.create_box(session, actor=lab, location=shelf, data={"code": "FR-0001", "rows": 4, "columns": 5,
                                                                      "name": "Released bags"})
    tank = places.create_unit(session, actor=lab, data={"code": TANK, "name": "Cell bank LN2 tank",
                                                        "kind": "ln2_vapour"})
    rack = places.create_location(session, actor=lab, unit=tank, data={"code": "TANK-1-R1", "kind": "rack"})
    places.create_box(session, actor=lab, location=rack, data={"code": MCB_BOX, "rows": 9, "columns": 9,
                                                               "name": "Master cell bank"})
    places.create_box(session, actor=lab, location=rack, data={"code": WCB_BOX, "rows": 9, "columns": 9,
                                                               "name": "Working cell bank"})
    temperatures.enter(session, actor=lab, unit=fridge, measured_at=None, temperature_c=4.6)
    temperatures.enter(session, actor=lab, unit=tank, measured_at=None, temperature_c=-178.0)
    created = 11
    in_lab = session.exec(select(Bag).where(Bag.custody_state == "at_lab", Bag.kind == "placebo")
                          .order_by(Bag.id)).all()
    for number, bag in enumerate(in_lab[:box.rows * box.columns]):
        placements.put(session, actor=lab, item=placements.Item("bag", bag.id), box=box,
                       row=number // box.columns + 1, column=number % box.columns + 1,
                       ranges=config["TEMPERATURE_RANGES"])
        created += 1
    return created
