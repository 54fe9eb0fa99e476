"""Adverse events: record, amend, confirm (signed), and read them (docs/rules.md, "Safety: adverse events").

Who does what: the investigator records, amends, confirms with an e-signature and reports; the coordinator
may record a draft and amend it until it is confirmed; QA and the auditor read. Every change writes a new
version row and an audit entry in the same transaction. A serious event (any ICH E2A criterion) starts the
sponsor reporting clock at awareness and tells the investigators and QA (``sae``, ``notices.inbox``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.core.words.moments import site_clock
from cellchain.notices import inbox
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.safety.models import AdverseEvent, AdverseEventVersion, SaeReport
from cellchain.safety.rules import assessment, clock
from cellchain.safety.rules.assessment import Assessment
from cellchain.safety.rules.summary import Counted
from cellchain.safety.rules.terms import FATAL_GRADE
from cellchain.trial import subjects
from cellchain.trial.models import Subject, Visit
from cellchain.trial.rules.lifecycle import DIED
from cellchain.ward.models import Infusion

RECORDERS = ("investigator", "coordinator")
READERS = ("investigator", "coordinator", "qa", "auditor")
RECORD_TYPE = "adverse_event"
SAE_NOTICE = "sae_clock"
MAX_REASON = 2000
EVENT_ALREADY_CONFIRMED = "event_already_confirmed"
EVENT_NOT_DRAFT = "event_not_draft"
INFUSION_OF_ANOTHER_SUBJECT = "infusion_of_another_subject"
AWARENESS_AFTER_REPORT = "awareness_after_report"
SIGNER_NOT_ACTOR = "signer_not_actor"
DEATH_PATH_ACTION = N_("death: the subject's withdrawal/death path must be recorded")
"""The open action a grade-5 event leaves for the investigator until the subject's death is recorded
(the subject's lifecycle records it; ``death_paths_open`` is where the action then closes)."""


# --- the record's shape -------------------------------------------------------------------------------

def assessment_of(event: AdverseEvent) -> Assessment:
    return Assessment(term=event.term, category=event.category, description=event.description,
                      onset_on=event.onset_on, resolved_on=event.resolved_on, grade=event.grade,
                      seriousness=tuple(event.seriousness or ()), causality=event.causality,
                      expectedness=event.expectedness, action_taken=event.action_taken, outcome=event.outcome,
                      biopsy_proven=event.biopsy_proven, rejection_treatment=event.rejection_treatment,
                      aware_at=event.aware_at)


def _apply(event: AdverseEvent, values: Assessment) -> None:
    for name in assessment.FIELDS:
        value = getattr(values, name)
        setattr(event, name, list(value) if name == "seriousness" else value)
    event.serious, event.special_interest = values.serious, values.special_interest


def content(event: AdverseEvent, subject_code: str) -> dict[str, Any]:
    """What a signature on the event binds: the event, its version and its whole assessment."""
    return {"adverse_event": event.id, "version": event.version, "subject": subject_code,
            "infusion": event.infusion_id, **assessment_of(event).as_record()}


def _save_version(session: Session, *, actor: Actor, event: AdverseEvent, reason: str | None,
                  at: datetime) -> None:
    session.add(AdverseEventVersion(event_id=event.id, version=event.version, status=event.status,
                                    values=assessment_of(event).as_record(), changed_by=actor.id, changed_at=at,
                                    reason=reason))
    session.flush()


def _same_words(typed: Any, shown: str | None) -> bool:
    return isinstance(typed, str) and shown is not None and \
        typed.replace("\r\n", "\n").strip() == shown.replace("\r\n", "\n").strip()


def _reason(value: Any, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid({"reason": translated(N_(
                "say why the confirmed assessment changes (it is signed again after)"))})
        return None
    if not isinstance(value, str) or len(value) > MAX_REASON:
        raise Invalid({"reason": translated(N_("up to {max_reason} characters")).format(max_reason=MAX_REASON)})
    return value.strip()


def _infusion_id(session: Session, value: Any, subject: Subject) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise Invalid({"infusion_id": translated(N_("the id of the subject's infusion the event followed, or empty"))})
    infusion = session.get(Infusion, value)
    if infusion is None:
        raise Invalid({"infusion_id": translated(N_("no infusion {value}")).format(value=value)})
    if infusion.subject_id != subject.id:
        raise Refused(Reason(INFUSION_OF_ANOTHER_SUBJECT, infusion_id=value))
    return infusion.id


def _check(values: Assessment, *, now: datetime, timezone: str) -> None:
    reasons = assessment.conflicts(values, now=now, site_today=now.astimezone(ZoneInfo(timezone)).date())
    if reasons:
        raise Refused(reasons)


def _tell_if_newly_serious(session: Session, event: AdverseEvent, subject_code: str, *, was_serious: bool,
                           timezone: str) -> None:
    """A serious event starts the reporting clock: the investigators and QA are told at once, with the deadline."""
    if was_serious or not event.serious:
        return
    due = clock.due_at(event.aware_at).astimezone(ZoneInfo(timezone))
    values = {"id": event.id, "subject": subject_code, "term": event.term, "due": site_clock(due, due.tzinfo),
              "criteria": ", ".join(event.seriousness), "due_at": site_clock(due, due.tzinfo),
              "aware": site_clock(event.aware_at, due.tzinfo)}
    inbox.notify(session, roles=("investigator", "qa"), kind=SAE_NOTICE,  # worded in each recipient's language
                 subject=lambda: _("SAE %(id)s: %(subject)s %(term)s: report to the sponsor by %(due)s", **values),
                 body=lambda: _(
                     "Adverse event %(id)s of %(subject)s (%(term)s) is serious (%(criteria)s). The site became aware "
                     "at %(aware)s; the initial report to the sponsor is due within 24 hours, by %(due_at)s. The "
                     "investigator signs it on the event's page.", **values),
                 link=f"/safety/events/{event.id}")


# --- changing ------------------------------------------------------------------------------------------

def record(session: Session, *, actor: Actor, subject_code: Any, data: Mapping[str, Any], timezone: str,
           now: datetime | None = None) -> AdverseEvent:
    """Record an adverse event of a subject as a draft (the investigator confirms it, signed)."""
    require_role(actor.roles, *RECORDERS, action=N_("record an adverse event"))
    now = now or utcnow()
    if not isinstance(subject_code, str) or not subject_code.strip() or len(subject_code) > 20:
        raise Invalid({"subject_id": translated(N_("the subject's id, e.g. SUBJ-0001"))})
    subject = subjects.get_subject(session, subject_code.strip())
    values = assessment.read(data, now=now)
    infusion_id = _infusion_id(session, data.get("infusion_id"), subject)
    _check(values, now=now, timezone=timezone)
    event = AdverseEvent(subject_id=subject.id, infusion_id=infusion_id, recorded_by=actor.id, recorded_at=now,
                         aware_at=values.aware_at, term=values.term, category=values.category)
    _apply(event, values)
    session.add(event)
    session.flush()
    _save_version(session, actor=actor, event=event, reason=None, at=now)
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=event.id, action="record",
                 new={"subject": subject.subject_code, "infusion": infusion_id, "status": event.status,
                      "version": event.version, **values.as_record()})
    _tell_if_newly_serious(session, event, subject.subject_code, was_serious=False, timezone=timezone)
    return event


def lock(session: Session, event_id: int) -> AdverseEvent:
    """The event, its row locked until the transaction ends (two amendments queue)."""
    statement = (select(AdverseEvent).where(AdverseEvent.id == event_id).with_for_update()
                 .execution_options(populate_existing=True))
    event = session.exec(statement).first()
    if event is None:
        raise NotFound(f"no adverse event {event_id}")
    return event


def _has_report(session: Session, event_id: int) -> bool:
    return session.exec(select(SaeReport.id).where(SaeReport.event_id == event_id)).first() is not None


def amend(session: Session, *, actor: Actor, event_id: int, data: Mapping[str, Any], timezone: str,
          now: datetime | None = None) -> AdverseEvent:
    """Change the fields ``data`` names. The coordinator amends drafts only; the investigator amends any event,
    a confirmed one with a reason, after which it is a draft again until signed anew (the signature bound the
    old version). Awareness is fixed once a report was sent: the clock it started has been answered."""
    require_role(actor.roles, *RECORDERS, action=N_("amend an adverse event"))
    now = now or utcnow()
    event = lock(session, event_id)
    if event.status == "confirmed" and "investigator" not in actor.roles:
        raise Refused(Reason(EVENT_ALREADY_CONFIRMED, event_id=event_id))
    reason = _reason(data.get("reason"), required=event.status == "confirmed")
    before = assessment_of(event)
    fields = {name: value for name, value in data.items() if name not in ("reason", "infusion_id")}
    if event.description_code and "description" in fields and _same_words(fields["description"],
                                                                           event.description_text):
        # A drafted sentence sent back as this reader was shown it (the form shows it in their language) is
        # unchanged: it keeps its code and the words the trail bound (docs/architecture.md, "Languages").
        fields["description"] = event.description
    values = assessment.read(fields, base=before, now=now)
    subject = session.get(Subject, event.subject_id)
    infusion_id = _infusion_id(session, data["infusion_id"], subject) if "infusion_id" in data else event.infusion_id
    _check(values, now=now, timezone=timezone)
    if values.aware_at != before.aware_at and _has_report(session, event.id):
        raise Refused(Reason(AWARENESS_AFTER_REPORT))
    old_record, old_status, was_serious = before.as_record(), event.status, event.serious
    old_code = event.description_code
    _apply(event, values)
    if event.description != before.description:  # typed now: it reads as typed, for every reader
        event.description_code = event.description_values = None
    event.infusion_id = infusion_id
    event.version += 1
    event.status = "draft"
    event.confirmed_by = event.confirmed_at = event.confirm_signature_id = None
    session.add(event)
    session.flush()
    _save_version(session, actor=actor, event=event, reason=reason, at=now)
    new_record = values.as_record()
    changed = sorted(name for name in new_record if new_record[name] != old_record[name])
    coded = {} if old_code == event.description_code else {"description_code": event.description_code}
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=event.id, action="amend",
                 old={"status": old_status, **{name: old_record[name] for name in changed},
                      **({"description_code": old_code} if coded else {})},
                 new={"status": event.status, "version": event.version, "infusion": infusion_id,
                      **{name: new_record[name] for name in changed}, **coded}, reason=reason)
    _tell_if_newly_serious(session, event, subject.subject_code, was_serious=was_serious, timezone=timezone)
    return event


def confirm(session: Session, *, actor: Actor, event_id: int, signature: signatures.SignatureInput,
            policy: Policy) -> AdverseEvent:
    """The investigator confirms a complete draft with an e-signature (meaning ``approved``)."""
    require_role(actor.roles, "investigator", action=N_("confirm an adverse event"))
    if signature.meaning != "approved":
        raise Invalid({"signature.meaning": translated(N_("here the meaning must be approved"))})
    event = lock(session, event_id)
    if event.status != "draft":
        raise Refused(Reason(EVENT_NOT_DRAFT, event_id=event_id, version=event.version))
    missing = assessment.missing_for_confirmation(assessment_of(event))
    if missing:
        raise Refused(assessment.incomplete(missing))
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    subject = session.get(Subject, event.subject_id)
    signed = signatures.sign(session, signature, record_type=RECORD_TYPE, record_id=event.id,
                             content=content(event, subject.subject_code), policy=policy, meanings=("approved",),
                             roles=("investigator",), action=N_("confirm an adverse event"))
    event.status, event.confirmed_by, event.confirmed_at = "confirmed", actor.id, signed.signed_at
    event.confirm_signature_id = signed.id
    session.add(event)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=event.id, action="confirm",
                 old={"status": "draft"}, new={"status": "confirmed", "version": event.version,
                                               "signature_id": signed.id})
    return event


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EventRow:
    """An event with the subject, arm and infusion week it belongs to, as the lists show it."""

    event: AdverseEvent
    subject_code: str
    arm: str | None
    week: int | None  # the week of the infusion visit it followed, if linked
    subject_status: str | None = None  # where the subject stands (trial/rules/lifecycle.py): died closes the path

    def counted(self) -> Counted:
        e = self.event
        return Counted(self.arm, e.subject_id, e.grade, e.serious, e.causality, e.special_interest)

    @property
    def death_path_open(self) -> bool:
        """A fatal event waits for the investigator to record the subject's death (subject page)."""
        return self.event.grade == FATAL_GRADE and self.subject_status != DIED

    @property
    def open_actions(self) -> list[str]:
        """What the investigator still has to do about this event."""
        actions = []
        if self.event.status == "draft":
            actions.append(translated(N_("confirm: assess and sign the event")))
        if self.death_path_open:
            actions.append(translated(DEATH_PATH_ACTION))
        return actions


def rows_where(session: Session, *conditions: Any) -> list[EventRow]:
    """Events meeting ``conditions`` with their subject, arm and infusion week, in one statement."""
    statement = (select(AdverseEvent, Subject.subject_code, Subject.arm, Visit.week, Subject.status)
                 .join(Subject, Subject.id == AdverseEvent.subject_id)
                 .outerjoin(Infusion, Infusion.id == AdverseEvent.infusion_id)
                 .outerjoin(Visit, Visit.id == Infusion.visit_id)
                 .where(*conditions).order_by(Subject.subject_code, AdverseEvent.onset_on, AdverseEvent.id))
    return [EventRow(*row) for row in session.exec(statement)]


def listing(session: Session, *, subject_code: str | None = None, status: str | None = None) -> list[EventRow]:
    """Every adverse event (of one subject, or in one status), by subject and onset: one statement."""
    conditions = []
    if subject_code:
        conditions.append(AdverseEvent.subject_id == subjects.get_subject(session, subject_code).id)
    if status:
        conditions.append(AdverseEvent.status == status)
    return rows_where(session, *conditions)


def drafts_to_confirm(session: Session) -> list[EventRow]:
    """Drafts awaiting the investigator's assessment and signature (the investigator's dashboard)."""
    return rows_where(session, AdverseEvent.status == "draft")


def death_paths_open(session: Session) -> list[EventRow]:
    """Grade-5 events whose subject's death is not yet recorded: each leaves the investigator the open action
    DEATH_PATH_ACTION until it is (the subject's page records it; docs/rules.md, "Safety")."""
    return rows_where(session, AdverseEvent.grade == FATAL_GRADE, Subject.status != DIED)


@dataclass(frozen=True)
class VersionLine:
    version: AdverseEventVersion
    changed_by: str


@dataclass(frozen=True)
class EventDetail:
    """One event with everything its page and the API show."""

    row: EventRow
    recorded_by: User
    confirmed_by: User | None
    signature: Signature | None
    signature_matches: bool | None  # the confirmed record is still what was signed
    versions: list[VersionLine]
    reports: list[SaeReport]

    @property
    def event(self) -> AdverseEvent:
        return self.row.event

    @property
    def subject_code(self) -> str:
        return self.row.subject_code

    @property
    def arm(self) -> str | None:
        return self.row.arm

    @property
    def week(self) -> int | None:
        return self.row.week

    @property
    def open_actions(self) -> list[str]:
        return self.row.open_actions

    @property
    def report_due_at(self) -> datetime | None:
        return clock.due_at(self.event.aware_at) if self.event.serious else None

    @property
    def clock_now(self) -> str | None:
        return self.clock(utcnow())

    def clock(self, now: datetime) -> str | None:
        """Where the reporting clock stands (None for a non-serious event with no report)."""
        initial = next((r for r in self.reports if r.kind == "initial"), None)
        if not self.event.serious and initial is None:
            return None
        return clock.state(aware_at=self.event.aware_at, sent_at=initial.sent_at if initial else None, now=now)


def detail(session: Session, event_id: int) -> EventDetail:
    rows = rows_where(session, AdverseEvent.id == event_id)
    if not rows:
        raise NotFound(f"no adverse event {event_id}")
    event = rows[0].event
    signature = session.get(Signature, event.confirm_signature_id) if event.confirm_signature_id else None
    versions = session.exec(select(AdverseEventVersion, User.username)
                            .join(User, User.id == AdverseEventVersion.changed_by)
                            .where(AdverseEventVersion.event_id == event_id).order_by(AdverseEventVersion.version))
    reports = list(session.exec(select(SaeReport).where(SaeReport.event_id == event_id).order_by(SaeReport.id)))
    return EventDetail(rows[0], session.get(User, event.recorded_by),
                       session.get(User, event.confirmed_by) if event.confirmed_by else None, signature,
                       None if signature is None else signatures.still_matches(signature,
                                                                               content(event, rows[0].subject_code)),
                       [VersionLine(*v) for v in versions], reports)
