"""The register of clinical protocol deviations (docs/rules.md, "Clinical protocol deviations").

What happened to a subject against the protocol, apart from the lots' manufacturing deviations
(``quality/deviations.py``). A deviation is opened

- by the system where it sees one, in the transaction of the act that shows it (``open_automatically``, called
  with plain values and its description as a ``Sentence``, read in each reader's language): a visit marked
  missed (``mark_visit_missed``), a partial infusion (``ward.infusions.complete``), an infusion start refused
  at the bedside for the wrong subject or product or a dose outside tolerance (``ward.infusions.start``,
  written with the refused attempt);
- by hand by the coordinator or an investigator (``open_by_hand``), such as an infusion visit that must happen
  outside its window.

The investigator approves or rejects an open deviation with an e-signature (meanings ``approved`` and
``rejected``); a decided one is then closed with a note. An approved ``out_of_window`` deviation of an infusion
visit allows that one infusion outside the window: the bedside reads it (``ward/bedside_facts.py``), and the
start writes its infusion into the deviation, so it never allows a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.core.words.sentences import Sentence, sentence
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.safety.models import CLINICAL_DEVIATION_KINDS, CLINICAL_DEVIATION_STATUSES, ClinicalDeviation
from cellchain.trial import subjects, visits
from cellchain.trial.models import Subject, Visit
from cellchain.trial.rules.schedule import INFUSION

RECORD_TYPE = "clinical_deviation"
READERS = ("investigator", "coordinator", "qa", "auditor")
OPENERS = ("coordinator", "investigator")
DECIDERS = ("investigator",)
CLOSERS = ("investigator", "coordinator")
DECISIONS = {"approved": "approved", "rejected": "rejected"}  # the signature's meaning -> the status it leaves
DECISION_ACTIONS = {"approved": "approve", "rejected": "reject"}
MAX_TEXT = 2000
OUT_OF_WINDOW = "out_of_window"
NOT_CLOSED = "not_closed"
SIGNER_NOT_ACTOR = "signer_not_actor"


def number(row_id: int) -> str:
    """How a deviation is named to people: CD-<id> (manufacturing deviations are DEV-YYYY-NNNN)."""
    return f"CD-{row_id}"


# --- opening ---------------------------------------------------------------------------------------------

def _text(value: Any, name: str, fields: dict[str, str], *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            fields[name] = translated(N_("say what happened, in words"))
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        fields[name] = translated(N_("text of at most {max_text} characters")).format(max_text=MAX_TEXT)
        return None
    return value.strip()


def _write(session: Session, *, actor: Actor, row: ClinicalDeviation, subject_code: str) -> ClinicalDeviation:
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=row.id, action="open",
                 new={"subject": subject_code, "visit_id": row.visit_id, "infusion_id": row.infusion_id,
                      "bag_id": row.bag_id, "kind": row.kind, "description": row.description,
                      "description_code": row.description_code, "automatic": row.automatic, "status": row.status})
    return row


def open_automatically(session: Session, *, actor: Actor, subject_id: int, subject_code: str, kind: str,
                       description: Sentence, visit_id: int | None = None, infusion_id: int | None = None,
                       bag_id: int | None = None, at: datetime | None = None) -> ClinicalDeviation:
    """The system opens a deviation it saw in ``actor``'s act, in that act's transaction; plain values only, so
    the ward and the trial call it without this module reading their records. The description is kept as its
    code and values (read in each reader's language) and as worded for ``actor`` (what the trail binds)."""
    row = ClinicalDeviation(subject_id=subject_id, visit_id=visit_id, infusion_id=infusion_id, bag_id=bag_id,
                            kind=kind, description=description.said[:MAX_TEXT], description_code=description.code,
                            description_values=dict(description.values), automatic=True, opened_by=actor.id,
                            opened_at=at or utcnow())
    return _write(session, actor=actor, row=row, subject_code=subject_code)


def open_by_hand(session: Session, *, actor: Actor, subject_code: Any, kind: Any, description: Any,
                 visit_id: Any = None) -> ClinicalDeviation:
    """The coordinator or an investigator opens a deviation the system could not see.

    An ``out_of_window`` deviation names an infusion visit not yet done: once approved it allows that visit's
    one infusion outside the window. One such deviation, open or approved and unused, per visit.
    """
    require_role(actor.roles, *OPENERS, action=N_("open a clinical protocol deviation"))
    fields: dict[str, str] = {}
    if kind not in CLINICAL_DEVIATION_KINDS:
        fields["kind"] = translated(N_("one of {choices}")).format(choices=', '.join(CLINICAL_DEVIATION_KINDS))
    text = _text(description, "description", fields)
    if not isinstance(subject_code, str) or not subject_code.strip():
        fields["subject_id"] = translated(N_("the subject's id (SUBJ-0001)"))
    visit_number = _visit_id(visit_id, fields)
    if kind == OUT_OF_WINDOW and visit_number is None and "visit_id" not in fields:
        fields["visit_id"] = translated(N_("the infusion visit that is to happen outside its window"))
    if fields:
        raise Invalid(fields)
    subject = subjects.get_subject(session, subject_code.strip())
    visit = None
    if visit_number is not None:
        visit = visits.get_visit(session, visit_number, for_update=True)
        if visit.subject_id != subject.id:
            raise Refused(Reason("visit_of_another_subject", visit_id=visit_number, subject_code=subject.subject_code))
    if kind == OUT_OF_WINDOW:
        _check_window_allowance(session, visit)
    row = ClinicalDeviation(subject_id=subject.id, visit_id=visit.id if visit else None, kind=kind, description=text,
                            automatic=False, opened_by=actor.id)
    return _write(session, actor=actor, row=row, subject_code=subject.subject_code)


def _visit_id(value: Any, fields: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        fields["visit_id"] = translated(N_("the id of one of the subject's visits, or empty"))
        return None
    return value


def _check_window_allowance(session: Session, visit: Visit) -> None:
    reasons = []
    if visit.kind != INFUSION:
        reasons.append(Reason("not_infusion_visit", week=visit.week))
    if visit.status == "done":
        reasons.append(Reason("clinical_deviation_visit_done", week=visit.week))
    if visit.status == visits.MARKED_MISSED:
        reasons.append(Reason("visit_marked_missed", week=visit.week))
    existing = session.exec(select(ClinicalDeviation).where(
        ClinicalDeviation.visit_id == visit.id, ClinicalDeviation.kind == OUT_OF_WINDOW,
        ClinicalDeviation.status.in_(("open", "approved")), ClinicalDeviation.infusion_id.is_(None))).first()
    if existing is not None:
        reasons.append(Reason("clinical_deviation_exists", id=existing.id, week=visit.week, status=existing.status))
    if reasons:
        raise Refused(reasons)


def mark_visit_missed(session: Session, *, actor: Actor, visit_id: int, reason: Any, timezone: str,
                      now: datetime | None = None) -> ClinicalDeviation:
    """The coordinator marks a visit missed (``trial.visits.mark_missed``, with the reason), which opens its
    ``missed_visit`` deviation in the same transaction."""
    visit = visits.mark_missed(session, actor=actor, visit_id=visit_id, reason=reason, timezone=timezone, now=now)
    subject = session.get(Subject, visit.subject_id)
    words = "missed_visit:infusion" if visit.kind == INFUSION else "missed_visit:follow_up"
    return open_automatically(
        session, actor=actor, subject_id=subject.id, subject_code=subject.subject_code, kind="missed_visit",
        visit_id=visit.id, at=now,
        description=sentence(words, week=visit.week, start=visit.window_start, end=visit.window_end,
                             reason=reason.strip()))


# Built once, Core only: the bedside check opens these beside its attempt, on the connection it writes with.
_OPEN_OF_KIND = select(ClinicalDeviation.__table__.c.id).where(
    ClinicalDeviation.__table__.c.subject_id == bindparam("subject_id"),
    ClinicalDeviation.__table__.c.kind == bindparam("kind"),
    ClinicalDeviation.__table__.c.bag_id == bindparam("bag_id"),
    ClinicalDeviation.__table__.c.status == "open").limit(1)
_INSERT = insert(ClinicalDeviation.__table__)


def open_once(session: Session, *, actor: Actor, subject_id: int, subject_code: str, kind: str,
              description: Sentence, visit_id: int | None, bag_id: int) -> int | None:
    """Open a deviation the bedside saw, unless one of this kind for this subject and bag is still open: a nurse
    who scans the wrong bag twice made one deviation, not two. Returns the new deviation's id, or None."""
    connection = session.connection()
    if connection.execute(_OPEN_OF_KIND, {"subject_id": subject_id, "kind": kind, "bag_id": bag_id}).all():
        return None
    values = {"subject_id": subject_id, "visit_id": visit_id, "infusion_id": None, "bag_id": bag_id, "kind": kind,
              "description": description.said[:MAX_TEXT], "description_code": description.code,
              "description_values": dict(description.values), "automatic": True, "status": "open",
              "opened_by": actor.id, "opened_at": utcnow()}
    row_id = connection.execute(_INSERT, values).inserted_primary_key[0]
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=row_id, action="open",
                 new={"subject": subject_code, "visit_id": visit_id, "infusion_id": None, "bag_id": bag_id,
                      "kind": kind, "description": values["description"], "description_code": description.code,
                      "automatic": True, "status": "open"})
    return row_id


def allowance_used(session: Session, *, actor: Actor, deviation_id: int, infusion_id: int, bag_id: int) -> None:
    """The infusion an approved ``out_of_window`` deviation allowed has started: it is written in, so the
    deviation allows no other (called by ``ward.infusions.start`` in its transaction)."""
    row = session.get(ClinicalDeviation, deviation_id)
    row.infusion_id, row.bag_id = infusion_id, bag_id
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=row.id, action="infusion_allowed",
                 old={"infusion_id": None}, new={"infusion_id": infusion_id, "bag_id": bag_id})


# --- deciding and closing --------------------------------------------------------------------------------

def lock(session: Session, deviation_id: int) -> ClinicalDeviation:
    statement = (select(ClinicalDeviation).where(ClinicalDeviation.id == deviation_id).with_for_update()
                 .execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no clinical deviation {deviation_id}")
    return row


def content(session: Session, row: ClinicalDeviation) -> dict[str, Any]:
    """What the investigator's signature binds: the deviation as it stands when decided."""
    subject = session.get(Subject, row.subject_id)
    return {"clinical_deviation": row.id, "subject": subject.subject_code, "visit": row.visit_id,
            "infusion": row.infusion_id, "bag": row.bag_id, "kind": row.kind, "description": row.description,
            "automatic": row.automatic, "opened_at": row.opened_at.isoformat()}


def decide(session: Session, *, actor: Actor, deviation_id: int, signature: signatures.SignatureInput,
           note: Any, policy: Policy) -> ClinicalDeviation:
    """The investigator approves (meaning ``approved``) or rejects (``rejected``, with a note) an open deviation."""
    require_role(actor.roles, *DECIDERS, action=N_("decide a clinical protocol deviation"))
    fields: dict[str, str] = {}
    if signature.meaning not in DECISIONS:
        fields["signature.meaning"] = translated(N_("approved or rejected"))
    text = _text(note, "note", fields, required=signature.meaning == "rejected")
    if fields:
        raise Invalid(fields)
    row = lock(session, deviation_id)
    if row.status != "open":
        raise Refused(Reason("clinical_deviation_not_open", id=row.id, status=row.status))
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    signed = signatures.sign(session, signature, record_type=RECORD_TYPE, record_id=row.id,
                             content=content(session, row), policy=policy, meanings=tuple(DECISIONS),
                             roles=DECIDERS, action=N_("decide a clinical protocol deviation"))
    row.status, row.decided_by, row.decided_at = DECISIONS[signature.meaning], actor.id, signed.signed_at
    row.decision_signature_id, row.decision_note = signed.id, text
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=row.id,
                 action=DECISION_ACTIONS[signature.meaning], old={"status": "open"},
                 new={"status": row.status, "signature_id": signed.id, "note": text}, reason=text)
    return row


def close(session: Session, *, actor: Actor, deviation_id: int, note: Any) -> ClinicalDeviation:
    """The investigator or the coordinator closes a decided deviation, saying what was done about it."""
    require_role(actor.roles, *CLOSERS, action=N_("close a clinical protocol deviation"))
    fields: dict[str, str] = {}
    text = _text(note, "note", fields)
    if fields:
        raise Invalid(fields)
    row = lock(session, deviation_id)
    if row.status not in DECISIONS.values():
        raise Refused(Reason("clinical_deviation_not_decided", id=row.id, status=row.status))
    old = row.status
    row.status, row.closed_by, row.closed_at, row.closing_note = "closed", actor.id, utcnow(), text
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=row.id, action="close",
                 old={"status": old}, new={"status": "closed", "note": text}, reason=text)
    return row


# --- reading ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviationRow:
    """A deviation with what a list shows of it: the subject's code and the visit's week."""

    deviation: ClinicalDeviation
    subject_code: str
    week: int | None

    @property
    def number(self) -> str:
        return number(self.deviation.id)


@dataclass(frozen=True)
class DeviationDetail:
    """One deviation with the people and the signature it names (its page and the API)."""

    deviation: ClinicalDeviation
    subject_code: str
    visit: Visit | None
    opened_by: User
    decided_by: User | None
    signature: Signature | None
    closed_by: User | None

    @property
    def number(self) -> str:
        return number(self.deviation.id)

    @property
    def week(self) -> int | None:
        return self.visit.week if self.visit else None

    @property
    def decider(self) -> str | None:
        """The deciding investigator's username (None while open)."""
        return self.decided_by.username if self.decided_by else None

    @property
    def closer(self) -> str | None:
        return self.closed_by.username if self.closed_by else None


def _rows() -> Any:
    return (select(ClinicalDeviation, Subject.subject_code, Visit.week)
            .join(Subject, Subject.id == ClinicalDeviation.subject_id)
            .outerjoin(Visit, Visit.id == ClinicalDeviation.visit_id))


def _filtered(*, status: str | None, kind: str | None, subject: Subject | None) -> Any:
    statement = _rows()
    fields: dict[str, str] = {}
    if status == NOT_CLOSED:
        statement = statement.where(ClinicalDeviation.status != "closed")
    elif status:
        if status not in CLINICAL_DEVIATION_STATUSES:
            fields["status"] = translated(N_(
                "one of {choices} or {not_closed}")).format(
                choices=', '.join(CLINICAL_DEVIATION_STATUSES), not_closed=NOT_CLOSED)
        statement = statement.where(ClinicalDeviation.status == status)
    if kind:
        if kind not in CLINICAL_DEVIATION_KINDS:
            fields["kind"] = translated(N_("one of {choices}")).format(choices=', '.join(CLINICAL_DEVIATION_KINDS))
        statement = statement.where(ClinicalDeviation.kind == kind)
    if fields:
        raise Invalid(fields)
    if subject is not None:
        statement = statement.where(ClinicalDeviation.subject_id == subject.id)
    return statement


def page_of(session: Session, page: db.PageRequest, *, status: str | None = None, kind: str | None = None,
            subject_code: str | None = None) -> db.Page:
    """One page of the register, newest first (keyset on the id), filtered by status, kind and subject."""
    subject = subjects.get_subject(session, subject_code) if subject_code else None
    found = db.keyset(session, _filtered(status=status, kind=kind, subject=subject), (ClinicalDeviation.id,), page,
                      descending=True)
    return db.Page([DeviationRow(*row) for row in found.rows], found.next_key)


def of_subject(session: Session, subject: Subject) -> list[DeviationRow]:
    """Every deviation of the subject, newest first (the subject's page): one statement."""
    statement = _filtered(status=None, kind=None, subject=subject).order_by(ClinicalDeviation.id.desc())
    return [DeviationRow(*row) for row in session.exec(statement)]


def not_closed(session: Session, *, limit: int = 20) -> tuple[list[DeviationRow], int]:
    """The newest deviations still open or awaiting closure, and how many there are (the dashboards)."""
    statement = _filtered(status=NOT_CLOSED, kind=None, subject=None)
    rows = [DeviationRow(*row) for row in session.exec(statement.order_by(ClinicalDeviation.id.desc()).limit(limit))]
    total = session.exec(select(func.count()).select_from(ClinicalDeviation)
                         .where(ClinicalDeviation.status != "closed")).one()
    return rows, total


def detail(session: Session, deviation_id: int) -> DeviationDetail:
    row = session.get(ClinicalDeviation, deviation_id)
    if row is None:
        raise NotFound(f"no clinical deviation {deviation_id}")
    return DeviationDetail(
        row, session.get(Subject, row.subject_id).subject_code,
        session.get(Visit, row.visit_id) if row.visit_id else None, session.get(User, row.opened_by),
        session.get(User, row.decided_by) if row.decided_by else None,
        session.get(Signature, row.decision_signature_id) if row.decision_signature_id else None,
        session.get(User, row.closed_by) if row.closed_by else None)
