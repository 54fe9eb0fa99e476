"""Rows for label and scan tests, made directly via the models so labelling is tested on its own.

DINs are issued by ``services.din`` (validation FIN A9999), as in production; times are awkward on
purpose (seconds, a zone far from UTC) so a label that shows UTC instead of site time, or rounds an
expiry up, is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session, select

from cellchain.core import db
from cellchain.core.config import DEFAULTS
from cellchain.identifiers.isbt128 import ChainOfIdentity, Din, ProductCode
from cellchain.identifiers.scans import format_bag_id
from cellchain.manufacturing import din
from cellchain.manufacturing.models import Bag, Collection, LabelPrint, Lot, Passage
from cellchain.people import accounts
from cellchain.trial.models import Allocation, Subject, Visit
from tests.factories import materials

TZ = ZoneInfo(DEFAULTS["SITE_TIMEZONE"])
PRODUCT = DEFAULTS["PRODUCT_CODES"]
DIVISIONS = [f"{letter}0" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def user_id(session: Session, username: str = "lab") -> int:
    return accounts.find_user(session, username).id


def collection(session: Session, *, collected_at: datetime | None = None, eligibility: str = "eligible",
               **values: Any) -> Collection:
    """A cord collected at 23:47:31 UTC yesterday (07:47 the next day in Shanghai)."""
    when = collected_at or (datetime.now(UTC) - timedelta(days=1)).replace(hour=23, minute=47, second=31)
    row = Collection(din=din.issue_din(session, fin="A9999", when=when, tz=TZ), donor_code="DONOR-0001",
                     collected_at=when, site="Delivery ward 3", consent_obtained=True, eligibility=eligibility,
                     created_by=user_id(session), **values)
    session.add(row)
    session.flush()
    return row


def lot(session: Session, *, status: str = "in_process", of: Collection | None = None) -> Lot:
    parent = of or collection(session)
    row = Lot(lot_number=parent.din, din=parent.din, collection_id=parent.id, status=status, spec_version="UCMSC-1",
              created_by=user_id(session))
    session.add(row)
    session.flush()
    return row


def passage(session: Session, parent: Lot, number: int, *, seeded_at: datetime) -> Passage:
    row = Passage(lot_id=parent.id, number=number, seeded_cells=1_000_000, harvested_cells=8_000_000,
                  viability_pct=95.0, seeded_at=seeded_at, harvested_at=seeded_at + timedelta(days=4),
                  population_doublings=3.0, cumulative_doublings=3.0 * (number + 1), recorded_by=user_id(session))
    session.add(row)
    session.flush()
    return row


def bag(session: Session, parent: Lot, *, division: str = "A0", total_cells: int = 72_340_000,
        expires_at: datetime | None = None, quality_status: str = "quarantine", **values: Any) -> Bag:
    """A UC-MSC bag of ``parent``; expires in 47 h 13 min 29 s (seconds are dropped, never rounded up)."""
    now = datetime.now(UTC)
    product = ProductCode(PRODUCT["ucmsc"], "V", division)
    row = Bag(bag_code=format_bag_id(Din.parse(parent.lot_number), product), din=parent.lot_number,
              product_code=product.code, collection_type="V", division=division, kind="ucmsc", lot_id=parent.id,
              volume_ml=50.0, total_cells=total_cells, anticoagulant="ACD-A", anticoagulant_lot="ACD2611",
              anticoagulant_volume_ml=5.0, filled_at=now,
              expires_at=expires_at or now + timedelta(hours=47, minutes=13, seconds=29),
              quality_status=quality_status, created_by=user_id(session), **values)
    session.add(row)
    session.flush()
    materials.filled_from(session, [row], row.anticoagulant_lot)  # released ACD-A lot, used as the lab's fill does
    return row


def bags(session: Session, parent: Lot, count: int, **values: Any) -> list[Bag]:
    return [bag(session, parent, division=DIVISIONS[n], **values) for n in range(count)]


def placebo_bag(session: Session, **values: Any) -> Bag:
    now = datetime.now(UTC)
    din_text = din.issue_din(session, fin="A9999", when=now, tz=TZ)
    product = ProductCode(PRODUCT["placebo"], "V", "00")
    row = Bag(bag_code=format_bag_id(Din.parse(din_text), product), din=din_text, product_code=product.code,
              collection_type="V", division="00", kind="placebo", saline_lot="NS260415", volume_ml=50.0,
              filled_at=now, expires_at=now + timedelta(days=90), created_by=user_id(session), **values)
    session.add(row)
    session.flush()
    materials.filled_from(session, [row], row.saline_lot)  # released saline lot, used as the placebo fill does
    return row


_subjects = iter(range(1, 10_000))


def subject(session: Session, *, eligible: bool = True, birth_date: date = date(1971, 3, 14),
            arm: str | None = "A") -> Subject:
    number = next(_subjects)
    row = Subject(subject_code=f"SUBJ-{number:04d}", screening_number=f"SCR-{number:05d}", birth_date=birth_date,
                  sex="female", day0=date.today(), weight_kg=70.0, answers={}, eligible=eligible,
                  arm=arm if eligible else None, created_by=user_id(session, "coordinator"),
                  chain_of_identity=ChainOfIdentity.issue("A9999", 26, 500_000 + number).text if arm and eligible
                  else None,
                  status=("randomized" if arm else "eligible") if eligible else "screen_failed")
    session.add(row)
    session.flush()
    return row


def allocate(session: Session, of_bag: Bag, to: Subject) -> Allocation:
    """An infusion visit of ``to`` and ``of_bag`` allocated to it."""
    today = date.today()
    visit = Visit(subject_id=to.id, week=0, kind="infusion", target_date=today, window_start=today,
                  window_end=today + timedelta(days=3))
    session.add(visit)
    session.flush()
    row = Allocation(visit_id=visit.id, bag_id=of_bag.id, subject_id=to.id, weight_kg=70.0,
                     required_cells=70_000_000, allocated_by=user_id(session, "coordinator"))
    session.add(row)
    session.flush()
    return row


def select_prints():
    """Every LabelPrint row in the order printed."""
    return select(LabelPrint).order_by(LabelPrint.id)


def rows(app: Flask, build: Callable[[Session], Any]) -> Any:
    """Make rows inside the app, commit, and return what ``build`` returned (detached, still readable)."""
    with app.app_context():
        made = build(db.session())
        db.commit()
    return made


def prints(app: Flask) -> list[LabelPrint]:
    with app.app_context():
        return db.session().exec(select_prints()).all()
