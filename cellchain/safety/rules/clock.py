"""The serious-adverse-event reporting clock (docs/rules.md, "Safety: the SAE reporting clock").

An investigator reports a serious adverse event to the sponsor immediately, and at the latest 24 hours after
becoming aware of it (ICH E6(R2) 4.11.1; ICH E2A III.A; the protocol's safety reporting section). The clock
starts at awareness, not at onset or at confirmation: a serious event recorded as a draft is already due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cellchain.core.words import N_, translated

REPORT_WITHIN = timedelta(hours=24)

DUE, OVERDUE, SENT, SENT_LATE = "due", "overdue", "sent", "sent_late"


def due_at(aware_at: datetime) -> datetime:
    """When the initial report must have been sent: awareness plus 24 hours."""
    return aware_at + REPORT_WITHIN


def state(*, aware_at: datetime, sent_at: datetime | None, now: datetime) -> str:
    """``due`` until the deadline, ``overdue`` after it; once sent, ``sent`` or ``sent_late``."""
    deadline = due_at(aware_at)
    if sent_at is not None:
        return SENT if sent_at <= deadline else SENT_LATE
    return OVERDUE if now > deadline else DUE


def left(*, aware_at: datetime, now: datetime) -> timedelta:
    """Time left before the deadline (negative once overdue)."""
    return due_at(aware_at) - now


def describe(remaining: timedelta) -> str:
    """"due in 5 h 20 min" / "overdue by 2 h 05 min", as the dashboards say it."""
    minutes = int(abs(remaining).total_seconds() // 60)
    text = f"{minutes // 60} h {minutes % 60:02d} min"
    words = N_("due in {time}") if remaining.total_seconds() >= 0 else N_("overdue by {time}")
    return translated(words).format(time=text)
