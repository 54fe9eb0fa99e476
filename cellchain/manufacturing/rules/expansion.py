"""Expansion of a lot: passages P0..Pn, population doublings and the passage limit.

MSC age with every doubling; cumulative population doublings and the passage number are what a site
limits so that a product is not made from senescent or transformed cells (``PASSAGE_LIMIT``,
a site setting). Passages are recorded strictly in order, so the cumulative
doublings printed on the batch record are a true sum of what was done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.quality.rules.spec_limits import parse_number

DEFAULT_PASSAGE_LIMIT = 5
"""Highest passage number allowed by default (P0..P5); a site setting."""

PASSAGE_OUT_OF_ORDER = "passage_out_of_order"
PASSAGE_LIMIT_EXCEEDED = "passage_limit_exceeded"


def _cell_count(value: Any, field_name: str) -> int:
    """A whole, positive number of cells; counts arrive as JSON numbers (``8e6`` is fine)."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = value if whole else parse_number(value, field_name)
    if number <= 0 or not (whole or number.is_integer()):
        raise Invalid({field_name: translated(N_(
            "{value!r} is not a positive whole number of cells")).format(value=value)})
    return int(number)


def population_doublings(seeded: int, harvested: int) -> float:
    """PD = log2(harvested / seeded).

    A harvest smaller than the seeding would give a negative PD: cells do not un-double, so it is
    a miscount or a swapped field and is refused as ``Invalid`` rather than recorded.
    """
    seeded_n = _cell_count(seeded, "seeded_cells")
    harvested_n = _cell_count(harvested, "harvested_cells")
    if harvested_n < seeded_n:
        raise Invalid({"harvested_cells": translated(N_(
            "{harvested_n} is fewer than the {seeded_n} cells seeded")).format(
            harvested_n=harvested_n, seeded_n=seeded_n)})
    return math.log2(harvested_n / seeded_n)


class _Counts(Protocol):
    seeded_cells: int
    harvested_cells: int


def cumulative_doublings(passages: Iterable[_Counts | tuple[int, int]]) -> list[float]:
    """Running total of PD after each passage, in the order given (callers pass P0 first).

    Each item is a ``PassageInput`` (or anything with ``seeded_cells``/``harvested_cells``) or a
    ``(seeded, harvested)`` pair.
    """
    totals: list[float] = []
    running = 0.0
    for item in passages:
        seeded, harvested = item if isinstance(item, tuple) else (item.seeded_cells, item.harvested_cells)
        running += population_doublings(seeded, harvested)
        totals.append(running)
    return totals


def guard_next_passage(
    existing_numbers: list[int], number: int, *, limit: int = DEFAULT_PASSAGE_LIMIT, first: int = 0
) -> None:
    """Refuse a passage that is not the next one, or beyond the passage limit (docs/rules.md, "Manufacturing: lots").

    The next passage is ``first`` for a new lot (P0 from a cord; the bank's passage + 1 for a lot thawed
    from a bank vial, since cell age counts from the cord, ICH Q5D), else one more than the highest
    recorded; a gap or a repeat would make the cumulative doublings meaningless. ``limit`` is the
    highest passage number allowed, counted from the cord. Every applicable reason is listed.
    """
    expected = max(existing_numbers) + 1 if existing_numbers else first
    reasons: list[Reason] = []
    if number != expected:
        reasons.append(Reason(PASSAGE_OUT_OF_ORDER, number=number, expected=expected))
    if number > limit:
        reasons.append(Reason(PASSAGE_LIMIT_EXCEEDED, number=number, limit=limit))
    if reasons:
        raise Refused(reasons)


def _passage_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid({"number": translated(N_("{value!r} is not a passage number (0, 1, 2 ...)")).format(value=value)})
    return value


def _viability(value: Any) -> float:
    pct = parse_number(value, "viability_pct")
    if not 0 <= pct <= 100:
        raise Invalid({"viability_pct": translated(N_(
            "{value!r} is not a percentage from 0 to 100")).format(value=value)})
    return pct


def _moment(value: Any, field_name: str) -> datetime:
    """An ISO 8601 time (as the JSON API takes times) or a ``datetime``."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid({field_name: translated(N_("{value!r} is not an ISO 8601 date and time")).format(value=value)})


@dataclass(frozen=True)
class PassageInput:
    """One recorded passage, already checked field by field."""

    number: int
    seeded_cells: int
    harvested_cells: int
    viability_pct: float
    seeded_at: datetime
    harvested_at: datetime

    @property
    def population_doublings(self) -> float:
        return population_doublings(self.seeded_cells, self.harvested_cells)

    @classmethod
    def from_dict(cls, data: Any) -> PassageInput:
        """Read a passage body, naming every bad field at once (``Invalid``)."""
        return parse_passage(data)


_READERS = {
    "number": _passage_number,
    "seeded_cells": lambda v: _cell_count(v, "seeded_cells"),
    "harvested_cells": lambda v: _cell_count(v, "harvested_cells"),
    "viability_pct": _viability,
    "seeded_at": lambda v: _moment(v, "seeded_at"),
    "harvested_at": lambda v: _moment(v, "harvested_at"),
}


def _cross_checks(values: dict[str, Any]) -> dict[str, str]:
    """Rules between fields: harvest after seeding, and no fewer cells than seeded."""
    errors: dict[str, str] = {}
    seeded_at, harvested_at = values.get("seeded_at"), values.get("harvested_at")
    if seeded_at and harvested_at:
        if (seeded_at.tzinfo is None) != (harvested_at.tzinfo is None):
            errors["harvested_at"] = translated(N_("give both times with a time zone, or neither"))
        elif harvested_at <= seeded_at:
            errors["harvested_at"] = translated(N_("must be after seeded_at"))
    seeded, harvested = values.get("seeded_cells"), values.get("harvested_cells")
    if seeded and harvested and harvested < seeded:
        errors["harvested_cells"] = translated(N_("{harvested} is fewer than the {seeded} cells seeded")).format(
            harvested=harvested, seeded=seeded)
    return errors


def parse_passage(data: Any) -> PassageInput:
    """Read ``POST /lots/{id}/passages`` (docs/architecture.md, "The JSON API") into a ``PassageInput``."""
    if not isinstance(data, Mapping):
        raise Invalid({"passage": translated(N_("must be an object"))})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, reader in _READERS.items():
        if data.get(name) is None:
            errors[name] = translated(N_("is required"))
            continue
        try:
            values[name] = reader(data[name])
        except Invalid as error:
            errors.update(error.fields)
    errors.update({k: v for k, v in _cross_checks(values).items() if k not in errors})
    if errors:
        raise Invalid(errors, translated(N_("the passage has invalid fields")))
    return PassageInput(**values)
