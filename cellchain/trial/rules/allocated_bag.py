"""Whether a bag already allocated to an infusion visit can still be given at it (docs/rules.md, "Trial:
allocation follows reality").

Allocation checks the bag once (``trial/allocation.py``); afterwards the bag may be discarded, its
temperature excursion rejected by QA (which discards it), its lot rejected or held, or the infusion planned
past its expiry. Each is a named reason in words, shown on the coordinator's dashboard and the subject's
page, so the visit is given a replacement bag before the day, not found out at the bedside.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cellchain.core.errors import Reason

BAG_DISCARDED = "allocated_bag_discarded"
BAG_REJECTED = "allocated_bag_rejected"
BAG_EXPIRES = "allocated_bag_expires_before_infusion"
BAG_ON_HOLD = "allocated_bag_lot_on_hold"


def problems(*, bag_code: str, custody_state: str | None, quality_status: str, expires_at: datetime,
             must_last_until: datetime, until_words: str, hold_messages: Sequence[str] = ()) -> list[Reason]:
    """Every reason the allocated bag can no longer be infused at its visit; empty while it still can.

    ``must_last_until``: the infusion's planned time (or the end of its window) in UTC, ``until_words`` the
    same in words; ``hold_messages``: one per open hold on the bag's lot (``quality/holds.py``)."""
    reasons = []
    if custody_state == "discarded":
        reasons.append(Reason(BAG_DISCARDED, bag_code=bag_code))
    if quality_status == "rejected":
        reasons.append(Reason(BAG_REJECTED, bag_code=bag_code))
    if expires_at < must_last_until:
        reasons.append(Reason(BAG_EXPIRES, bag_code=bag_code, until_words=until_words))
    reasons += [Reason(BAG_ON_HOLD, hold=message) for message in hold_messages]
    return reasons
