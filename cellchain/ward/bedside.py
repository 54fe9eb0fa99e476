"""The bedside check (docs/rules.md, "Ward: the bedside check").

Match the bag in the nurse's hand to the wrist in front of her: read both scans and the records they
name once (``bedside_facts``), run the seventeen checks of ``rules/bedside_checks.py`` on them, record the
attempt with its audit entry, and answer every check by name.

Every attempt is kept as a ``BedsideCheck`` row (append-only), failed ones too: ``verify`` writes it in
the request's transaction, and a refused infusion start writes it through a deferred write (see
``infusions.start``) so that it survives the refusal's rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import NotFound
from cellchain.core.types import utcnow
from cellchain.core.words import N_
from cellchain.core.words.checks import reworded, said
from cellchain.core.words.sentences import Sentence
from cellchain.identifiers.scans import MAX_SCAN_LENGTH
from cellchain.manufacturing.models import Bag
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.safety import clinical_deviations
from cellchain.trial.models import Subject
from cellchain.ward import bedside_facts, bedside_scans, custody
from cellchain.ward.models import BedsideCheck, Infusion
from cellchain.ward.rules.bedside_checks import Check, Facts, HoldView, Protocol, deviations_seen, run_checks

# --- loading the facts ----------------------------------------------------------------------------------

def gather(session: Session, scans: bedside_scans.Scans, protocol: Protocol, *, lock_bag: bool = False,
           now: datetime | None = None) -> Facts:
    """Read both scans and load what the guards need. ``lock_bag`` holds the bag's row until the end
    of the transaction, so two starts of one bag are judged one after the other (rule 6)."""
    now = now or utcnow()
    f = Facts(protocol=protocol, now=now, today=now.astimezone(protocol.tz).date())
    wristband = bedside_scans.read_wristband(scans.wristband, protocol.tz)
    code, f.label, f.bag_problem = bedside_scans.bag_code_of(scans.bag, protocol.tz)
    connection = session.connection()
    if lock_bag and code is not None:
        bedside_facts.lock_bag(connection, code)
    found = bedside_facts.at_bedside(connection, wristband.subject_code, code)
    f.subject, f.wristband_problem = bedside_scans.wristband_match(wristband, found.subject)
    f.wristband_coi = wristband.chain_of_identity
    if code is None:
        return f
    if found.bag is None:
        f.bag_problem = said("scan:bag_not_registered", bag_code=code)
        return f
    f.bag, f.lot, f.allocation, f.visit, f.allocated_subject, f.infusion, probe = found.bag
    if probe is not None:  # a hold is open on the bag's cord or a material lot of it: does it reach this bag?
        reach = holds.nearest_over(session, "bag", f.bag.id)
        if reach is not None:
            hold, code = reach
            f.hold = HoldView(hold.id, hold.cause_text, hold.item_kind, code)
    f.window_allowance = found.window_allowance
    f.bag_problem = bedside_scans.label_problem(f.bag, f.label, protocol.tz)
    events, f.excursions = found.custody
    f.last_event = events[-1] if events else None
    f.chain_ok, breaks = custody.chain_status(session, "bag", f.bag.id, events)
    f.chain_breaks = [r.message for r in breaks]
    return f


# --- recording every attempt ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """One attempt as plain values, so it can also be written after the request's rollback."""

    wristband: str
    bag_text: str
    subject_id: int | None
    subject_code: str | None
    bag_id: int | None
    bag_code: str | None
    checks: tuple[Check, ...]
    purpose: str
    checked_at: datetime
    # (kind, description, visit id): the clinical protocol deviations the failed checks show
    deviations: tuple[tuple[str, Sentence, int | None], ...] = ()

    @classmethod
    def of(cls, scans: bedside_scans.Scans, facts: Facts, checks: Sequence[Check], purpose: str) -> Attempt:
        subject, bag = facts.subject, facts.bag
        return cls(scans.wristband, scans.bag_text, subject.id if subject else None,
                   subject.subject_code if subject else None, bag.id if bag else None,
                   bag.bag_code if bag else None, tuple(checks), purpose, facts.now,
                   tuple(deviations_seen(facts, checks)))

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class AttemptRecord(NamedTuple):
    """The stored attempt: its id (what a start's signature binds) and when it was checked."""

    id: int
    checked_at: datetime


# A Core insert built once: the bedside check writes one attempt per scan, and a nurse waits on it.
_INSERT_ATTEMPT = insert(BedsideCheck.__table__)


def record_attempt(session: Session, *, actor: Actor, attempt: Attempt) -> AttemptRecord:
    """The append-only record of one attempt, passed or failed, and its audit entry."""
    result = session.connection().execute(_INSERT_ATTEMPT, {
        "wristband_scan": attempt.wristband[:MAX_SCAN_LENGTH], "bag_scan": attempt.bag_text,
        "subject_id": attempt.subject_id, "bag_id": attempt.bag_id, "ok": attempt.ok,
        "checks": [c.as_dict() for c in attempt.checks], "purpose": attempt.purpose, "checked_by": actor.id,
        "checked_at": attempt.checked_at})
    row = AttemptRecord(result.inserted_primary_key[0], attempt.checked_at)
    trail.record(session, actor=actor, record_type="bedside_check", record_id=row.id, action=attempt.purpose,
                 new={"ok": attempt.ok, "subject": attempt.subject_code, "bag": attempt.bag_code,
                      "failed": [c.name for c in attempt.checks if not c.ok]})
    # A wrong subject or product, or a dose outside tolerance, is a clinical protocol deviation even when the
    # check stopped it (docs/rules.md, "Clinical protocol deviations"); written with the attempt, also refused.
    for kind, description, visit_id in attempt.deviations:
        clinical_deviations.open_once(session, actor=actor, subject_id=attempt.subject_id,
                                      subject_code=attempt.subject_code, kind=kind, description=description,
                                      visit_id=visit_id, bag_id=attempt.bag_id)
    return row


def deferred_attempt(actor_id: int, attempt: Attempt) -> Callable[[Session], None]:
    """A write of ``attempt`` for ``db.defer``: it runs in its own transaction after the request's."""
    def write(own: Session) -> None:
        record_attempt(own, actor=own.get(User, actor_id), attempt=attempt)
    return write


@dataclass(frozen=True)
class Verification:
    """The answer to a bedside check: every check, what was identified, and the attempt's record."""

    checks: list[Check]
    facts: Facts
    record: AttemptRecord

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def verify(session: Session, *, actor: Actor, wristband: Any, bag: Any, protocol: Protocol) -> Verification:
    """Run every check and record the attempt; writes nothing else (``POST /infusions/verify``)."""
    require_role(actor.roles, "nurse", action=N_("check a bag at the bedside"))
    scans = bedside_scans.parse_scans(wristband, bag)
    facts = gather(session, scans, protocol)
    checks = run_checks(facts)
    record = record_attempt(session, actor=actor, attempt=Attempt.of(scans, facts, checks, "verify"))
    return Verification(checks, facts, record)


# --- reading a recorded attempt back (the bedside page after its post) ------------------------------------

@dataclass(frozen=True)
class RecordedAttempt:
    """A stored attempt as the bedside page shows it: every check as it was judged, and both scans, so the
    start form can carry them on. ``infusion_id`` names the bag's infusion once one has started."""

    id: int
    ok: bool
    purpose: str
    checks: list[Check]
    wristband: str
    bag_parts: list[str]
    subject: Subject | None
    bag_code: str | None
    bag_kind: str | None  # ucmsc or placebo: a check's words depend on it (a placebo is released at filling)
    checked_at: datetime
    checked_by: str
    infusion_id: int | None


def recorded_attempt(session: Session, check_id: int) -> RecordedAttempt:
    """The attempt ``check_id`` as it was recorded (NotFound if there is none); nothing is checked again."""
    row = session.get(BedsideCheck, check_id)
    if row is None:
        raise NotFound(f"no bedside check {check_id}")
    bag = session.get(Bag, row.bag_id) if row.bag_id is not None else None
    infusion = session.exec(select(Infusion.id).where(Infusion.bag_id == bag.id)).first() if bag else None
    checker = session.get(User, row.checked_by)
    return RecordedAttempt(
        id=row.id, ok=row.ok, purpose=row.purpose,
        checks=[_stored_check(c) for c in row.checks],
        wristband=row.wristband_scan, bag_parts=row.bag_scan.split("\n"),
        subject=session.get(Subject, row.subject_id) if row.subject_id is not None else None,
        bag_code=bag.bag_code if bag else None, bag_kind=bag.kind if bag else None, checked_at=row.checked_at,
        checked_by=checker.full_name if checker else "", infusion_id=infusion)


def _stored_check(stored: dict[str, Any]) -> Check:
    """A check as the attempt stored it, its sentence worded again from its code (the stored one otherwise)."""
    code, params = stored.get("code") or "", stored.get("params") or {}
    return Check(stored["name"], bool(stored["ok"]), reworded(code, params, stored.get("detail", "")), code, params)
