"""Thawing a cryopreserved bag, on the ward or in the lab (docs/rules.md, "Frozen bags and the thaw").

A frozen bag keeps its frozen expiry (``FROZEN_SHELF_LIFE_DAYS`` from its freezing). Once thawed the
cells must be infused within ``THAWED_SHELF_LIFE_HOURS`` (never later than the frozen expiry), so the
thaw sets the bag's new expiry and, in the same transaction, prints its new label (kind ``thawed_bag``,
the bag layout): a label whose 2D code carries the thawed expiry. The bedside accepts only that label
for a thawed bag (``rules/bedside_checks.thaw_label_matches``): the frozen label, whose expiry is
months away, must never pass for the thawed bag.

One transaction: the bag's thaw time, who thawed it and its new expiry, its audit entry, the custody
event ``thawed`` (the bag stays where it is) and the printed label's record with its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.identifiers.scans import scanned_bag_id
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, LabelPrint
from cellchain.people.rules.roles import Actor, require_role
from cellchain.ward import custody
from cellchain.ward.rules import custody_states

THAW_ROLES = ("nurse", "lab")
THAW_LABEL = "thawed_bag"
# codes of core/words/labels.py PLACES, worded when shown
WHERE = {"at_ward": "ward", "at_lab": "cell_processing_lab"}


@dataclass(frozen=True)
class Thawed:
    """A thawed bag and the record of the label printed for it."""

    bag: Bag
    label: LabelPrint


def thawed_expiry(thawed_at: datetime, *, thawed_life: timedelta, frozen_expires_at: datetime) -> datetime:
    """The thawed shelf life from the thaw, never beyond the frozen expiry; to the minute, rounded down
    (labels print minutes, and rounding down never extends a shelf life)."""
    return min(thawed_at + thawed_life, frozen_expires_at).replace(second=0, microsecond=0)


def _when(value: Any, now: datetime) -> datetime:
    if value in (None, ""):
        return now
    when = value if isinstance(value, datetime) else parse_instant(value, "thawed_at")
    if when.tzinfo is None:
        raise Invalid({"thawed_at": translated(N_("give the time with its UTC offset"))})
    check_stated_times({"thawed_at": when}, now=now)
    return when


def _reasons(bag: Bag, when: datetime) -> list[Reason]:
    if bag.preservation != "cryopreserved":
        return [Reason("bag_not_frozen", bag_code=bag.bag_code)]
    if bag.thawed_at is not None:
        return [Reason("bag_already_thawed", bag_code=bag.bag_code)]
    reasons = []
    if bag.quality_status == "rejected":
        reasons.append(Reason("bag_rejected", bag_code=bag.bag_code))
    if (bag.custody_state, "thawed") not in custody_states.TRANSITIONS["bag"]:
        reasons.append(custody_states.impossible_move("bag", bag.custody_state, "thawed"))
    if bag.frozen_at is not None and when < bag.frozen_at:
        reasons.append(Reason("thaw_before_freezing", bag_code=bag.bag_code))
    if bag.frozen_expires_at is not None and bag.frozen_expires_at <= when:
        reasons.append(Reason("frozen_bag_expired", bag_code=bag.bag_code))
    return reasons


def thaw(session: Session, *, actor: Actor, bag_scan: Any, thawed_life: timedelta, labels: LabelSettings,
         thawed_at: Any = None, location: Any = None) -> Thawed:
    """Record the thaw of the scanned frozen bag, set its thawed expiry and print its new label."""
    require_role(actor.roles, *THAW_ROLES, action=N_("thaw a bag"))
    errors: dict[str, str] = {}
    code = when = None
    try:
        code = scanned_bag_id(bag_scan, tz=ZoneInfo(labels.timezone), field="bag")
    except Invalid as bad:
        errors.update(bad.fields)
    try:
        when = _when(thawed_at, utcnow())
    except Invalid as bad:
        errors.update(bad.fields)
    if location not in (None, "") and (not isinstance(location, str) or len(location.strip()) > 120):
        errors["location"] = translated(N_("say where (up to 120 characters)"))
    if errors:
        raise Invalid(errors)
    bag = lookups.bag_by_code(session, code, for_update=True)
    reasons = _reasons(bag, when)
    if reasons:
        raise Refused(reasons)
    old = {"expires_at": bag.expires_at, "thawed_at": None}
    bag.thawed_at, bag.thawed_by = when, actor.id
    bag.expires_at = thawed_expiry(when, thawed_life=thawed_life, frozen_expires_at=bag.frozen_expires_at)
    session.add(bag)
    session.flush()
    trail.record(session, actor=actor, record_type="bag", record_id=bag.id, action="thaw", old=old,
                 new={"bag_id": bag.bag_code, "thawed_at": when, "expires_at": bag.expires_at,
                      "frozen_expires_at": bag.frozen_expires_at})
    place = location.strip() if isinstance(location, str) and location.strip() else WHERE[bag.custody_state]
    custody.record_system_event(session, actor=actor, record=bag, ranges={},
                                handover=custody.Handover(event="thawed", location=place, occurred_at=when))
    label = print_jobs.record_label(session, actor=actor, kind=THAW_LABEL, record=bag, settings=labels)
    return Thawed(bag, label)


def thaw_label_of(session: Session, bag: Bag) -> LabelPrint | None:
    """The label printed at the bag's thaw, if it was thawed (for the page that offers its document)."""
    rows = print_jobs.target_history(session, "bag", bag.bag_code)
    return next((row for row in rows if row.label_kind == THAW_LABEL), None)
