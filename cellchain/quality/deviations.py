"""Deviations: opened (by QA, or automatically by an out-of-specification result), investigated,
decided by QA (accept with a justification, or reject), and closed with a QA e-signature.

The moves are a table (``MOVES``); any other move is refused with a reason that names the status the
move needs. Only a deviation that is closed and decided ``accept`` lets its test's out-of-specification
result stand at release (``spec_limits.release_gaps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.core.words.sentences import Sentence, sentence
from cellchain.manufacturing.models import Lot
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import specifications
from cellchain.quality.models import DEVIATION_STATUSES, Deviation, DeviationSequence, QcResult

KINDS = ("oos", "excursion", "procedural")
DECISIONS = ("accept", "reject")
# move -> (status it needs, status it leaves, reason code when the deviation is elsewhere)
MOVES: dict[str, tuple[str, str, str]] = {
    "investigate": ("open", "investigated", "deviation_not_open"),
    "decide": ("investigated", "decided", "deviation_not_investigated"),
    "close": ("decided", "closed", "deviation_not_decided"),
}
SIGNER_NOT_ACTOR = "signer_not_actor"
MAX_TEXT = 4000


def _locked_sequence(session: Session, year: int) -> DeviationSequence:
    statement = (select(DeviationSequence).where(DeviationSequence.year == year)
                 .with_for_update().execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is not None:
        return row
    try:  # the first deviation of a year: two requests may both try to open the year's row
        with session.begin_nested():
            session.add(DeviationSequence(year=year, last_number=0))
    except IntegrityError:
        pass
    return session.exec(statement).one()


def _next_number(session: Session, tz: ZoneInfo | None) -> str:
    """DEV-YYYY-NNNN, the year in the site's zone; drawn under a row lock, so never issued twice."""
    year = utcnow().astimezone(tz or UTC).year
    row = _locked_sequence(session, year)
    row.last_number += 1
    session.add(row)
    session.flush()
    return f"DEV-{year}-{row.last_number:04d}"


def _text(value: Any, name: str, fields: dict[str, str], *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            fields[name] = translated(N_("required"))
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        fields[name] = translated(N_("text of up to {max_text} characters")).format(max_text=MAX_TEXT)
        return None
    return value.strip()


def _create(session: Session, *, actor: Actor | None, lot: Lot | None, kind: str, description: str | Sentence,
            test_code: str | None = None, qc_result_id: int | None = None,
            tz: ZoneInfo | None = None, how: str = "open") -> Deviation:
    """A deviation; a ``Sentence`` the system wrote keeps its code and values, read in each reader's language,
    beside its words for ``actor`` (what the trail binds); text a person typed is kept as typed."""
    written = description if isinstance(description, Sentence) else None
    text = written.said if written else description
    row = Deviation(number=_next_number(session, tz), lot_id=lot.id if lot else None, qc_result_id=qc_result_id,
                    kind=kind, test_code=test_code, description=text,
                    description_code=written.code if written else None,
                    description_values=dict(written.values) if written else None,
                    opened_by=actor.id if actor else None)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="deviation", record_id=row.id, action=how,
                 new={"number": row.number, "lot": lot.lot_number if lot else None, "kind": kind,
                      "test": test_code, "qc_result": qc_result_id, "description": text,
                      "description_code": row.description_code, "status": "open"})
    return row


def open_for_result(session: Session, *, actor: Actor, lot: Lot, result: QcResult, test_name: str,
                    tz: ZoneInfo | None = None) -> Deviation:
    """Opened automatically when a result is out of specification (called by ``qc.record_result``)."""
    value = f"{result.value} {result.unit}" if result.unit and _numeric(result.value) else result.value
    return _create(session, actor=actor, lot=lot, kind="oos", test_code=result.test_code, qc_result_id=result.id,
                   description=sentence("oos_result", id=result.id, test_name=test_name, value=value,
                                        limit=result.limit_text), tz=tz, how="open_automatic")


def _numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def open_deviation(session: Session, *, actor: Actor, kind: str, description: Any, lot_number: str | None = None,
                   test_code: str | None = None, tz: ZoneInfo | None = None) -> Deviation:
    """QA opens a deviation by hand (a procedural lapse, an excursion, an OOS seen elsewhere)."""
    require_role(actor.roles, "qa", action=N_("open a deviation"))
    fields: dict[str, str] = {}
    if kind not in KINDS:
        fields["kind"] = translated(N_("one of {choices}")).format(choices=', '.join(KINDS))
    text = _text(description, "description", fields)
    for name, value in (("lot_id", lot_number), ("test", test_code)):
        if value is not None and not isinstance(value, str):
            fields[name] = translated(N_("give it as text"))
    if fields:
        raise Invalid(fields)
    lot = None
    if lot_number:
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_number)).first()
        if lot is None:
            raise NotFound(f"no lot {lot_number}")
    if test_code:
        if lot is None:
            raise Invalid({"test": translated(N_("a deviation about a test names its lot"))})
        test_code = specifications.for_lot(session, lot).find(test_code).code
    return _create(session, actor=actor, lot=lot, kind=kind, description=text, test_code=test_code or None, tz=tz)


def get(session: Session, number: str) -> Deviation:
    row = session.exec(select(Deviation).where(Deviation.number == number)).first()
    if row is None:
        raise NotFound(f"no deviation {number}")
    return row


def lot_exists(session: Session, lot_number: str) -> bool:
    """Whether a lot of that number exists (a refused deviation form goes back to the lot's page)."""
    return session.exec(select(Lot.id).where(Lot.lot_number == lot_number)).first() is not None


def lot_of(session: Session, row: Deviation) -> Lot | None:
    return session.get(Lot, row.lot_id) if row.lot_id else None


def for_result(session: Session, result: QcResult) -> Deviation | None:
    """The deviation an out-of-specification result opened, if any."""
    return session.exec(select(Deviation).where(Deviation.qc_result_id == result.id)).first()


def numbers_by_result(session: Session, result_ids: list[int]) -> dict[int, str]:
    """The number of the deviation each of these results opened, by result id (one query)."""
    if not result_ids:
        return {}
    statement = select(Deviation.qc_result_id, Deviation.number).where(Deviation.qc_result_id.in_(result_ids))
    return dict(session.exec(statement).all())


@dataclass(frozen=True)
class LotDeviation:
    """A deviation as the API answers it: with the number of its lot (None for one about no lot)."""

    deviation: Deviation
    lot_number: str | None


def with_lot_numbers(session: Session, rows: list[Deviation]) -> list[LotDeviation]:
    """The deviations with their lots' numbers, read in one query for all of them."""
    lot_ids = sorted({row.lot_id for row in rows if row.lot_id is not None})
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids))).all()) if lot_ids else {}
    return [LotDeviation(row, numbers.get(row.lot_id)) for row in rows]


def _lock_for(session: Session, number: str, move: str) -> Deviation:
    """The deviation, row-locked, if it is where ``move`` may start; otherwise a named refusal."""
    statement = select(Deviation).where(Deviation.number == number).with_for_update()
    row = session.exec(statement.execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound(f"no deviation {number}")
    needs, _leaves, code = MOVES[move]
    if row.status != needs:
        raise Refused(Reason(code, number=number, status=row.status, move=move, needs=needs))
    return row


def _move(session: Session, *, actor: Actor, row: Deviation, move: str, changes: dict[str, Any],
          reason: str | None = None) -> Deviation:
    old = {"status": row.status, **{name: getattr(row, name) for name in changes}}
    for name, value in changes.items():
        setattr(row, name, value)
    row.status = MOVES[move][1]
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="deviation", record_id=row.id, action=move, old=old,
                 new={"status": row.status, **changes}, reason=reason)
    return row


def investigate(session: Session, *, actor: Actor, number: str, root_cause: Any, impact: Any) -> Deviation:
    """QA records the root cause and the impact on the product (open -> investigated)."""
    require_role(actor.roles, "qa", action=N_("investigate a deviation"))
    fields: dict[str, str] = {}
    cause, effect = _text(root_cause, "root_cause", fields), _text(impact, "impact", fields)
    if fields:
        raise Invalid(fields)
    row = _lock_for(session, number, "investigate")
    return _move(session, actor=actor, row=row, move="investigate", changes={"root_cause": cause, "impact": effect})


def decide(session: Session, *, actor: Actor, number: str, decision: Any, justification: Any) -> Deviation:
    """QA accepts (with a justification) or rejects (investigated -> decided)."""
    require_role(actor.roles, "qa", action=N_("decide a deviation"))
    fields: dict[str, str] = {}
    if decision not in DECISIONS:
        fields["decision"] = translated(N_("accept or reject"))
    text = _text(justification, "justification", fields, required=decision == "accept")
    if fields:
        raise Invalid(fields)
    row = _lock_for(session, number, "decide")
    return _move(session, actor=actor, row=row, move="decide", reason=text,
                 changes={"decision": decision, "justification": text, "decided_by": actor.id})


def content(session: Session, row: Deviation) -> dict[str, Any]:
    """What the closing signature signs: the deviation as decided."""
    lot = session.get(Lot, row.lot_id) if row.lot_id else None
    return {"deviation": row.number, "lot": lot.lot_number if lot else None, "kind": row.kind, "test": row.test_code,
            "qc_result": row.qc_result_id, "description": row.description, "root_cause": row.root_cause,
            "impact": row.impact, "decision": row.decision, "justification": row.justification}


def close(session: Session, *, actor: Actor, number: str, signature: signatures.SignatureInput,
          policy: Policy) -> Deviation:
    """QA closes a decided deviation with an e-signature meaning ``closed`` (decided -> closed)."""
    require_role(actor.roles, "qa", action=N_("close a deviation"))
    row = _lock_for(session, number, "close")
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    signed = signatures.sign(session, signature, record_type="deviation", record_id=row.id,
                             content=content(session, row), policy=policy, meanings=("closed",), roles=("qa",),
                             action=N_("close a deviation"))
    return _move(session, actor=actor, row=row, move="close",
                 changes={"closed_at": signed.signed_at, "closing_signature_id": signed.id})


def listing(session: Session, *, status: str | None = None, lot: Lot | None = None) -> list[Deviation]:
    """Deviations, newest first; ``status`` one of DEVIATION_STATUSES, or ``open`` ... ``not_closed``."""
    return list(session.exec(_deviations(status, lot).order_by(Deviation.id.desc())))


def page_of(session: Session, page: db.PageRequest, *, status: str | None = None, lot: Lot | None = None) -> db.Page:
    """One page of ``listing``, newest first (keyset on the id)."""
    return db.keyset(session, _deviations(status, lot), (Deviation.id,), page, descending=True)


def _deviations(status: str | None, lot: Lot | None) -> Any:
    statement = select(Deviation)
    if status == "not_closed":
        statement = statement.where(Deviation.status != "closed")
    elif status:
        if status not in DEVIATION_STATUSES:
            raise Invalid({"status": translated(N_(
                "one of {choices} or not_closed")).format(
                choices=', '.join(DEVIATION_STATUSES))})
        statement = statement.where(Deviation.status == status)
    if lot is not None:
        statement = statement.where(Deviation.lot_id == lot.id)
    return statement


def accepted_test_codes(rows: list[Deviation]) -> set[str]:
    """Tests whose out-of-specification result QA accepted in a closed deviation."""
    return {r.test_code for r in rows if r.status == "closed" and r.decision == "accept" and r.test_code}
