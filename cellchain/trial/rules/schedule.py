"""The visit schedule a subject follows from day 0 (protocol NCT01690247).

Infusions (UC-MSC or saline) once every 4 weeks from day 0 through week 12, follow-up at weeks 4, 8,
12, 24, 36 and 48. Weeks and windows are parameters because the schedule and the visit windows are site
configuration (``INFUSION_WEEKS``, ``FOLLOW_UP_WEEKS``, ``*_WINDOW_DAYS``); the defaults are the protocol's.

Decisions:

- A visit's window is its target date plus or minus the window, both ends inclusive, but never
  before day 0: treatment starts "from day 0", so the week-0 infusion window opens on day 0 itself.
- Where an infusion and a follow-up fall on the same week, both are planned (they are different acts
  with different records) and the infusion sorts first, the order the ward works in.
- Dates are calendar dates at the site; turning a timestamp into the site's local date is the
  caller's job, so a ``datetime`` is refused here rather than silently cut to its UTC date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from cellchain.core.errors import Invalid, Reason
from cellchain.core.words import N_, translated

INFUSION = "infusion"
FOLLOW_UP = "follow_up"
KINDS = (INFUSION, FOLLOW_UP)


@dataclass(frozen=True)
class PlannedVisit:
    """One visit of the schedule; ``kind`` is ``infusion`` or ``follow_up``, as the JSON API names them."""

    week: int
    kind: str
    target_date: date
    window_start: date
    window_end: date


def plan_visits(
    day0: date,
    *,
    infusion_weeks: Sequence[int] = (0, 4, 8, 12),
    follow_up_weeks: Sequence[int] = (4, 8, 12, 24, 36, 48),
    infusion_window_days: int = 3,
    follow_up_window_days: int = 7,
) -> list[PlannedVisit]:
    """Every planned visit, sorted by target date with infusions before follow-ups on the same day."""
    _check_day(day0, "day0")
    _check_weeks("infusion_weeks", infusion_weeks)
    _check_weeks("follow_up_weeks", follow_up_weeks)
    _check_window("infusion_window_days", infusion_window_days)
    _check_window("follow_up_window_days", follow_up_window_days)
    visits = [_visit(day0, w, INFUSION, infusion_window_days) for w in infusion_weeks]
    visits += [_visit(day0, w, FOLLOW_UP, follow_up_window_days) for w in follow_up_weeks]
    return sorted(visits, key=lambda v: (v.target_date, KINDS.index(v.kind)))


def in_window(visit: PlannedVisit, day: date) -> bool:
    """True when ``day`` lies in the visit's window, both ends included (docs/rules.md, "Trial: visits")."""
    _check_day(day, "day")
    return visit.window_start <= day <= visit.window_end


def timing_of(visit: PlannedVisit, when_date: date) -> str:
    """``early``, ``in_window`` or ``late``: how a visit recorded on ``when_date`` stands to its window.

    A visit done out of window is still recorded (nothing is hidden), flagged as a protocol deviation.
    """
    _check_day(when_date, "when_date")
    if when_date < visit.window_start:
        return "early"
    if when_date > visit.window_end:
        return "late"
    return "in_window"


def visit_status(visit: PlannedVisit, *, today: date, done: bool) -> str:
    """``done``, ``missed`` (window closed and not done) or ``planned`` (still possible)."""
    _check_day(today, "today")
    if done:
        return "done"
    if today > visit.window_end:
        return "missed"
    return "planned"


def _visit(day0: date, week: int, kind: str, window_days: int) -> PlannedVisit:
    target = day0 + timedelta(weeks=week)
    start = max(day0, target - timedelta(days=window_days))
    return PlannedVisit(week, kind, target, start, target + timedelta(days=window_days))


def _check_day(value: object, name: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise Invalid({name: translated(N_("must be a calendar date (not a date-time)"))})


def _check_weeks(name: str, weeks: Sequence[int]) -> None:
    bad = [w for w in weeks if isinstance(w, bool) or not isinstance(w, int) or w < 0]
    if bad or len(set(weeks)) != len(weeks):
        raise Invalid({name: translated(N_("must be distinct whole weeks, 0 or more"))})


def _check_window(name: str, days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise Invalid({name: translated(N_("must be a whole number of days, 0 or more"))})


def planned_time(day: date, clock: str, tz: tzinfo) -> datetime:
    """``day`` at the site's ``clock`` ("HH:MM", the site setting ``INFUSION_PLANNED_TIME``), zone-aware."""
    try:
        hours, minutes = (int(part) for part in clock.split(":"))
        return datetime.combine(day, time(hours, minutes), tzinfo=tz)
    except ValueError:
        raise Invalid({"INFUSION_PLANNED_TIME": translated(N_(
            "{clock!r} is not a time HH:MM")).format(
            clock=clock)}) from None


def planning_reasons(visit: PlannedVisit, planned_local: datetime, *, done: bool) -> list[Reason]:
    """Why an infusion cannot be planned at ``planned_local`` (the site's wall clock), or ``[]``.

    Only an infusion visit has a planned time, only while it has not happened, and only inside its
    window: a time outside it would plan a protocol deviation.
    """
    reasons = []
    if visit.kind != INFUSION:
        reasons.append(Reason("not_infusion_visit", week=visit.week))
    if done:
        reasons.append(Reason("visit_already_done", week=visit.week))
    if not in_window(visit, planned_local.date()):
        reasons.append(Reason("planned_outside_window", planned_local=planned_local, week=visit.week,
                              window_start=visit.window_start, window_end=visit.window_end))
    return reasons
