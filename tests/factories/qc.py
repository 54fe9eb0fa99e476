"""Rows for QC and release tests, made directly through the models (no other area's services, except that a
fill's heparin is a released material lot used at the fill step, as the lab's fill records it).

``make_lot`` builds a cord, its lot (status awaiting_release by default), passages, a complete batch
record with second-person verifications, and quarantined bags: everything release needs except the QC
results, which ``add_results`` inserts (all within specification unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from cellchain.audit import signatures
from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.identifiers import isbt128
from cellchain.manufacturing import batch
from cellchain.manufacturing.models import Bag, BatchStep, BatchStepVerification, Collection, Lot, Passage
from cellchain.manufacturing.rules import batch_record
from cellchain.people.models import User, UserRole
from cellchain.people.rules.roles import role_set_refusals
from cellchain.quality.models import QcResult
from cellchain.quality.rules import spec_limits
from cellchain.ward.models import CustodyEvent, Excursion
from tests.conftest import FAST_HASH, PASSWORD
from tests.factories import materials

PASSING: dict[str, Any] = {
    "cd73": 98.7, "cd90": 99.1, "cd105": 97.4, "cd34": 0.4, "cd45": 0.6, "cd14": 0.3, "cd19": 0.2,
    "hla_dr": 0.8, "viability": 94.0, "sterility": "negative", "mycoplasma": "negative", "endotoxin": 0.9,
    "karyotype": "normal", "cell_count": 101.5,
}
# Where and when a test's sample was taken, as the API (SAMPLED) and the QC page's form (SAMPLED_FORM) take it:
# three hours ago on the site's clock (a sample is never older than its lot's cord, nor in the future), and
# when the test was done, two hours after it (TESTED, TESTED_FORM).
SITE_TZ = ZoneInfo("Asia/Shanghai")
SAMPLED_AT = (datetime.now(SITE_TZ) - timedelta(hours=3)).replace(second=0, microsecond=0)
TESTED_AT = SAMPLED_AT + timedelta(hours=2)
SAMPLED: dict[str, str] = {"sample_stage": "final_product", "sampled_at": SAMPLED_AT.isoformat()}
SAMPLED_FORM: dict[str, str] = {"sample_stage": "final_product", "sampled_at": SAMPLED_AT.strftime("%Y-%m-%dT%H:%M")}
TESTED, TESTED_FORM = TESTED_AT.isoformat(), TESTED_AT.strftime("%Y-%m-%dT%H:%M")
SCREENING = {t: "negative" for t in ("HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV")}


@contextmanager
def db_session(app) -> Iterator[Session]:
    """The app's session inside an app context, committed at the end (as a request's edge would)."""
    with app.app_context():
        yield db.session()
        db.commit()


def _within_role_policy(roles: set[str]) -> None:
    """Test accounts follow the role rules of docs/rules.md too. QA with lab or QC exists only at a site that
    allows it (``ALLOW_QA_WITH_LAB_OR_QC``); the release tests stand for such a site, to show the record
    rules (maker is not releaser) still refuse there. An administrator with another role exists nowhere."""
    refusals = role_set_refusals(roles, allow_qa_with_lab_or_qc=True)
    assert not refusals, refusals


def user(session: Session, username: str, *, roles: tuple[str, ...] = ("lab",), full_name: str | None = None) -> User:
    """A demo user by name, or a new one with ``roles`` (password conftest.PASSWORD)."""
    found = session.exec(select(User).where(User.username == username)).first()
    if found is not None:
        return found
    _within_role_policy(set(roles))
    row = User(username=username, full_name=full_name or f"{username} (test)",
               password_hash=generate_password_hash(PASSWORD, method=FAST_HASH),
               role_rows=[UserRole(role=r) for r in roles])
    session.add(row)
    session.flush()
    return row


def give_role(session: Session, username: str, role: str) -> User:
    person = user(session, username)
    _within_role_policy({*person.roles, role})
    if role not in person.roles:
        person.role_rows.append(UserRole(role=role))
        session.add(person)
        session.flush()
    return person


def _collection(session: Session, n: int, maker: User, eligibility: str) -> Collection:
    now = utcnow()
    row = Collection(din=isbt128.format_din("A9999", 26, n), donor_code=f"DONOR-{n:04d}",
                     collected_at=now - timedelta(days=20), site="Delivery room 3", consent_obtained=True,
                     screening=dict(SCREENING), specimen_collected_at=now - timedelta(days=21),
                     eligibility=eligibility, eligibility_reasons=[], custody_state="at_lab", created_by=maker.id)
    session.add(row)
    session.flush()
    return row


def _passages(session: Session, lot: Lot, count: int, maker: User) -> list[int]:
    start = utcnow() - timedelta(days=18)
    for number in range(count):
        seeded_at = start + timedelta(days=4 * number)
        session.add(Passage(lot_id=lot.id, number=number, seeded_cells=1_000_000, harvested_cells=4_000_000,
                            viability_pct=95.0, seeded_at=seeded_at, harvested_at=seeded_at + timedelta(days=4),
                            population_doublings=2.0, cumulative_doublings=2.0 * (number + 1),
                            recorded_by=maker.id))
    session.flush()
    return list(range(count))


def _verify(session: Session, lot: Lot, step: BatchStep, verifier: User) -> None:
    """A second person's signature bound to the step as recorded, as the batch service signs it."""
    signed = Signature(user_id=verifier.id, signer_username=verifier.username, signer_name=verifier.full_name,
                       meaning="verified", signed_at=utcnow(), record_type="batch_step", record_id=str(step.id),
                       record_hash=signatures.record_hash(batch.step_content(lot, step)))
    session.add(signed)
    session.flush()
    session.add(BatchStepVerification(step_id=step.id, verified_by=verifier.id, signature_id=signed.id,
                                      verified_at=utcnow()))


def _batch_record(session: Session, lot: Lot, numbers: list[int], maker: User, verifier: User,
                  skip: tuple[str, ...], unverified: tuple[str, ...]) -> None:
    for step_def in batch_record.DEFAULT_STEPS:
        keys = ([batch_record.step_key(step_def.code, n) for n in numbers] if step_def.repeat_per_passage
                else [step_def.code])
        for key in keys:
            if key in skip:
                continue
            step = BatchStep(lot_id=lot.id, step_key=key, details={}, performed_by=maker.id,
                             performed_at=utcnow() - timedelta(days=1))
            session.add(step)
            session.flush()
            if step_def.needs_verification and key not in unverified:
                _verify(session, lot, step, verifier)


def _bags(session: Session, lot: Lot, din: str, count: int, maker: User) -> None:
    now = utcnow()
    for index in range(count):
        division = f"{chr(ord('A') + index)}0"
        session.add(Bag(bag_code=f"{din}-D0001V{division}", din=din, product_code="D0001", division=division,
                        kind="ucmsc", lot_id=lot.id, volume_ml=50.0, total_cells=60_000_000, anticoagulant="heparin",
                        anticoagulant_lot="HEP-2026-01", anticoagulant_volume_ml=1.0,
                        filled_at=now - timedelta(hours=2),
                        expires_at=now + timedelta(hours=46), created_by=maker.id, custody_state="at_lab"))
    session.flush()
    filled = list(session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.id)))
    if filled:
        materials.filled_from(session, filled, "HEP-2026-01")
    for bag in filled:
        session.add(CustodyEvent(item_type="bag", item_id=bag.id, event="filled", to_state="at_lab",
                                 location="Clean room 1", occurred_at=bag.filled_at, recorded_by=maker.id))
    session.flush()


def make_lot(session: Session, *, n: int = 1, status: str = "awaiting_release", bags: int = 2, passages: int = 2,
             eligibility: str = "eligible", maker: str = "lab", verifier: str = "lab2",
             skip_steps: tuple[str, ...] = (), unverified_steps: tuple[str, ...] = ()) -> Lot:
    """A lot whose batch record is complete (unless steps are skipped or left unverified) and bags filled."""
    made_by = user(session, maker)
    checked_by = user(session, verifier, full_name="Ma Jun (second lab technician)")
    collection = _collection(session, n, made_by, eligibility)
    lot = Lot(lot_number=collection.din, din=collection.din,
              collection_id=collection.id, status=status, spec_version="UCMSC-1",
              created_by=made_by.id, harvested_cells=240_000_000, harvested_at=utcnow() - timedelta(days=1))
    session.add(lot)
    session.flush()
    numbers = _passages(session, lot, passages, made_by)
    _batch_record(session, lot, numbers, made_by, checked_by, skip_steps, unverified_steps)
    _bags(session, lot, collection.din, bags, made_by)
    return lot


def add_results(session: Session, lot: Lot, *, by: str = "qc", values: Mapping[str, Any] | None = None,
                skip: tuple[str, ...] = ()) -> list[QcResult]:
    """One first result per required test, judged by the domain (all passing unless ``values`` say otherwise)."""
    tester = user(session, by)
    rows = []
    for code, value in {**PASSING, **(values or {})}.items():
        if code in skip:
            continue
        spec_test = spec_limits.DEFAULT_SPEC.find(code)
        verdict = spec_limits.judge(spec_test, value)
        shown = f"{verdict.normalized_value:.10g}" if isinstance(verdict.normalized_value, float) else value
        rows.append(QcResult(lot_id=lot.id, test_code=code, value=shown, within_spec=verdict.within_spec,
                             limit_text=spec_test.limit.describe(spec_test.unit), unit=spec_test.unit,
                             method=spec_test.method, spec_version=lot.spec_version, recorded_by=tester.id,
                             sample_stage="final_product", sampled_at=utcnow() - timedelta(hours=3)))
    session.add_all(rows)
    session.flush()
    return rows


def add_excursion(session: Session, *, item_type: str, item_id: int, by: str = "lab") -> Excursion:
    """An open temperature excursion on a collection or bag, as the custody service would leave it."""
    recorder = user(session, by)
    event = CustodyEvent(item_type=item_type, item_id=item_id, event="stored", from_state="at_lab",
                         to_state="in_storage", location="Lab fridge 2", temperature_c=12.0, excursion=True,
                         occurred_at=utcnow() - timedelta(minutes=30), recorded_by=recorder.id)
    session.add(event)
    session.flush()
    row = Excursion(item_type=item_type, item_id=item_id, custody_event_id=event.id, temperature_c=12.0,
                    low_c=2.0, high_c=8.0)
    session.add(row)
    session.flush()
    return row
