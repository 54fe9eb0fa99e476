"""Instruments as plain values: their kinds, their codes as a label or a keyboard-wedge scanner gives them,
and whether an instrument was fit for use at a moment (docs/rules.md, "Equipment").

An instrument is fit for use at a moment when it was in service then and, for each of calibration and
maintenance it is kept under, the moment falls inside a period a record covers: from the day a calibration
or maintenance was done to the end of its next due date (site time). A calibration that found the
instrument out of tolerance voids the period before it (from the previous calibration on), since what the
instrument measured in that time cannot be trusted (EU GMP Annex 15 and Chapter 3.41).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated

KINDS: tuple[str, ...] = ("biosafety_cabinet", "incubator", "centrifuge", "cell_counter",
                          "controlled_rate_freezer", "storage_unit", "other")
"""What the registry holds; a storage unit is registered by storage itself when the unit is set up."""
SERVICES: tuple[str, ...] = ("calibration", "maintenance")
STATUSES: tuple[str, ...] = ("in_service", "out_of_service")
CODE_LENGTH = 16
CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{0,15}")
LOCAL_PREFIX = re.compile(r"&[a-z]")
MAX_PER_STEP = 20

OVERDUE = "instrument_overdue"
OUT_OF_SERVICE = "instrument_out_of_service"


def check_code(value: Any, field: str = "code") -> str:
    """An instrument's identifier as its label prints it: upper-case letters, digits and ``-``."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not CODE.fullmatch(text):
        raise Invalid({field: translated(N_(
            "1-{code_length} upper-case letters, digits or '-', starting with a letter or digit")).format(
                code_length=CODE_LENGTH)})
    return text


def scanned_code(raw: Any, *, letter: str | None, field: str = "instruments") -> str:
    """The identifier a scan names: ``&<letter>`` + code from the instrument label's local data identifier
    (ISBT 128 ST-001 reserves ``&a``-``&z`` for a facility's own structures), or the plain code a
    keyboard-wedge scanner or a person types. Another local letter is another kind of label (``letter``
    ``None``: any local letter, the code alone then says which instrument, if any)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if LOCAL_PREFIX.match(text):
        if letter is not None and text[1] != letter:
            raise Invalid({field: translated(N_(
                "{prefix} is not an instrument label (&{letter})")).format(prefix=text[:2], letter=letter)})
        text = text[2:]
    try:
        return check_code(text, field)
    except Invalid:
        raise Invalid({field: translated(N_(
            "{text!r} is not an instrument identifier")).format(text=text[:40])}) from None


def scanned_codes(raw: Any, *, letter: str | None, field: str = "instruments") -> tuple[str, ...]:
    """The instruments a step names: a list of scans (the API) or one scan per line (a page), each once."""
    if raw in (None, ""):
        return ()
    if isinstance(raw, str):
        items: Sequence[Any] = [line for line in raw.replace(",", "\n").splitlines() if line.strip()]
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        raise Invalid({field: translated(N_("a list of instrument scans"))})
    if len(items) > MAX_PER_STEP:
        raise Invalid({field: translated(N_(
            "at most {max_per_step} instruments per step")).format(max_per_step=MAX_PER_STEP)})
    return tuple(dict.fromkeys(scanned_code(item, letter=letter, field=field) for item in items))


@dataclass(frozen=True)
class Period:
    """A span in which a calibration or maintenance record covers the instrument (``start`` ``None``: from
    before the instrument was registered, as its registration's due date says)."""

    service: str
    start: datetime | None
    end: datetime
    void: bool = False


@dataclass(frozen=True)
class OutOfService:
    start: datetime
    end: datetime | None  # returned to service; None while still out
    reason: str


@dataclass(frozen=True)
class History:
    """What the registry holds of one instrument, as the rule reads it."""

    code: str
    required: frozenset[str]  # the services it is kept under (calibration, maintenance)
    periods: tuple[Period, ...]
    outages: tuple[OutOfService, ...]


def voided(periods: Iterable[Period], findings: Iterable[datetime]) -> tuple[Period, ...]:
    """Calibration periods with those voided that an out-of-tolerance finding ends (the period in force when
    the finding was made, and so everything measured since the previous calibration; the calibration that made
    the finding starts at that moment and stays valid)."""
    found = sorted(findings)
    result = []
    for period in periods:
        hit = period.service == "calibration" and any(
            (period.start is None or period.start < at) and at <= period.end for at in found)
        result.append(Period(period.service, period.start, period.end, void=hit) if hit else period)
    return tuple(result)


@dataclass(frozen=True)
class Problem:
    """Why an instrument was not fit for use at a moment: a reason code and its values."""

    code: str
    variant: str
    params: dict[str, Any]


def _covered(periods: Iterable[Period], service: str, at: datetime) -> Period | None:
    return next((p for p in periods if p.service == service and not p.void
                 and (p.start is None or p.start <= at) and at <= p.end), None)


def problems_at(history: History, at: datetime) -> list[Problem]:
    """Every reason the instrument was unfit at ``at``: out of service, or a service past due (or voided)."""
    problems = []
    for outage in history.outages:
        if outage.start <= at and (outage.end is None or at < outage.end):
            problems.append(Problem(OUT_OF_SERVICE, "", {"instrument": history.code, "reason": outage.reason}))
            break
    for service in SERVICES:
        if service in history.required and _covered(history.periods, service, at) is None:
            void = any(p.void and p.service == service and (p.start is None or p.start <= at) and at <= p.end
                       for p in history.periods)
            problems.append(Problem(OVERDUE, "out_of_tolerance" if void else service, {"instrument": history.code}))
    return problems


@dataclass(frozen=True)
class Due:
    """One service of one instrument and when it is due, for the QA dashboard."""

    code: str
    name: str
    service: str
    due: Any  # a date
    overdue: bool
