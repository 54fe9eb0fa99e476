"""Material lots for tests, received by the lab and released by QC with an e-signature through the services,
as the lab's fills require them (``MATERIAL_LOTS_REQUIRED``, docs/rules.md "Materials").

``material`` and ``received`` make one catalogue entry and one lot as a test of the materials rules needs them;
``released`` (and ``stocked``, for a test's app) gives the released lot a fill types by its supplier's lot
number (``HEP2611A``, ``NS1``), made once per number, of a catalogue entry of its kind shared by the test.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.materials import catalogue, decisions
from cellchain.materials.models import Material, MaterialLot
from cellchain.people.accounts import Policy
from tests.conftest import FAST_HASH, PASSWORD
from tests.factories.lab import user

POLICY = Policy(hash_method=FAST_HASH)
HEPARIN_GTIN = "09501101530003"
STOCK = 100_000.0  # ml: no test's fills run a stock lot short


def material(session: Session, kind: str = "anticoagulant", *, name: str | None = None, gtin: str | None = None,
             origin: bool = False) -> Material:
    """A new catalogue entry of ``kind``, made by QA."""
    return catalogue.create_material(session, actor=user(session, "qa"), data={
        "name": name or f"{kind} product", "supplier": "Supplier", "catalogue_number": f"C-{kind}-{gtin or name}",
        "gtin": gtin, "kind": kind, "storage": "2-8 C", "human_animal_origin": origin})


def received(session: Session, product: Material, supplier_lot: str, *, expires: date | None = None,
             quantity: float = 1000.0, status: str = "released") -> MaterialLot:
    """A lot of ``product`` received by the lab and, unless ``status`` is quarantine, released or rejected by QC."""
    extra = {"origin": "pooled human platelets", "donor_testing": "HIV, HBV, HCV negative"} \
        if product.human_animal_origin else {}
    lot = catalogue.receive(session, actor=user(session, "lab"), data={
        "material_id": product.id, "supplier_lot": supplier_lot, "quantity": quantity, "unit": "ml",
        "expires_on": (expires or date.today() + timedelta(days=365)).isoformat(), **extra})
    if status != "quarantine":
        decision = "release" if status == "released" else "reject"
        signature = signatures.SignatureInput("qc", PASSWORD, status)
        decisions.decide(session, actor=user(session, "qc"), code=lot.code, decision=decision, signature=signature,
                         reason="" if decision == "release" else "damaged in transit", policy=POLICY)
    return lot


def _stock_material(session: Session, kind: str) -> Material:
    found = session.exec(select(Material).where(Material.catalogue_number == f"STOCK-{kind}")).first()
    if found is not None:
        return found
    return catalogue.create_material(session, actor=user(session, "qa"), data={
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
