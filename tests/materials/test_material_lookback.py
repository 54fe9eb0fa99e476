"""A look-back from a platelet-lysate lot lists every lot, bag and subject it reached: the same as a
brute-force walk over the whole genealogy (every use, every bank tier, every bag, every infusion)."""

from __future__ import annotations

from sqlmodel import select

from cellchain.banking.models import CellBank, Vial
from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.manufacturing.models import Bag, Lot
from cellchain.materials.models import MaterialLot, MaterialUse
from cellchain.people.accounts import Policy
from cellchain.quality import holds
from cellchain.quality.recall import lookback
from cellchain.trial.models import Subject
from cellchain.ward.models import Infusion
from tests.conftest import FAST_HASH
from tests.factories.lab import user


def _brute_force(session, material_lot_id: int) -> tuple[set[str], set[str], set[str]]:
    """Every lot, bag and subject reached, by reading every row of each table and walking until nothing new."""
    lots = session.exec(select(Lot)).all()
    banks = {b.id: b for b in session.exec(select(CellBank)).all()}
    vials = {v.id: v for v in session.exec(select(Vial)).all()}
    uses = [u for u in session.exec(select(MaterialUse)).all() if u.material_lot_id == material_lot_id]
    reached = {u.lot_id for u in uses if u.lot_id is not None}
    while True:
        more = {lot.id for lot in lots if lot.source_vial_id is not None
                and banks[vials[lot.source_vial_id].bank_id].lot_id in reached} - reached
        if not more:
            break
        reached |= more
    dins = {u.din for u in uses if u.lot_id is None}
    bags = [b for b in session.exec(select(Bag)).all() if b.lot_id in reached or (b.lot_id is None and b.din in dins)]
    bag_ids = {b.id for b in bags}
    subjects = {session.get(Subject, i.subject_id).subject_code for i in session.exec(select(Infusion)).all()
                if i.bag_id in bag_ids}
    return {lot.lot_number for lot in lots if lot.id in reached}, {b.bag_code for b in bags}, subjects


def test_a_look_back_from_a_platelet_lysate_lot_matches_a_brute_force_walk_of_the_genealogy(app):
    with app.app_context():
        session = db.session()
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
        lysate = session.exec(select(MaterialLot).where(MaterialLot.supplier_lot == "HPL2604A")).one()
        found = lookback.lookback(session, "material_lot", lysate.code)
        lots, bags, subjects = _brute_force(session, lysate.id)
        assert len(lots) >= 3 and bags and subjects  # the master bank's lot, its working bank's, the dosing lots
        assert {i.code for i in found.items if i.kind == "lot"} == lots
        assert {i.code for i in found.items if i.kind == "bag"} == bags
        assert {r.subject_code for r in found.subjects} == subjects
        other = session.exec(select(MaterialLot).where(MaterialLot.supplier_lot == "HPL2610C")).one()
        assert {i.code for i in lookback.lookback(session, "material_lot", other.code).items
                if i.kind == "lot"} == _brute_force(session, other.id)[0]


def test_a_hold_on_a_platelet_lysate_lot_reaches_exactly_the_lots_and_bags_of_the_brute_force_walk(app):
    with app.app_context():
        session = db.session()
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
        lysate = session.exec(select(MaterialLot).where(MaterialLot.supplier_lot == "HPL2604A")).one()
        lots, bags, _subjects = _brute_force(session, lysate.id)
        hold = holds.place_hold(session, "material_lot", lysate.id, "pool donor HIV NAT reactive", user(session, "qa"))
        every_lot = session.exec(select(Lot)).all()
        every_bag = session.exec(select(Bag)).all()
        assert {lot.lot_number for lot in every_lot if hold in holds.holds_over(session, "lot", lot.id)} == lots
        assert {b.bag_code for b in every_bag if hold in holds.holds_over(session, "bag", b.id)} == bags
        reached = holds.reaching(session, [holds.lot_ref(lot) for lot in every_lot])
        assert {lot.lot_number for lot in every_lot if reached.get(("lot", lot.id), (None,))[0] == hold} <= lots
