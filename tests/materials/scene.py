"""Materials for tests: a catalogue entry and a lot received by the lab and released (or not) by QC."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from cellchain.audit import signatures
from cellchain.materials import catalogue, decisions
from cellchain.materials.models import Material, MaterialLot
from cellchain.people.accounts import Policy
from tests.conftest import FAST_HASH, PASSWORD
from tests.factories.lab import user

POLICY = Policy(hash_method=FAST_HASH)
HEPARIN_GTIN = "09501101530003"


def material(session: Session, kind: str = "anticoagulant", *, name: str | None = None, gtin: str | None = None,
             origin: bool = False) -> Material:
    return catalogue.create_material(session, actor=user(session, "qa"), data={
        "name": name or f"{kind} product", "supplier": "Supplier", "catalogue_number": f"C-{kind}-{gtin or name}",
        "gtin": gtin, "kind": kind, "storage": "2-8 C", "human_animal_origin": origin})


def received(session: Session, product: Material, supplier_lot: str, *, expires: date | None = None,
             quantity: float = 1000.0, status: str = "released") -> MaterialLot:
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
