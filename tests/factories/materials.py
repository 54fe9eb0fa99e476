"""Material lots for tests, received by the lab and released by QC with an e-signature through the services,
as the lab's fills require them (``MATERIAL_LOTS_REQUIRED``, docs/rules.md "Materials").

``material`` and ``received`` make one catalogue entry and one lot as a test of the materials rules needs them;
``released`` (and ``stocked``, for a test's app) gives the released lot a fill types by its supplier's lot
number (``HEP2611A``, ``NS1``), made once per number, of a catalogue entry of its kind shared by the test.
``filled_from`` writes what the lab's fill writes for bags another factory made as rows: the fill's batch step and
the material use of that released lot, so the batch record and a look-back from the material lot reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.manufacturing import batch
from cellchain.manufacturing.lot_access import effective_steps
from cellchain.manufacturing.models import Bag, Lot
from cellchain.materials import catalogue, decisions, usage
from cellchain.materials.models import Material, MaterialLot, MaterialUse
from cellchain.people import accounts
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from tests.conftest import FAST_HASH, PASSWORD

POLICY = Policy(hash_method=FAST_HASH)
ROLE_OF = {"ucmsc": "anticoagulant", "placebo": "saline"}  # what a bag's fill takes from a material lot
HEPARIN_GTIN = "09501101530003"
STOCK = 100_000.0  # ml: no test's fills run a stock lot short


def material(session: Session, kind: str = "anticoagulant", *, name: str | None = None, gtin: str | None = None,
             origin: bool = False) -> Material:
    """A new catalogue entry of ``kind``, made by QA."""
    return catalogue.create_material(session, actor=accounts.find_user(session, "qa"), data={
        "name": name or f"{kind} product", "supplier": "Supplier", "catalogue_number": f"C-{kind}-{gtin or name}",
        "gtin": gtin, "kind": kind, "storage": "2-8 C", "human_animal_origin": origin})


def received(session: Session, product: Material, supplier_lot: str, *, expires: date | None = None,
             quantity: float = 1000.0, status: str = "released") -> MaterialLot:
    """A lot of ``product`` received by the lab and, unless ``status`` is quarantine, released or rejected by QC."""
    extra = {"origin": "pooled human platelets", "donor_testing": "HIV, HBV, HCV negative"} \
        if product.human_animal_origin else {}
    lot = catalogue.receive(session, actor=accounts.find_user(session, "lab"), data={
        "material_id": product.id, "supplier_lot": supplier_lot, "quantity": quantity, "unit": "ml",
        "expires_on": (expires or date.today() + timedelta(days=365)).isoformat(), **extra})
    if status != "quarantine":
        decision = "release" if status == "released" else "reject"
        signature = signatures.SignatureInput("qc", PASSWORD, status)
        decisions.decide(session, actor=accounts.find_user(session, "qc"), code=lot.code, decision=decision,
                         signature=signature, reason="" if decision == "release" else "damaged in transit",
                         policy=POLICY)
    return lot


def _stock_material(session: Session, kind: str) -> Material:
    found = session.exec(select(Material).where(Material.catalogue_number == f"STOCK-{kind}")).first()
    if found is not None:
        return found
    return catalogue.create_material(session, actor=accounts.find_user(session, "qa"), data={
        "name": {"anticoagulant": "Heparin 5,000 IU/ml", "saline": "0.9% sodium chloride"}.get(kind, kind),
        "supplier": "Stock supplier", "catalogue_number": f"STOCK-{kind}", "gtin": None, "kind": kind,
        "storage": "15-25 C", "human_animal_origin": kind == "platelet_lysate"})


def released(session: Session, supplier_lot: str, kind: str = "anticoagulant") -> MaterialLot:
    """The released material lot whose supplier's lot number is ``supplier_lot``, received and released the first
    time it is asked for: what a fill names when it types that number."""
    product = _stock_material(session, kind)
    found = session.exec(select(MaterialLot).where(MaterialLot.material_id == product.id,
                                                   MaterialLot.supplier_lot == supplier_lot)).first()
    return found or received(session, product, supplier_lot, quantity=STOCK)


def stocked(app, *supplier_lots: str, kind: str = "anticoagulant") -> list[str]:
    """Released material lots of ``kind`` in the app's database, by supplier's lot number; their ``ML-`` codes."""
    with app.app_context():
        session = db.session()
        codes = [released(session, number, kind).code for number in supplier_lots]
        db.commit()
    return codes


def saline(app, *supplier_lots: str) -> list[str]:
    """Released saline lots, as a placebo fill names them."""
    return stocked(app, *supplier_lots, kind="saline")


def filled_from(session: Session, bags: Sequence[Bag], supplier_lot: str) -> MaterialLot:
    """The released lot ``supplier_lot`` (anticoagulant of UC-MSC bags, saline of placebo bags) as the fill of
    ``bags`` (of one lot, or one placebo DIN) used it, with the rows the lab's fill writes
    (``manufacturing/bags.py``: ``fill_bags``, ``fill_placebo``): for a lot, its fill step (the one it has, or a
    new one) and the use at that step; for a placebo DIN, the use of its saline. A lot or DIN is filled once, so
    bags a factory adds to one already filled from the lot are part of that fill and write nothing more."""
    first = bags[0]
    role = ROLE_OF[first.kind]
    used = released(session, supplier_lot, role)
    target = MaterialUse.lot_id == first.lot_id if first.lot_id is not None else MaterialUse.din == first.din
    if session.exec(select(MaterialUse.id).where(MaterialUse.material_lot_id == used.id, target)).first():
        return used
    filler = session.get(User, first.created_by)
    if role == "saline":
        usage.record_use(session, actor=filler, material_lot=used, quantity=sum(b.volume_ml for b in bags), unit="ml",
                         used_at=first.filled_at, role="saline", din=first.din)
        return used
    per_bag = first.anticoagulant_volume_ml
    quantity, unit = (per_bag * len(bags), "ml") if per_bag else (len(bags), "bags")
    lot = session.get(Lot, first.lot_id)
    step = next((s for s in effective_steps(session, lot.id) if s.step_key == "fill"), None)
    if step is None:
        step = batch.add_step(session, actor=filler, lot=lot, key="fill", performed_at=first.filled_at, details={
            "count": len(bags), "bags": [b.bag_code for b in bags], "volume_ml": first.volume_ml,
            "total_cells": first.total_cells, "anticoagulant": first.anticoagulant,
            "anticoagulant_lot": first.anticoagulant_lot, "anticoagulant_volume_ml": per_bag,
            "preservation": first.preservation, "expires_at": first.expires_at.isoformat(), "named": [],
            "anticoagulant_material_lot": used.code})
    usage.record_use(session, actor=filler, material_lot=used, quantity=quantity, unit=unit, used_at=first.filled_at,
                     role="anticoagulant", lot_id=lot.id, step_id=step.id, lot_number=lot.lot_number)
    return used
