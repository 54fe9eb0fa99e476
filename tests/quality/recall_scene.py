"""A banked cord with subjects already infused, for the tests of holds on any item and of the look-back.

cord -> MCB lot -> MCB -> vial 1 -> WCB lot -> WCB -> vial 1 -> dosing lot 1 (bags A0 infused, B0 on the
ward allocated for today, C0 on the shelf), vial 2 -> dosing lot 2 (bag A0 infused); and another cord's
lot with an infused bag, which no look-back of this cord may list.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from sqlmodel import select

from cellchain.banking.models import CellBank
from cellchain.core import db
from cellchain.manufacturing.models import Bag, Lot
from tests.factories import banking, ward
from tests.ward.test_infusion_start import START, start_body


@dataclass
class Tree:
    din: str
    mcb_lot: str
    wcb_lot: str
    dosing: str
    dosing2: str
    mcb: str
    wcb: str
    infused: ward.Bedside
    infused2: ward.Bedside
    at_bedside: ward.Bedside
    shelf: str  # a released bag of the dosing lot, not allocated
    visit_id: int  # an infusion visit waiting for a bag
    other: ward.Bedside  # another cord's bag, infused


def _bag(session, lot: Lot, division: str) -> Bag:
    # a bag's DIN is its cord's (the factory names it after the lot it is given)
    return ward.bag(session, lot=SimpleNamespace(lot_number=lot.din, id=lot.id), division=division)


def _ready(session, item: Bag) -> ward.Bedside:
    who = ward.subject(session)
    visit = ward.infusion_visit(session, who)
    item = ward.to_ward(session, item)
    return ward.Bedside(who, item, visit, ward.allocate(session, item, visit, who))


def build(app, api) -> Tree:
    with app.app_context():
        session = db.session()
        cord = banking.banked_cord(session, vials_per_bank=4)
        mcb_lot, wcb_lot, dosing = session.exec(select(Lot).where(Lot.collection_id == cord.id).order_by(Lot.id))
        dosing.status = "released"
        wcb_bank = session.exec(select(CellBank).where(CellBank.lot_id == wcb_lot.id)).one()
        mcb_bank = session.exec(select(CellBank).where(CellBank.lot_id == mcb_lot.id)).one()
        dosing2 = banking.bank_lot(session, cord, source=banking.first_vial(session, wcb_bank, 2),
                                   number=f"{cord.din}-L03", purpose="dosing", first_passage=5)
        infused = _ready(session, _bag(session, dosing, "A0"))
        at_bedside = _ready(session, _bag(session, dosing, "B0"))
        shelf = _bag(session, dosing, "C0")
        infused2 = _ready(session, _bag(session, dosing2, "D0"))
        waiting = ward.infusion_visit(session, ward.subject(session))
        other = ward.bedside_ready(session)
        db.commit()
        tree = Tree(cord.din, mcb_lot.lot_number, wcb_lot.lot_number, dosing.lot_number, dosing2.lot_number,
                    mcb_bank.bank_code, wcb_bank.bank_code, infused, infused2, at_bedside, shelf.bag_code, waiting.id,
                    other)
    for scene in (tree.infused, tree.infused2, tree.other):
        started = api.post(START, as_="nurse", json=start_body(scene))
        assert started.status_code == 201, started.get_json()
    return tree
