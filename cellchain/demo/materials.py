"""Demo materials: the catalogue the demo's lots use, each lot received by the lab and released by QA
with an e-signature before any demo lot uses it (anticoagulant and saline of the fills, the medium, platelet
lysate and enzyme of the media step). Safe to run twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.core.types import utcnow
from cellchain.materials import catalogue, decisions
from cellchain.materials.models import Material, MaterialLot
from cellchain.people import accounts

DEMO_PASSWORD = "cellchain-demo"  # noqa: S105 - the demo's published password (demo/loader.py)

# name, supplier, catalogue number, GTIN, kind, storage, human/animal origin
CATALOGUE = (
    ("Heparin sodium 5,000 IU/ml", "Demo Pharma", "HEP-5000", "09501101530003", "anticoagulant", "15-25 C", True),
    ("0.9% sodium chloride 100 ml", "Demo Pharma", "NS-100", None, "saline", "15-25 C", False),
    ("MSC serum-free medium", "Demo Bio", "MSC-SFM-500", None, "medium", "2-8 C", False),
    ("Human platelet lysate", "Demo Bio", "HPL-100", None, "platelet_lysate", "-20 C", True),
    ("TrypLE recombinant enzyme", "Demo Bio", "TRYPLE-100", None, "enzyme", "15-25 C", False),
)
# catalogue number, supplier's lot, quantity, unit
LOTS = (
    ("HEP-5000", "HEP2611A", 500.0, "ml"), ("HEP-5000", "HEP2608A", 500.0, "ml"),
    ("NS-100", "NS2611B", 20_000.0, "ml"), ("NS-100", "NS2608A", 20_000.0, "ml"),
    ("MSC-SFM-500", "MSCSFM2611", 50_000.0, "ml"), ("HPL-100", "HPL2610C", 5_000.0, "ml"),
    ("TRYPLE-100", "TRY2609", 2_000.0, "ml"), ("MSC-SFM-500", "MSCSFM2604", 50_000.0, "ml"),
    ("HPL-100", "HPL2604A", 5_000.0, "ml"), ("MSC-SFM-500", "MSCSFM2605", 50_000.0, "ml"),
    ("HPL-100", "HPL2605B", 5_000.0, "ml"), ("MSC-SFM-500", "MSCSFM2608", 50_000.0, "ml"),
    ("HPL-100", "HPL2608C", 5_000.0, "ml"), ("TRYPLE-100", "TRY2608", 2_000.0, "ml"),
)
ORIGIN = "Pooled human platelet units from licensed blood establishments (EU)"
TESTING = "Each donation tested negative for HIV-1/2, HBV, HCV and syphilis (serology and NAT) per Ph. Eur. 5.2.12"


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The catalogue and the released lots, unless they are there; the number of records made."""
    if session.exec(select(Material.id)).first() is not None:
        return 0
    lab, qa = accounts.find_user(session, "lab"), accounts.find_user(session, "qa")
    made = 0
    by_number = {}
    for name, supplier, number, gtin, kind, storage, origin in CATALOGUE:
        by_number[number] = catalogue.create_material(
            session, actor=qa, data={"name": name, "supplier": supplier, "catalogue_number": number, "gtin": gtin,
                                     "kind": kind, "storage": storage, "human_animal_origin": origin})
        made += 1
    expiry = (utcnow() + timedelta(days=400)).date()
    for number, supplier_lot, quantity, unit in LOTS:
        material = by_number[number]
        extra = {"origin": ORIGIN, "donor_testing": TESTING} if material.human_animal_origin else {}
        lot: MaterialLot = catalogue.receive(session, actor=lab, data={
            "material_id": material.id, "supplier_lot": supplier_lot, "expires_on": expiry.isoformat(),
            "quantity": quantity, "unit": unit, **extra})
        signature = signatures.SignatureInput(username=qa.username, password=DEMO_PASSWORD, meaning="released")
        decisions.decide(session, actor=qa, code=lot.code, decision="release", signature=signature, reason="",
                         policy=policy)
        made += 1
    return made
