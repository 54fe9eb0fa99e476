"""Ward factories: a subject, an infusion visit open today, and a released bag received on the ward.

Rows are made directly (not through the manufacturing or trial services) so the bedside can be tested on
its own; the bag's custody, however, is recorded through ``services.custody`` so that its chain replays
exactly as a real one does. ``bedside_ready`` is the all-pass setup each bedside test breaks one way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.core.config import DEFAULTS
from cellchain.identifiers.isbt128 import (
    ChainOfIdentity,
    Din,
    ProductCode,
    encode_chain_of_identity,
    encode_compound,
    encode_moment,
)
from cellchain.identifiers.scans import wristband_data
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.people import accounts
from cellchain.people.models import User
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import dosing
from cellchain.ward import custody
from tests.factories import materials

_sequence = itertools.count(1)
PRODUCT = {"ucmsc": "D0001", "placebo": "D0002"}
RANGES = DEFAULTS["TEMPERATURE_RANGES"]
TZ = ZoneInfo(DEFAULTS["SITE_TIMEZONE"])
WARD = "Liver transplant ward 5"


def user(session: Session, username: str) -> User:
    return accounts.find_user(session, username)


def site_today() -> date:
    return datetime.now(TZ).date()


def _din() -> str:
    return f"A999926{900000 + next(_sequence):06d}"  # a range the trial factories never reach


def released_lot(session: Session, *, status: str = "released") -> Lot:
    lab = user(session, "lab")
    din = _din()
    collection = Collection(din=din, donor_code=f"DONOR-{din[-6:]}",
                            collected_at=datetime.now(UTC) - timedelta(days=30), site="Delivery ward 3",
                            consent_obtained=True, eligibility="eligible", created_by=lab.id)
    session.add(collection)
    session.flush()
    custody.record_system_event(session, actor=lab, record=collection, ranges=RANGES, handover=custody.Handover(
        event="collected", location="Delivery ward 3", occurred_at=datetime.now(UTC) - timedelta(days=30),
        temperature_c=20.0))
    lot = Lot(lot_number=din, din=din, collection_id=collection.id, status=status, spec_version="2026.1",
              created_by=lab.id)
    session.add(lot)
    session.flush()
    return lot


def bag(session: Session, *, kind: str = "ucmsc", total_cells: int | None = 70_000_000, volume_ml: float = 50.0,
        expires_at: datetime | None = None, quality_status: str = "released", division: str = "A0",
        lot: Lot | None = None) -> Bag:
    """A filled bag (custody ``at_lab``), released and in date by default; its heparin (UC-MSC) or saline
    (placebo) is a released material lot, used as the lab's fill uses it."""
    lab = user(session, "lab")
    now = datetime.now(UTC)
    if kind == "ucmsc":
        lot = lot or released_lot(session)
        din, lot_id, saline_lot, material_lot = lot.lot_number, lot.id, None, "HEP-2611"
    else:
        din, lot_id, saline_lot, total_cells = _din(), None, "NS-26-0415", None
        material_lot = saline_lot
    row = Bag(bag_code=f"{din}-{PRODUCT[kind]}V{division}", din=din, product_code=PRODUCT[kind], division=division,
              kind=kind, lot_id=lot_id, saline_lot=saline_lot, volume_ml=volume_ml, total_cells=total_cells,
              anticoagulant="heparin" if kind == "ucmsc" else None,
              anticoagulant_lot=material_lot if kind == "ucmsc" else None, filled_at=now - timedelta(hours=3),
              expires_at=expires_at or now + timedelta(hours=40), quality_status=quality_status, created_by=lab.id)
    session.add(row)
    session.flush()
    materials.filled_from(session, [row], material_lot)
    custody.record_system_event(session, actor=lab, record=row, ranges=RANGES, handover=custody.Handover(
        event="filled", location="Cell processing lab", occurred_at=now - timedelta(hours=3), temperature_c=4.0))
    return row


def hand_over(session: Session, item, event: str, *, by: str = "lab", minutes_ago: int = 60,
              temperature_c: float | None = 5.0, location: str = "Cell processing lab") -> None:
    custody.record_handover(session, actor=user(session, by), record=item, ranges=RANGES, handover=custody.Handover(
        event=event, location=location, occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        temperature_c=temperature_c, handed_over_by="Li Wei", received_by="Liu Yang",
        notes="bag damaged in handling" if event == "discarded" else None))


def to_ward(session: Session, item: Bag, *, receive: bool = True, temperature_c: float = 5.0) -> Bag:
    """Store, dispatch and (by default) receive the bag on the ward, each a hand-over a person records."""
    hand_over(session, item, "stored", minutes_ago=150)
    hand_over(session, item, "dispatched", minutes_ago=90, location="Cell processing lab, dispatch")
    if receive:
        hand_over(session, item, "received_at_ward", by="nurse", minutes_ago=30, temperature_c=temperature_c,
                  location=WARD)
    return item


def subject(session: Session, *, arm: str | None = "A", weight_kg: float = 70.0) -> Subject:
    coordinator = user(session, "coordinator")
    n = next(_sequence)
    row = Subject(subject_code=f"SUBJ-{n:04d}", screening_number=f"SCR-W{n:05d}", birth_date=date(1970, 5, 17),
                  sex="male", day0=site_today(), weight_kg=weight_kg, answers={}, eligible=True, arm=arm,
                  randomization_position=n if arm else None, randomized_at=datetime.now(UTC) if arm else None,
                  randomized_by=coordinator.id if arm else None, created_by=coordinator.id,
                  chain_of_identity=ChainOfIdentity.issue("A9999", 26, n).text if arm else None,
                  status="randomized" if arm else "eligible")
    session.add(row)
    session.flush()
    return row


def infusion_visit(session: Session, who: Subject, *, week: int = 0, days_from_today: int = 0,
                   kind: str = "infusion") -> Visit:
    """A visit whose window (target +/- 3 days) holds today unless ``days_from_today`` moves it."""
    target = site_today() + timedelta(days=days_from_today)
    row = Visit(subject_id=who.id, week=week, kind=kind, target_date=target,
                window_start=target - timedelta(days=3), window_end=target + timedelta(days=3))
    session.add(row)
    session.flush()
    return row


def allocate(session: Session, item: Bag, visit: Visit, who: Subject, *, weight_kg: float | None = None) -> Allocation:
    weight = weight_kg if weight_kg is not None else who.weight_kg
    # Allocated two hours ago: before the bedside, as the coordinator does it (an infusion never precedes it).
    row = Allocation(visit_id=visit.id, bag_id=item.id, subject_id=who.id, weight_kg=weight,
                     required_cells=dosing.required_cells(weight) if item.kind == "ucmsc" else None,
                     allocated_by=user(session, "coordinator").id,
                     allocated_at=datetime.now(UTC) - timedelta(hours=2))
    session.add(row)
    session.flush()
    return row


def bag_2d(item: Bag, *, expires_at: datetime | None = None, chain_of_identity: str | None = None) -> str:
    """The bag label's Data Matrix text: DIN barcode, product code and expiry date-time (site zone), and the
    recipient's chain-of-identity identifier when given."""
    din = Din.parse(item.din)
    product = ProductCode(item.product_code, item.collection_type, item.division)
    expiry = encode_moment("expiry_datetime", expires_at or item.expires_at, TZ)
    coi = [encode_chain_of_identity(chain_of_identity)] if chain_of_identity else []
    return encode_compound([din.barcode_data(), product.encode(), expiry, *coi])


def linear_scans(item: Bag) -> list[str]:
    """What a scanner reads from the label's two linear codes: the DIN and the product code."""
    return [Din.parse(item.din).barcode_data(),
            ProductCode(item.product_code, item.collection_type, item.division).encode()]


def wristband(who: Subject) -> str:
    return wristband_data(who.subject_code)


@dataclass
class Bedside:
    """An all-pass bedside: the subject, the bag on the ward allocated to its infusion visit today."""

    subject: Subject
    bag: Bag
    visit: Visit
    allocation: Allocation

    @property
    def wristband(self) -> str:
        return wristband(self.subject)

    @property
    def bag_scan(self) -> str:
        return bag_2d(self.bag)


def bedside_ready(session: Session, *, kind: str = "ucmsc", arm: str = "A", weight_kg: float = 70.0,
                  receive_temperature_c: float = 5.0) -> Bedside:
    who = subject(session, arm=arm, weight_kg=weight_kg)
    item = to_ward(session, bag(session, kind=kind), temperature_c=receive_temperature_c)
    visit = infusion_visit(session, who)
    return Bedside(who, item, visit, allocate(session, item, visit, who))
