"""Reading times people and systems send: ISO 8601 with an offset, never a naive wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cellchain.core.errors import Invalid


def parse_instant(value: Any, field: str) -> datetime:
    """An aware datetime in UTC; a time without an offset is refused, since its zone would be a guess."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid({field: "use ISO 8601, e.g. 2026-11-25T08:30:00+08:00"}) from None
    else:
        raise Invalid({field: "use ISO 8601, e.g. 2026-11-25T08:30:00+08:00"})
    if moment.tzinfo is None:
        raise Invalid({field: "give the time with its UTC offset (e.g. +08:00 or Z)"})
    return moment.astimezone(UTC)
