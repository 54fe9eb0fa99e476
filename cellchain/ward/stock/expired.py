"""Expired bags: the list of those still in stock, and their discard, several at once with one reason.

A bag past its expiry may not be given (docs/rules.md, "Ward: the bedside check"); until it is discarded it
still counts as stock in the accountability report and the alerts. The discard is the custody hand-over
``discarded`` (``custody.record_handover``: the state machine, a custody event and its audit entry per
bag) plus an audit entry on the bag naming the reason, all in one transaction: one refused bag refuses
them all. A bag allocated to a subject's visit is refused by name until the coordinator takes it off the
visit (``trial/deallocation.py``), so a visit never silently loses its bag. Bank vials carry no expiry
(``banking/models.py``), so only bags are listed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.ward import custody

BAG_NOT_EXPIRED = "bag_not_expired"
EXPIRED_BAG_ALLOCATED = "expired_bag_allocated"
DISCARDERS = custody.RECORDING_ROLES
# Where each role keeps bags: the lab its own and the stores, the ward what was dispatched to it; QA sees all.
STATES_BY_ROLE: Mapping[str, tuple[str, ...]] = {"lab": ("at_lab", "in_storage"),
                                                 "nurse": ("dispatched", "at_ward"),
                                                 "qa": ("at_lab", "in_storage", "dispatched", "at_ward")}
MAX_BAGS = 200
MAX_REASON = 500


@dataclass(frozen=True)
class ExpiredBag:
    """An expired bag still in stock, and the visit it is allocated to (subject code and week), if any."""

    bag: Bag
    subject_code: str | None
    week: int | None


def states_for(roles: frozenset[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(state for role in sorted(roles) for state in STATES_BY_ROLE.get(role, ())))


def expired_stock(session: Session, *, actor: Actor, now: datetime | None = None,
                  limit: int = MAX_BAGS) -> list[ExpiredBag]:
    """Expired bags in the places the person's roles keep, soonest expired first, at most ``limit``."""
    states = states_for(actor.roles)
    if not states:
        return []
    statement = (select(Bag, Subject.subject_code, Visit.week)
                 .outerjoin(Allocation, Allocation.bag_id == Bag.id)
                 .outerjoin(Visit, Visit.id == Allocation.visit_id).outerjoin(Subject, Subject.id == Visit.subject_id)
                 .where(Bag.custody_state.in_(states), Bag.expires_at <= (now or utcnow()))
                 .order_by(Bag.expires_at, Bag.id).limit(limit))
    return [ExpiredBag(bag, code, week) for bag, code, week in session.exec(statement).all()]


def _inputs(bag_codes: Any, reason: Any, location: Any) -> tuple[list[str], str, str]:
    fields = {}
    codes = list(dict.fromkeys(c.strip() for c in bag_codes if isinstance(c, str) and c.strip())) \
        if isinstance(bag_codes, list | tuple) else []
    if not codes:
        fields["bags"] = translated(N_("choose the expired bags to discard"))
    elif len(codes) > MAX_BAGS:
        fields["bags"] = translated(N_("at most {max_bags} bags at once")).format(max_bags=MAX_BAGS)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        fields["reason"] = translated(N_(
            "say why the bags are discarded (up to {max_reason} characters)")).format(
            max_reason=MAX_REASON)
    if not isinstance(location, str) or not location.strip() or len(location) > 200:
        fields["location"] = translated(N_("say where the bags are discarded"))
    if fields:
        raise Invalid(fields)
    return codes, reason.strip(), location.strip()


def discard_expired(session: Session, *, actor: Actor, bag_codes: Sequence[str], reason: str, location: str,
                    ranges: Mapping[str, Any], timezone: str, now: datetime | None = None) -> list[Bag]:
    """Discard the named expired bags in one transaction, each with its custody event and audit entries
    (``timezone``: the site's, in which a refusal names a bag's expiry)."""
    require_role(actor.roles, *DISCARDERS, action=N_("discard expired bags"))
    codes, reason, location = _inputs(bag_codes, reason, location)
    now = now or utcnow()
    bags = {bag.bag_code: bag for bag in session.exec(select(Bag).where(Bag.bag_code.in_(codes)))}
    unknown = [code for code in codes if code not in bags]
    if unknown:
        raise Invalid({"bags": translated(N_("no bag {codes} here")).format(codes=", ".join(unknown[:5]))})
    allocated = {bag_id: (subject, week) for bag_id, subject, week in session.exec(
        select(Allocation.bag_id, Subject.subject_code, Visit.week).join(Visit, Visit.id == Allocation.visit_id)
        .join(Subject, Subject.id == Visit.subject_id)
        .where(Allocation.bag_id.in_([bag.id for bag in bags.values()]))).all()}
    reasons = []
    for code in codes:
        bag = bags[code]
        if bag.expires_at > now:
            reasons.append(Reason(BAG_NOT_EXPIRED, bag_code=code,
                                  expires_at=bag.expires_at.astimezone(ZoneInfo(timezone))))
        if bag.id in allocated:
            subject_code, week = allocated[bag.id]
            reasons.append(Reason(EXPIRED_BAG_ALLOCATED, bag_code=code, subject_code=subject_code, week=week))
    if reasons:
        raise Refused(reasons)
    done = []
    for code in codes:
        bag = bags[code]
        before = bag.custody_state
        custody.record_handover(session, actor=actor, record=bag, ranges=ranges,
                                handover=custody.Handover(event="discarded", location=location, notes=reason))
        trail.record(session, actor=actor, record_type="bag", record_id=bag.id, action="discard_expired",
                     reason=reason, old={"custody_state": before},
                     new={"custody_state": "discarded", "expired_at": bag.expires_at, "location": location})
        done.append(bag)
    return done
