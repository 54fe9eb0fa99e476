"""Temperature readings of a storage unit: a logger's CSV file read line by line, and which readings make an
excursion (docs/rules.md, "Storage: temperatures").

21 CFR 1271.260(b)-(d): storage temperatures are set, recorded periodically, and every excursion is
documented and assessed. A reading outside the unit's range is an excursion; consecutive out-of-range
readings are one excursion, from the first of them to the last, and it reaches every item that was in the
unit at any moment of that span.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated

CSV_COLUMNS = ("time", "temperature_c")
"""A logger file's header names at least these columns; others (a logger's serial, a channel) are ignored."""
MAX_LINES = 50_000


@dataclass(frozen=True)
class Reading:
    measured_at: datetime
    temperature_c: float
    line: int | None = None


def out_of_range(temperature_c: float, low: float, high: float) -> bool:
    """Inclusive bounds are acceptable."""
    return not low <= temperature_c <= high


def read_temperature(value: object, field: str = "temperature_c") -> float:
    if isinstance(value, bool):
        raise Invalid({field: translated(N_("a temperature in degrees C"))})
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid({field: translated(N_("a temperature in degrees C"))}) from None
    if not math.isfinite(number) or not -273.15 <= number <= 200.0:
        raise Invalid({field: translated(N_("a temperature in degrees C"))})
    return number


def read_time(text: str, tz: ZoneInfo, field: str = "time") -> datetime:
    """ISO 8601; a time without an offset is the site's wall clock (a logger set to site time)."""
    try:
        moment = datetime.fromisoformat(text.strip())
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        raise Invalid({field: translated(N_("a date and time in ISO 8601, e.g. 2026-12-05T08:00:00+01:00"))}) from None
    if not 2000 <= moment.year <= 2999:  # a logger's clock that was never set
        raise Invalid({field: translated(N_("a date from the years 2000-2999"))})
    return moment


def parse_csv(content: str, tz: ZoneInfo) -> list[Reading]:
    """Every reading of a logger file, or ``Invalid`` naming every bad line (nothing is taken from a file with one).

    The first line names the columns; ``time`` and ``temperature_c`` are required. Blank lines are skipped.
    """
    try:
        rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"), newline="")))
    except csv.Error as error:  # a stray carriage return inside a field, a field longer than csv allows
        raise Invalid({"file": translated(N_(
            "not a CSV file this reader can read ({error})")).format(error=error)}) from None
    if not rows:
        raise Invalid({"file": translated(N_(
            "the file is empty; its first line names the columns time,temperature_c"))})
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise Invalid({"file": translated(N_(
            "line 1 must name the columns {choices} (missing {missing})")).format(
            choices=','.join(CSV_COLUMNS), missing=', '.join(missing))})
    if len(rows) > MAX_LINES:
        raise Invalid({"file": translated(N_("at most {max_lines} lines in one file")).format(max_lines=MAX_LINES)})
    at, temp = header.index("time"), header.index("temperature_c")
    readings: list[Reading] = []
    errors: dict[str, str] = {}
    seen: dict[datetime, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) <= max(at, temp):
                raise Invalid({"line": translated(N_("has fewer columns than the header"))})
            reading = Reading(read_time(row[at], tz), read_temperature(row[temp].strip()), number)
        except Invalid as bad:
            errors[f"line {number}"] = "; ".join(bad.fields.values())
            continue
        if reading.measured_at in seen:
            errors[f"line {number}"] = translated(N_(
                "the same time as line {line}")).format(line=seen[reading.measured_at])
            continue
        seen[reading.measured_at] = number
        readings.append(reading)
    if errors:
        raise Invalid(errors)
    if not readings:
        raise Invalid({"file": translated(N_("the file holds no readings"))})
    return readings


@dataclass(frozen=True)
class Span:
    """Consecutive out-of-range readings (indexes into the sorted readings), from ``start`` to ``end``."""

    start: datetime
    end: datetime
    worst: int  # index of the reading furthest outside the range


def excursion_spans(readings: Sequence[Reading], low: float, high: float) -> list[Span]:
    """Runs of consecutive out-of-range readings in time order (``readings`` sorted by time)."""
    spans: list[Span] = []
    run: list[int] = []

    def close() -> None:
        if run:
            worst = max(run, key=lambda i: max(low - readings[i].temperature_c, readings[i].temperature_c - high))
            spans.append(Span(readings[run[0]].measured_at, readings[run[-1]].measured_at, worst))
            run.clear()

    for index, reading in enumerate(readings):
        if out_of_range(reading.temperature_c, low, high):
            run.append(index)
        else:
            close()
    close()
    return spans
