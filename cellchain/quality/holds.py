"""Holds: a released lot stopped by an out-of-specification result that came after its release.

A 48-hour product is released on rapid tests and its 14-day sterility culture is read after release
(USP <71>, Ph. Eur. 2.6.1, 2.6.27). When such a result, or any result recorded after release, is out
of specification, ``raise_for_result`` holds the lot in the result's own transaction, tells every QA
reviewer and investigator (``notices.inbox``), and from then on every bag of the lot not yet infused is
refused by name at allocation, dispatch and the bedside (``refusals``; the bedside reads the open hold
in its one statement). Only QA lifts a hold, with an e-signature and a reason (``lift``). The hold page
lists every subject already infused from the lot, whom the treating physician must follow up.
docs/rules.md, "Quality: holds".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.manufacturing.models import Bag, Lot
from cellchain.notices import inbox
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import lineage
from cellchain.quality.models import Hold, QcResult
from cellchain.quality.rules import holds as hold_rules
from cellchain.trial.models import Subject, Visit
from cellchain.ward.models import Infusion

HOLD_NOT_OPEN = "hold_not_open"
SIGNER_NOT_ACTOR = "signer_not_actor"
NOTIFIED_ROLES = ("qa", "investigator")
MAX_REASON = 2000


def descendants_of(session: Session, lot_id: int) -> list[int]:
    """The lots a hold on ``lot_id`` also covers, the lot itself first: a bank's lot holds every lot
    thawed from its vials, tier by tier (``lineage.descendants``)."""
    return lineage.descendants(session, lot_id)


def open_holds(session: Session, lot_ids: Sequence[int]) -> dict[int, Hold]:
    """Which of these lots are held, with the open hold of each: one statement for any number of lots."""
    if not lot_ids:
        return {}
    statement = select(Hold).where(Hold.lot_id.in_(list(set(lot_ids))), Hold.lifted_at.is_(None))
    return {row.lot_id: row for row in session.exec(statement)}


def refusals(session: Session, bags: Sequence[Bag]) -> list[Reason]:
    """A ``lot_on_hold`` reason for every bag whose lot is held (allocation and dispatch refuse with them)."""
    held = open_holds(session, [b.lot_id for b in bags if b.lot_id is not None])
    if not held:
        return []
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_(list(held)))).all())
    return [hold_rules.on_hold(numbers[b.lot_id], held[b.lot_id].id, held[b.lot_id].cause, b.bag_code)
            for b in bags if b.lot_id in held]


def refuse_if_held(session: Session, bag: Bag) -> None:
    reasons = refusals(session, [bag])
    if reasons:
        raise Refused(reasons)


def raise_for_result(session: Session, *, actor: Actor, lot: Lot, result: QcResult, test_name: str) -> list[Hold]:
    """Hold the lot (and every lot the seam says descends from it) for an out-of-specification result
    recorded after release; notify QA and the investigators in the same transaction."""
    cause = hold_rules.cause_of(result.id, test_name, result.value, result.limit_text)
    covered = descendants_of(session, lot.id)
    already = open_holds(session, covered)
    raised = []
    for lot_id in covered:
        if lot_id in already:
            continue  # one open hold per lot: the earlier hold already stops its bags
        row = Hold(lot_id=lot_id, qc_result_id=result.id, cause=cause[:300], raised_by=actor.id)
        session.add(row)
        session.flush()
        trail.record(session, actor=actor, record_type="hold", record_id=row.id, action="raise",
                     new={"lot_id": lot_id, "qc_result": result.id, "cause": row.cause}, reason=cause)
        raised.append(row)
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_([r.lot_id for r in raised])))
                   .all()) if raised else {}
    for row in raised:
        number = numbers[row.lot_id]
        origin = "" if row.lot_id == lot.id else f" Its cells come from the cell bank of lot {lot.lot_number}."
        inbox.notify(session, roles=NOTIFIED_ROLES, kind=hold_rules.LOT_ON_HOLD,
                     subject=f"HOLD on released lot {number}: {result.test_code} out of specification",
                     body=(f"Lot {number} is on hold (hold {row.id}). {cause}.{origin} Bags still in stock are "
                           "refused at allocation, dispatch and the bedside. Subjects already infused from this "
                           "lot are listed on the hold page for the treating physician."),
                     link=f"/qa/holds/{row.id}")
    return raised


def content(hold: Hold) -> dict[str, Any]:
    """What the lifting signature signs: the hold as raised."""
    return {"hold": hold.id, "lot_id": hold.lot_id, "qc_result": hold.qc_result_id, "cause": hold.cause,
            "raised_at": hold.raised_at, "raised_by": hold.raised_by}


def _lock(session: Session, hold_id: int) -> Hold:
    statement = (select(Hold).where(Hold.id == hold_id).with_for_update()
                 .execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no hold {hold_id}")
    return row


def lift(session: Session, *, actor: Actor, hold_id: int, signature: signatures.SignatureInput, reason: Any,
         policy: Policy) -> Hold:
    """QA lifts a hold with an e-signature (meaning ``approved``) and a reason; audited."""
    require_role(actor.roles, "qa", action="lift a hold")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise Invalid({"reason": f"say why the hold is lifted (up to {MAX_REASON} characters)"})
    if signature.meaning != "approved":
        raise Invalid({"signature.meaning": "here the meaning must be approved"})
    row = _lock(session, hold_id)
    if row.lifted_at is not None:
        raise Refused(Reason(HOLD_NOT_OPEN, hold_id=hold_id))
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    signed = signatures.sign(session, signature, record_type="hold", record_id=row.id, content=content(row),
                             policy=policy, meanings=("approved",), roles=("qa",), action="lift a hold")
    row.lifted_at, row.lifted_by = signed.signed_at, actor.id
    row.lift_signature_id, row.lift_reason = signed.id, reason.strip()
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="hold", record_id=row.id, action="lift",
                 old={"lifted_at": None}, new={"lifted_at": row.lifted_at, "signature_id": signed.id},
                 reason=row.lift_reason)
    return row


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InfusedSubject:
    """A subject already infused from the held lot: whom the treating physician must follow up."""

    subject_code: str
    week: int
    bag_code: str
    started_at: datetime


@dataclass(frozen=True)
class HoldDetail:
    hold: Hold
    lot: Lot
    result: QcResult
    infused: list[InfusedSubject]
    in_stock: list[Bag]
    signature: Signature | None

    @property
    def open(self) -> bool:
        return self.hold.lifted_at is None


def infused_from(session: Session, lot_id: int) -> list[InfusedSubject]:
    statement = (select(Subject.subject_code, Visit.week, Bag.bag_code, Infusion.started_at)
                 .join(Bag, Bag.id == Infusion.bag_id).join(Subject, Subject.id == Infusion.subject_id)
                 .join(Visit, Visit.id == Infusion.visit_id)
                 .where(Bag.lot_id == lot_id).order_by(Infusion.started_at, Infusion.id))
    return [InfusedSubject(*row) for row in session.exec(statement).all()]


def detail(session: Session, hold_id: int) -> HoldDetail:
    row = session.get(Hold, hold_id)
    if row is None:
        raise NotFound(f"no hold {hold_id}")
    infused = infused_from(session, row.lot_id)
    done = {i.bag_code for i in infused}
    bags = session.exec(select(Bag).where(Bag.lot_id == row.lot_id).order_by(Bag.division, Bag.id))
    signature = session.get(Signature, row.lift_signature_id) if row.lift_signature_id else None
    return HoldDetail(row, session.get(Lot, row.lot_id), session.get(QcResult, row.qc_result_id), infused,
                      [b for b in bags if b.bag_code not in done], signature)


def listing(session: Session, *, open_only: bool = False, lot_id: int | None = None) -> list[tuple[Hold, str]]:
    """Holds, newest first, each with its lot's number."""
    statement = _holds(open_only, lot_id).order_by(Hold.id.desc())
    return [(hold, number) for hold, number in session.exec(statement).all()]


def page_of(session: Session, page: db.PageRequest) -> db.Page:
    """One page of every hold, newest first (keyset on the id), each with its lot's number."""
    return db.keyset(session, _holds(False, None), (Hold.id,), page, descending=True)


def _holds(open_only: bool, lot_id: int | None) -> Any:
    statement = select(Hold, Lot.lot_number).join(Lot, Lot.id == Hold.lot_id)
    if open_only:
        statement = statement.where(Hold.lifted_at.is_(None))
    if lot_id is not None:
        statement = statement.where(Hold.lot_id == lot_id)
    return statement

