"""Rows for the manufacturing area, made directly through the models.

Tests of one rule build just the state that rule looks at (a received cord, a formulated lot) without
going through every earlier step, and ``snapshot`` lets a test prove a refusal wrote nothing at all.
"""

from __future__ import annotations

import itertools
import math
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from cellchain.core import db
from cellchain.identifiers.isbt128 import format_din
from cellchain.manufacturing.models import Bag, BatchStep, Collection, Lot, Passage
from cellchain.people.models import User
from cellchain.ward.models import CustodyEvent, Excursion
from tests.factories import materials

_sequence = itertools.count(900_001)
SCREENING = {"HIV-1/2": "negative", "HBV": "negative", "HCV": "negative", "HTLV-I/II": "negative",
             "syphilis": "negative", "CMV": "negative"}


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def snapshot(session: Session) -> dict[str, int]:
    """Row count of every table: equal before and after means nothing was written."""
    return {table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables}


def make_collection(session: Session, *, eligible: bool = True, custody_state: str | None = "at_lab",
                    collected_at: datetime | None = None, donor_code: str = "DONOR-0001") -> Collection:
    """A cord; ``custody_state`` at_lab means received (a matching custody event is written too)."""
    creator = user(session, "lab")
    collected = collected_at or days_ago(20)
    reasons = [] if eligible else [{"code": "donor_test_positive", "message": "HBV is positive"}]
    row = Collection(din=format_din("A9999", 26, next(_sequence)), donor_code=donor_code, collected_at=collected,
                     site="maternity ward", consent_obtained=True,
                     screening=SCREENING if eligible else {**SCREENING, "HBV": "positive"},
                     eligibility="eligible" if eligible else "ineligible", eligibility_reasons=reasons,
                     custody_state=custody_state, created_by=creator.id)
    session.add(row)
    session.flush()
    if custody_state is not None:
        session.add(CustodyEvent(item_type="collection", item_id=row.id, event="collected", to_state="collected",
                                 location="maternity ward", occurred_at=collected, recorded_by=creator.id))
        if custody_state != "collected":
            session.add(CustodyEvent(item_type="collection", item_id=row.id, event="received", from_state="in_transit",
                                     to_state=custody_state, location="lab", temperature_c=5.0,
                                     occurred_at=collected + timedelta(hours=3), recorded_by=creator.id))
    session.flush()
    return row


def open_excursion(session: Session, collection: Collection, temperature: float = 31.0) -> Excursion:
    event = session.exec(select(CustodyEvent).where(CustodyEvent.item_type == "collection",
                                                    CustodyEvent.item_id == collection.id)
                         .order_by(CustodyEvent.id.desc())).first()
    row = Excursion(item_type="collection", item_id=collection.id, custody_event_id=event.id,
                    temperature_c=temperature, low_c=2.0, high_c=25.0)
    session.add(row)
    session.flush()
    return row


def make_lot(session: Session, *, collection: Collection | None = None, status: str = "in_process",
             passages: list[tuple[int, int]] = (), harvested_cells: int | None = None,
             formulation: tuple[float, float] | None = None) -> Lot:
    """A lot with passages P0.. given as (seeded, harvested), and optionally harvest and formulation."""
    creator = user(session, "lab")
    cord = collection or make_collection(session)
    lot = Lot(lot_number=cord.din, din=cord.din, collection_id=cord.id, status=status, spec_version="UCMSC-1",
              created_by=creator.id, created_at=cord.collected_at + timedelta(hours=4))
    session.add(lot)
    session.flush()
    cumulative, start = 0.0, cord.collected_at + timedelta(hours=6)
    for number, (seeded, harvested) in enumerate(passages):
        doublings = math.log2(harvested / seeded)
        cumulative += doublings
        seeded_at, harvested_at = start + timedelta(days=3 * number), start + timedelta(days=3 * number + 2)
        session.add(Passage(lot_id=lot.id, number=number, seeded_cells=seeded, harvested_cells=harvested,
                            viability_pct=95.0, seeded_at=seeded_at, harvested_at=harvested_at,
                            population_doublings=doublings, cumulative_doublings=cumulative, recorded_by=creator.id))
        session.add(BatchStep(lot_id=lot.id, step_key=f"passage:{number}", details={}, performed_by=creator.id,
                              performed_at=harvested_at))
    if harvested_cells is not None:
        lot.harvested_cells, lot.harvested_at = harvested_cells, days_ago(2)
    if formulation is not None:
        lot.formulated_cells_per_ml, lot.formulated_volume_ml = formulation
        session.add(BatchStep(lot_id=lot.id, step_key="formulation", details={}, performed_by=creator.id,
                              performed_at=days_ago(1)))
    session.add(lot)
    session.flush()
    return lot


def formulated_lot(session: Session, **kwargs) -> Lot:
    """A lot ready to fill: three passages, harvested, 1e6 cells/ml in 300 ml (3e8 cells)."""
    return make_lot(session, passages=[(1_000_000, 8_000_000), (4_000_000, 24_000_000), (12_000_000, 60_000_000)],
                    harvested_cells=400_000_000, formulation=(1_000_000.0, 300.0), **kwargs)


def make_bag(session: Session, lot: Lot, division: str, product_code: str = "D0001") -> Bag:
    """A bag of ``lot`` whose heparin is the released material lot HEP1, its fill written as the lab's is."""
    creator = user(session, "lab")
    row = Bag(bag_code=f"{lot.lot_number}-{product_code}V{division}", din=lot.lot_number, product_code=product_code,
              division=division, kind="ucmsc", lot_id=lot.id, volume_ml=70.0, total_cells=70_000_000,
              anticoagulant="heparin", anticoagulant_lot="HEP1", filled_at=days_ago(0.1),
              expires_at=days_ago(-1), custody_state="at_lab", created_by=creator.id)
    session.add(row)
    session.flush()
    materials.filled_from(session, [row], "HEP1")
    return row


@contextmanager
def in_db(app):
    """The app's session inside an app context, committed at the end (as a request would be)."""
    with app.app_context():
        yield db.session()
        db.commit()
