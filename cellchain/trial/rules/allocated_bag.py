"""Whether a bag already allocated to an infusion visit can still be given at it (docs/rules.md, "Trial:
allocation follows reality").

Allocation checks the bag once (``trial/allocation.py``); afterwards the bag may be discarded, its
temperature excursion rejected by QA (which discards it), its lot rejected or held, or the infusion planned
past its expiry. Each is a named reason in words, shown on the coordinator's dashboard and the subject's
page, so the visit is given a replacement bag before the day, not found out at the bedside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cellchain.core.errors import Reason

BAG_DISCARDED = "allocated_bag_discarded"
BAG_REJECTED = "allocated_bag_rejected"
BAG_EXPIRES = "allocated_bag_expires_before_infusion"
BAG_ON_HOLD = "allocated_bag_lot_on_hold"


@dataclass(frozen=True)
class InDateUntil:
    """When a visit's bag must still be in date: ``until`` (UTC) is the infusion's planned time, or for a visit
    not planned yet the end of its window's last day at the site (``trial/allocation.py:in_date_until``).

    A reason names the limit by a variant of its template and plain values, never by a phrase of its own, so
    it reads in the reader's language; ``planned_at`` is in the site's zone, written with its offset."""

    until: datetime
    week: int
    planned_at: datetime | None
    window_end: date

    @property
    def variant(self) -> str:
        """``""`` for the planned infusion, ``"window"`` for the end of an unplanned visit's window."""
        return "" if self.planned_at is not None else "window"

    @property
    def params(self) -> dict[str, Any]:
        """The values the variant's template names."""
        if self.planned_at is not None:
            return {"week": self.week, "planned_at": self.planned_at}
        return {"week": self.week, "window_end": self.window_end}


def problems(*, bag_code: str, custody_state: str | None, quality_status: str, expires_at: datetime,
             must_last_until: InDateUntil, hold_messages: Sequence[str] = ()) -> list[Reason]:
    """Every reason the allocated bag can no longer be infused at its visit; empty while it still can.

    ``must_last_until``: the infusion's planned time (or the end of its window); ``hold_messages``: one per
    open hold on the bag's lot (``quality/holds.py``)."""
    reasons = []
    if custody_state == "discarded":
        reasons.append(Reason(BAG_DISCARDED, bag_code=bag_code))
    if quality_status == "rejected":
        reasons.append(Reason(BAG_REJECTED, bag_code=bag_code))
    if expires_at < must_last_until.until:
        reasons.append(Reason(BAG_EXPIRES, variant=must_last_until.variant, bag_code=bag_code,
                              **must_last_until.params))
    reasons += [Reason(BAG_ON_HOLD, hold=message) for message in hold_messages]
    return reasons
