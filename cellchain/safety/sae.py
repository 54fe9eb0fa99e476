"""Reporting serious adverse events to the sponsor, and the clock that says which reports are due
(docs/rules.md, "Safety: the SAE reporting clock").

The clock of a serious event runs from awareness (``rules/clock.py``): the investigators' and QA's
dashboards list every serious event without an initial report, due or overdue. The investigator signs the
report (meaning ``authored``) and records when it was sent and to whom; the first report is the initial one,
later ones follow-ups. A report sent after the deadline is kept as late, never refused: a late report is
still owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.timeinput import parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.safety import events
from cellchain.safety.models import AdverseEvent, SaeReport
from cellchain.safety.rules import clock
from cellchain.trial.models import Subject

EVENT_NOT_SERIOUS = "event_not_serious"
SENT_BEFORE_AWARENESS = "sent_before_awareness"
SENT_IN_FUTURE = "sent_in_future"
CLOCK_SKEW = timedelta(minutes=5)
MAX_RECIPIENT = 200


def _recipient(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_RECIPIENT:
        raise Invalid({"sent_to": translated(N_(
            "to whom the report went (the sponsor's safety desk), up to {max_recipient} characters")).format(
                max_recipient=MAX_RECIPIENT)})
    return value.strip()


def report(session: Session, *, actor: Actor, event_id: int, signature: signatures.SignatureInput,
           sent_at: Any, sent_to: Any, policy: Policy, now: datetime | None = None) -> SaeReport:
    """The investigator signs the report of a serious event and records when it was sent and to whom."""
    require_role(actor.roles, "investigator", action=N_("report a serious adverse event"))
    now = now or utcnow()
    fields: dict[str, str] = {}
    if signature.meaning != "authored":
        fields["signature.meaning"] = translated(N_("here the meaning must be authored"))
    when = now
    if sent_at not in (None, ""):
        try:
            when = parse_instant(sent_at, "sent_at")
        except Invalid as refusal:
            fields.update(refusal.fields)
        except OverflowError:  # year 1 with a positive offset falls before the first UTC day
            fields["sent_at"] = translated(N_("a time the calendar holds, e.g. 2026-11-25T08:30:00+08:00"))
    try:
        recipient = _recipient(sent_to)
    except Invalid as refusal:
        fields.update(refusal.fields)
    if fields:
        raise Invalid(fields)
    event = events.lock(session, event_id)
    reasons = []
    if not event.serious:
        reasons.append(Reason(EVENT_NOT_SERIOUS, event_id=event_id))
    if when < event.aware_at:
        reasons.append(Reason(SENT_BEFORE_AWARENESS))
    if when > now + CLOCK_SKEW:
        reasons.append(Reason(SENT_IN_FUTURE))
    if signature.username != actor.username:
        reasons.append(Reason(events.SIGNER_NOT_ACTOR))
    if reasons:
        raise Refused(reasons)
    initial = session.exec(select(SaeReport.id).where(SaeReport.event_id == event.id,
                                                      SaeReport.kind == "initial")).first()
    kind = "follow_up" if initial is not None else "initial"
    subject_code = session.get(Subject, event.subject_id).subject_code
    due = clock.due_at(event.aware_at)
    signed = signatures.sign(session, signature, record_type="sae_report", record_id=f"{event.id}-{event.version}",
                             content={**events.content(event, subject_code), "report": kind,
                                      "sent_at": when.isoformat(), "sent_to": recipient},
                             policy=policy, meanings=("authored",), roles=("investigator",),
                             action=N_("report a serious adverse event"))
    row = SaeReport(event_id=event.id, event_version=event.version, kind=kind, due_at=due, sent_at=when,
                    sent_to=recipient, late=kind == "initial" and when > due, signature_id=signed.id,
                    signed_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="sae_report", record_id=row.id, action="send",
                 new={"adverse_event": event.id, "version": event.version, "kind": kind, "due_at": due,
                      "sent_at": when, "sent_to": recipient, "late": row.late, "signature_id": signed.id})
    return row


@dataclass(frozen=True)
class SaeClock:
    """A serious event whose initial report has not been sent: due until 24 h after awareness, then overdue."""

    row: events.EventRow
    due_at: datetime
    state: str
    left: timedelta

    @property
    def overdue(self) -> bool:
        return self.state == clock.OVERDUE

    @property
    def says(self) -> str:
        return clock.describe(self.left)


def clocks(session: Session, *, now: datetime | None = None) -> list[SaeClock]:
    """Every serious event without an initial report, the most urgent first (two statements).

    ``now`` is the clock read; the pages and API pass none (tests inject one)."""
    now = now or utcnow()
    reported = select(SaeReport.event_id).where(SaeReport.kind == "initial")
    rows = events.rows_where(session, AdverseEvent.serious.is_(True), AdverseEvent.id.not_in(reported))
    found = [SaeClock(row, clock.due_at(row.event.aware_at),
                      clock.state(aware_at=row.event.aware_at, sent_at=None, now=now),
                      clock.left(aware_at=row.event.aware_at, now=now)) for row in rows]
    return sorted(found, key=lambda c: (c.due_at, c.row.event.id))
