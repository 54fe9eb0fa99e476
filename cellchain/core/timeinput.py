"""Reading times people and systems send: ISO 8601 with an offset, never a naive wall-clock time; and the
one rule every time a person states obeys (docs/rules.md, "Stated times").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated


def parse_instant(value: Any, field: str) -> datetime:
    """An aware datetime in UTC; a time without an offset is refused, since its zone would be a guess."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid({field: translated(N_("use ISO 8601, e.g. 2026-11-25T08:30:00+08:00"))}) from None
    else:
        raise Invalid({field: translated(N_("use ISO 8601, e.g. 2026-11-25T08:30:00+08:00"))})
    if moment.tzinfo is None:
        raise Invalid({field: translated(N_("give the time with its UTC offset (e.g. +08:00 or Z)"))})
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 or 9999-12-31T23:59-14:00 has no UTC time
        raise Invalid({field: translated(N_("is out of range: give a date from 2000 on"))}) from None


# How far a stated time may run ahead of the server's clock: a ward PC or a scanner a few minutes fast.
CLOCK_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No record of this product predates it: a year typed as 0001 or 1926 is a typing error, never history."""


def stated_time_problems(stated: Mapping[str, datetime | None], *, now: datetime,
                         not_before: Iterable[tuple[str, datetime | None, str]] = ()) -> dict[str, str]:
    """What is wrong with the times a person states, by field: before ``EARLIEST``, later than ``now`` plus
    ``CLOCK_TOLERANCE``, or earlier than a moment of the record's own life (``(field, earliest, what)``:
    a QC test before its sample, a sample before its lot began, an infusion before its allocation; ``what`` is
    marked ``N_`` and worded in the reader's language here). Fields that are None are not stated and not checked."""
    problems: dict[str, str] = {}
    for name, when in stated.items():
        if when is None:
            continue
        if when < EARLIEST:
            problems[name] = translated(N_("cannot be before {year}")).format(year=EARLIEST.year)
        elif when > now + CLOCK_TOLERANCE:
            problems[name] = translated(N_("cannot be in the future"))
    for name, earliest, what in not_before:
        when = stated.get(name)
        if name not in problems and when is not None and earliest is not None and when < earliest:
            problems[name] = translated(N_("cannot be before {what} ({at} UTC)")).format(
                what=translated(what), at=earliest.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    return problems


def check_stated_times(stated: Mapping[str, datetime | None], *, now: datetime,
                       not_before: Iterable[tuple[str, datetime | None, str]] = ()) -> None:
    """Refuse (400, naming each field) times that break :func:`stated_time_problems`."""
    problems = stated_time_problems(stated, now=now, not_before=not_before)
    if problems:
        raise Invalid(problems)
