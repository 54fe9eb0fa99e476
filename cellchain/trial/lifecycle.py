"""A subject's lifecycle: the first infusion, a withdrawal or a death, and the bags they send back to QA
(docs/rules.md, "Trial: the subject's lifecycle"; the moves themselves are ``rules.lifecycle``).

A withdrawal or a death is the investigator's act, signed (meaning ``approved``) by the investigator who
records it. In the same transaction it cancels the subject's remaining infusion visits (and follow-up
visits unless the reason lets follow-up continue), takes each bag allocated to a cancelled visit and not
yet infused off it, records its return to the lab in its chain of custody where it had left the lab, and
opens a ``BagReturn`` that waits for QA's decision: re-released to stock, or discarded. Visits whose
window has already closed are not cancelled: they stay missed, as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.timeinput import check_stated_times
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial import subjects
from cellchain.trial.models import Allocation, BagReturn, Subject, Visit
from cellchain.trial.rules import lifecycle
from cellchain.trial.rules.schedule import INFUSION
from cellchain.ward import custody
from cellchain.ward.models import Infusion

ENDING_ROLES = ("investigator",)
RETURN_ROLES = ("qa",)
LAB = "Cell processing lab"
SIGNER_NOT_ACTOR = "signer_not_actor"
RETURN_DECIDED = "bag_return_decided"
RETURN_BAG_AWAY = "bag_return_not_at_lab"


@dataclass(frozen=True)
class Ended:
    """A withdrawal or death as recorded: the subject, the visits it cancelled and the bags sent back."""

    subject: Subject
    cancelled: list[Visit]
    returns: list[BagReturn]


def enter_treatment(session: Session, *, actor: Actor, subject_id: int, when: datetime) -> None:
    """The first infusion starts: a randomized subject is now on treatment (called by the ward's start)."""
    subject = session.get(Subject, subject_id)
    if subject.status != lifecycle.RANDOMIZED:
        return
    subject.status = lifecycle.move(subject.status, lifecycle.ON_TREATMENT, subject_code=subject.subject_code)
    session.add(subject)
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code, action="start_treatment",
                 old={"status": lifecycle.RANDOMIZED}, new={"status": subject.status, "first_infusion_at": when})


def _when(value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid({"ended_at": translated(N_("give the date and time with its UTC offset"))})
    return value


def end(session: Session, *, actor: Actor, subject_code: str, to: str, reason: Any, note: Any,
        ended_at: Any, signature: signatures.SignatureInput, policy: Policy, timezone: str,
        ranges: Mapping[str, Any]) -> Ended:
    """Withdraw a subject (``to`` withdrawn) or record their death (``to`` died), signed by the investigator."""
    verb = N_("withdraw subjects") if to == lifecycle.WITHDRAWN else N_("record a subject's death")
    require_role(actor.roles, *ENDING_ROLES, action=verb)
    if to not in lifecycle.ENDED:
        raise Invalid({"status": translated(N_("withdrawn or died"))})
    now = utcnow()
    code, words = lifecycle.parse_end(to, reason, note)
    when = _when(ended_at, now)
    subject = subjects.get_subject(session, subject_code, for_update=True)
    # one rule for every moment a person states (docs/rules.md, "Stated times")
    check_stated_times({"ended_at": when}, now=now,
                       not_before=[("ended_at", subject.created_at, N_("the subject was registered"))])
    old = subject.status
    lifecycle.move(old, to, subject_code=subject.subject_code)
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    content = {"subject": subject.subject_code, "status": to, "reason": code, "note": words, "ended_at": when,
               "previous": old}
    signed = signatures.sign(session, signature, record_type="subject", record_id=subject.subject_code,
                             content=content, policy=policy, meanings=("approved",), roles=ENDING_ROLES,
                             action=verb)
    if old == lifecycle.WITHDRAWN:  # a death after a withdrawal keeps the withdrawal's reason in the trail
        trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code,
                     action="withdrawal_superseded", old={"status": old, "end_reason": subject.end_reason,
                                                          "ended_at": subject.ended_at})
    subject.status, subject.ended_at, subject.end_reason, subject.end_note = to, when, code, words
    subject.ended_by, subject.end_signature_id = actor.id, signed.id
    session.add(subject)
    session.flush()
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code,
                 action="withdraw" if to == lifecycle.WITHDRAWN else "death", old={"status": old},
                 new={"status": to, "end_reason": code, "ended_at": when, "signature_id": signed.id},
                 reason=words)
    today = when.astimezone(ZoneInfo(timezone)).date()
    keep_follow_up = lifecycle.follow_up_continues(to, code)
    cancelled, returns = [], []
    why = f"subject {subject.subject_code} {'withdrawn' if to == lifecycle.WITHDRAWN else 'died'} ({code})"
    for visit in _remaining(session, subject, today):
        if visit.kind != INFUSION and keep_follow_up:
            continue
        cancelled.append(_cancel(session, actor=actor, visit=visit, why=why))
        found = _return_bag(session, actor=actor, visit=visit, subject=subject, why=why, ranges=ranges)
        if found is not None:
            returns.append(found)
    return Ended(subject, cancelled, returns)


def _remaining(session: Session, subject: Subject, today: Any) -> list[Visit]:
    """Visits still to happen: planned, window not closed (a closed one stays missed, as it was), and no
    infusion started at it (one under way is completed and recorded as it happened)."""
    started = select(Infusion.visit_id).where(Infusion.subject_id == subject.id)
    statement = (select(Visit).where(Visit.subject_id == subject.id, Visit.status == "planned",
                                     Visit.window_end >= today, Visit.id.not_in(started))
                 .order_by(Visit.target_date, Visit.id).with_for_update())
    return list(session.exec(statement).all())


def _cancel(session: Session, *, actor: Actor, visit: Visit, why: str) -> Visit:
    visit.status = "cancelled"
    session.add(visit)
    trail.record(session, actor=actor, record_type="visit", record_id=visit.id, action="cancel",
                 old={"status": "planned"}, new={"status": "cancelled", "week": visit.week, "kind": visit.kind},
                 reason=why)
    return visit


def _return_bag(session: Session, *, actor: Actor, visit: Visit, subject: Subject, why: str,
                ranges: Mapping[str, Any]) -> BagReturn | None:
    """Take the visit's bag off it (if any, and not infused) and send it back for QA's decision."""
    row = session.exec(select(Allocation).where(Allocation.visit_id == visit.id).with_for_update()).first()
    if row is None:
        return None
    bag = session.get(Bag, row.bag_id)
    infused = session.exec(select(Infusion.id).where(Infusion.bag_id == bag.id)).first()
    if infused is not None or bag.custody_state == "infused":
        return None
    trail.record(session, actor=actor, record_type="allocation", record_id=row.id, action="deallocate",
                 old={"visit_id": visit.id, "week": visit.week, "subject_id": subject.subject_code,
                      "bag_id": bag.bag_code, "weight_kg": row.weight_kg, "required_cells": row.required_cells,
                      "allocated_by": row.allocated_by, "allocated_at": row.allocated_at},
                 new={"reason": why, "back_to_stock": False, "awaiting_qa": True})
    session.delete(row)
    session.flush()
    if bag.custody_state in ("discarded", None):
        return None  # nothing to decide: the bag's chain is already closed
    event = custody.record_return(session, actor=actor, bag=bag, location=LAB, notes=why, ranges=ranges)
    opened = BagReturn(bag_id=bag.id, subject_id=subject.id, visit_id=visit.id, reason=why,
                       custody_event_id=event.id if event is not None else None, opened_by=actor.id)
    session.add(opened)
    session.flush()
    trail.record(session, actor=actor, record_type="bag_return", record_id=opened.id, action="open",
                 new={"bag_id": bag.bag_code, "subject_id": subject.subject_code, "week": visit.week,
                      "status": opened.status, "custody_event_id": opened.custody_event_id}, reason=why)
    return opened


# --- QA's decision on a returned bag ---------------------------------------------------------------------

@dataclass(frozen=True)
class ReturnRow:
    """A returned bag as the QA page and the API list it."""

    bag_return: BagReturn
    bag_code: str
    custody_state: str | None
    subject_code: str
    week: int


def _statement(*conditions: Any) -> Any:
    return (select(BagReturn, Bag.bag_code, Bag.custody_state, Subject.subject_code, Visit.week)
            .join(Bag, Bag.id == BagReturn.bag_id).join(Subject, Subject.id == BagReturn.subject_id)
            .join(Visit, Visit.id == BagReturn.visit_id).where(*conditions).order_by(BagReturn.id))


def _rows(session: Session, *conditions: Any) -> list[ReturnRow]:
    return [ReturnRow(*row) for row in session.exec(_statement(*conditions)).all()]


def returns_page(session: Session, page: db.PageRequest, *, status: str | None = None) -> db.Page:
    """One page of returned bags, oldest first (keyset on the id); ``status`` awaiting_decision narrows it."""
    found = db.keyset(session, _statement(*([BagReturn.status == status] if status else [])), (BagReturn.id,), page)
    return db.Page([ReturnRow(*row) for row in found.rows], found.next_key)


def awaiting_decision(session: Session) -> list[ReturnRow]:
    """Returned bags QA has still to decide on, oldest first (one statement)."""
    return _rows(session, BagReturn.status == "awaiting_decision")


def returns_of(session: Session, subject: Subject) -> list[ReturnRow]:
    return _rows(session, BagReturn.subject_id == subject.id)


def open_return_for(session: Session, bag_id: int) -> BagReturn | None:
    """The bag's return still awaiting QA, if any (allocation refuses such a bag)."""
    return session.exec(select(BagReturn).where(BagReturn.bag_id == bag_id,
                                                BagReturn.status == "awaiting_decision")).first()


def decide_return(session: Session, *, actor: Actor, return_id: int, restock: Any, reason: Any,
                  signature: signatures.SignatureInput, policy: Policy, ranges: Mapping[str, Any]) -> ReturnRow:
    """QA re-releases a returned bag to stock (meaning ``released``) or discards it (``rejected``), signed."""
    require_role(actor.roles, *RETURN_ROLES, action=N_("decide on a returned bag"))
    errors = {}
    if not isinstance(restock, bool):
        errors["decision"] = translated(N_("restock or discard"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        errors["reason"] = translated(N_("say why (up to 500 characters)"))
    if errors:
        raise Invalid(errors)
    row = session.exec(select(BagReturn).where(BagReturn.id == return_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound(f"no returned bag {return_id}")
    bag = session.get(Bag, row.bag_id)
    if row.status != "awaiting_decision":
        raise Refused(Reason(RETURN_DECIDED, bag_code=bag.bag_code, status=row.status))
    if bag.custody_state not in ("at_lab", "in_storage"):
        raise Refused(Reason(RETURN_BAG_AWAY, bag_code=bag.bag_code, custody_state=bag.custody_state))
    meaning = "released" if restock else "rejected"
    signed = signatures.sign(session, signature, record_type="bag_return", record_id=row.id,
                             content={"bag_return": row.id, "bag": bag.bag_code, "decision": meaning,
                                      "reason": reason.strip()},
                             policy=policy, meanings=(meaning,), roles=RETURN_ROLES,
                             action=N_("decide on a returned bag"))
    if not restock:
        custody.record_system_event(session, actor=actor, record=bag, ranges=ranges, handover=custody.Handover(
            event="discarded", location=LAB, notes=f"returned bag discarded by QA: {reason.strip()}"))
    row.status = "restocked" if restock else "discarded"
    row.decided_by, row.decided_at, row.signature_id = actor.id, utcnow(), signed.id
    row.decision_reason = reason.strip()
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="bag_return", record_id=row.id, action="decide",
                 old={"status": "awaiting_decision"}, new={"status": row.status, "bag_id": bag.bag_code,
                                                           "signature_id": signed.id}, reason=reason.strip())
    return _rows(session, BagReturn.id == row.id)[0]
