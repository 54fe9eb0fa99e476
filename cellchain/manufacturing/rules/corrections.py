"""Recorded data is never overwritten: a correction is a new row that points to the row it corrects.

What counts is the record without the rows a later row corrects (docs/rules.md, "Audit trail": nothing
regulated changes in place; 21 CFR 11.10(e)).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Correctable(Protocol):
    id: int | None
    corrects_id: int | None


Row = TypeVar("Row", bound=Correctable)


def effective(rows: Iterable[Row]) -> list[Row]:
    """The rows in their given order, without those a later row corrects."""
    rows = list(rows)
    corrected = {row.corrects_id for row in rows if row.corrects_id is not None}
    return [row for row in rows if row.id not in corrected]
