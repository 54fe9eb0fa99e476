"""Trial factories: screening answers, subjects through the API, and bags made directly as rows.

Bags are inserted as rows (not through the manufacturing services) so the trial can be tested on its
own. A UC-MSC bag always comes from a lot (with its collection), as in reality; a placebo bag has no
lot and carries a saline lot instead. Either's heparin or saline is a released material lot, its use
written as the lab's fill writes it (``tests/factories/materials.py``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from cellchain.core.config import DEFAULTS
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.people import accounts
from cellchain.trial import visits
from tests.factories import materials

_sequence = itertools.count(1)
PRODUCT = {"ucmsc": "D0001", "placebo": "D0002"}


def site_today() -> date:
    """Today at the site (the app's default zone), which is what visit windows are counted in."""
    return visits.site_today(DEFAULTS["SITE_TIMEZONE"])


def eligible_answers(**overrides: Any) -> dict[str, Any]:
    """A POST /subjects body for a 45-year-old man who meets every criterion; override to change one."""
    day0 = overrides.pop("day0", site_today())
    day0 = day0.isoformat() if isinstance(day0, date) else day0
    data: dict[str, Any] = {
        "screening_number": f"SCR-{next(_sequence):05d}", "birth_date": "1980-03-15", "sex": "male",
        "weight_kg": 70.0, "day0": day0, "meets_transplant_criteria": True, "first_transplant": True,
        "liver_only": True, "consent_signed": True, "willing_to_comply": True, "pregnancy_test": None,
        "prior_other_organ_transplant": False, "vital_organ_failure": False,
        "investigational_drug_within_30_days": False, "on_immunosuppressant": False, "active_infection": False,
        "pregnant_or_lactating": False,
    }
    data.update(overrides)
    return data


def register(api, *, as_: str = "coordinator", **overrides: Any) -> dict[str, Any]:
    """Register through the API and return the answer (asserting it was recorded)."""
    response = api.post("/api/v1/subjects", as_=as_, json=eligible_answers(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def randomized(api, **overrides: Any) -> dict[str, Any]:
    """A registered and randomized subject: the registration answer plus its ``arm``."""
    subject = register(api, **overrides)
    response = api.post(f"/api/v1/subjects/{subject['subject_id']}/randomize", as_="coordinator")
    assert response.status_code == 200, response.get_json()
    return {**subject, "arm": response.get_json()["arm"], "chain_of_identity": response.get_json()["chain_of_identity"]}


def _din() -> str:
    return f"A999926{next(_sequence):06d}"


def _lab_user_id(session: Session) -> int:
    return accounts.find_user(session, "lab").id


def lot(session: Session, *, status: str = "released") -> Lot:
    """A collection and the lot grown from it, in the given status."""
    din, user = _din(), _lab_user_id(session)
    collection = Collection(din=din, donor_code=f"DONOR-{din[-6:]}",
                            collected_at=datetime.now(UTC) - timedelta(days=30), site="Delivery ward 3",
                            consent_obtained=True, eligibility="eligible", created_by=user)
    session.add(collection)
    session.flush()
    row = Lot(lot_number=din, din=din, collection_id=collection.id, status=status, spec_version="2026.1",
              created_by=user)
    session.add(row)
    session.flush()
    return row


def ucmsc_bag(session: Session, *, total_cells: int | None = 70_000_000, volume_ml: float = 50.0,
              expires_at: datetime | None = None, quality_status: str = "released", custody_state: str = "at_lab",
              lot_status: str = "released") -> Bag:
    """A UC-MSC bag from its own lot; by default released, at the lab, 7.0e7 cells (70 kg), in date."""
    parent = lot(session, status=lot_status)
    return _bag(session, kind="ucmsc", din=parent.lot_number, lot_id=parent.id, total_cells=total_cells,
                volume_ml=volume_ml, expires_at=expires_at, quality_status=quality_status,
                custody_state=custody_state, anticoagulant="heparin", anticoagulant_lot="HEP-2611")


def placebo_bag(session: Session, *, volume_ml: float = 50.0, expires_at: datetime | None = None,
                quality_status: str = "released", custody_state: str = "at_lab") -> Bag:
    """A 50 ml saline placebo bag; by default released, at the lab, in date for 60 days."""
    return _bag(session, kind="placebo", din=_din(), lot_id=None, saline_lot="NS-26-0415", total_cells=None,
                volume_ml=volume_ml, expires_at=expires_at, quality_status=quality_status,
                custody_state=custody_state)


def _bag(session: Session, *, kind: str, din: str, expires_at: datetime | None, **values: Any) -> Bag:
    now = datetime.now(UTC)
    bag = Bag(bag_code=f"{din}-{PRODUCT[kind]}VA0", din=din, product_code=PRODUCT[kind], division="A0", kind=kind,
              filled_at=now - timedelta(hours=2), expires_at=expires_at or now + timedelta(days=60),
              created_by=_lab_user_id(session), **values)
    session.add(bag)
    session.flush()
    materials.filled_from(session, [bag], bag.anticoagulant_lot if kind == "ucmsc" else bag.saline_lot)
    return bag
