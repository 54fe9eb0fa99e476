"""Storage units, racks or shelves, boxes and positions as plain values (docs/rules.md, "Storage").

Codes are what labels carry inside the ISBT 128 local data identifiers (``&b`` box, ``&c`` position, ``&d``
storage location by default; docs/identifiers.md), so they keep to that structure's characters: upper-case
letters, digits and ``-``. A position's code is its box's code, ``-``, the row letter and the column
number (``BX-0001-B3``), so a position label names its box and a person reads it without a scanner.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated

STORABLE_KINDS: tuple[str, ...] = ("vial", "bag")
"""What may be put in a position: a cell-bank vial or a product bag."""

UNIT_KINDS: dict[str, tuple[str, tuple[float, float]]] = {
    # kind: (what people call it, default allowed range in C, inclusive)
    "ln2_vapour": (N_("LN2 tank, vapour phase"), (-196.0, -150.0)),  # vapour phase kept at or below -150 C
    "freezer_minus80": (N_("-80 °C freezer"), (-90.0, -70.0)),
    "refrigerator": (N_("2-8 °C refrigerator"), (2.0, 8.0)),
    "room": (N_("Room"), (15.0, 25.0)),
}
LOCATION_KINDS: tuple[str, ...] = ("rack", "shelf")
ROW_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_ROWS = MAX_COLUMNS = 26
CODE_LENGTH = 16  # what a 2 x 1 in label prints legibly: unit > rack > box on three short lines
CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{0,15}")
_POSITION = re.compile(r"([A-Z])0*([1-9][0-9]?)")
_POSITION_CODE = re.compile(r"([0-9A-Z][0-9A-Z-]{0,15})-([A-Z])0*([1-9][0-9]?)")


def check_code(value: Any, field: str) -> str:
    """A unit, location or box code as labels carry it (upper-case letters, digits, ``-``)."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not CODE.fullmatch(text):
        raise Invalid({field: translated(N_(
            "1-{code_length} upper-case letters, digits or '-', starting with a letter or digit")).format(
            code_length=CODE_LENGTH)})
    return text


def check_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 120:
        raise Invalid({field: translated(N_("a name of up to 120 characters"))})
    return value.strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -273.15 <= number <= 200.0 else None


def unit_range(kind: Any, low: Any, high: Any) -> tuple[float, float]:
    """The unit's allowed range: as given, or the kind's default when both are left out."""
    if not isinstance(kind, str) or kind not in UNIT_KINDS:
        raise Invalid({"kind": translated(N_("one of {choices}")).format(choices=', '.join(UNIT_KINDS))})
    if low in (None, "") and high in (None, ""):
        return UNIT_KINDS[kind][1]
    errors = {name: "a temperature in degrees C" for name, value in (("low_c", low), ("high_c", high))
              if _number(value) is None}
    if errors:
        raise Invalid(errors)
    if _number(low) >= _number(high):
        raise Invalid({"high_c": translated(N_("must be above low_c"))})
    return _number(low), _number(high)


def box_size(rows: Any, columns: Any) -> tuple[int, int]:
    errors = {}
    for name, value, most in (("rows", rows, MAX_ROWS), ("columns", columns, MAX_COLUMNS)):
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit() \
                or not 1 <= int(value) <= most:
            errors[name] = translated(N_("a whole number from {low} to {high}")).format(low=1, high=most)
    if errors:
        raise Invalid(errors)
    return int(rows), int(columns)


def row_letter(row: int) -> str:
    return ROW_LETTERS[row - 1]


def position_name(row: int, column: int) -> str:
    """``B3``: row B, column 3."""
    return f"{row_letter(row)}{column}"


def position_code(box_code: str, row: int, column: int) -> str:
    return f"{box_code}-{position_name(row, column)}"


def parse_position(text: Any, rows: int, columns: int, field: str = "position") -> tuple[int, int]:
    """``B3`` (or ``b03``) as (row 2, column 3), inside a box of ``rows`` x ``columns``."""
    match = _POSITION.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise Invalid({field: translated(N_("a row letter and a column number, e.g. B3"))})
    row, column = ROW_LETTERS.index(match.group(1)) + 1, int(match.group(2))
    if row > rows or column > columns:
        raise Invalid({field: translated(N_(
            "the box has rows A-{row_letter} and columns 1-{columns}")).format(
            row_letter=row_letter(rows), columns=columns)})
    return row, column


def split_position_code(text: str) -> tuple[str, str] | None:
    """A position code as (box code, ``B3``), or None when it is not one."""
    match = _POSITION_CODE.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    return None if match is None else (match.group(1), f"{match.group(2)}{match.group(3)}")


def check_storable(item_type: Any) -> str:
    if not isinstance(item_type, str) or item_type not in STORABLE_KINDS:
        raise Invalid({"item_type": translated(N_(
            "only a {choices} is kept in a storage position")).format(choices=' or a '.join(STORABLE_KINDS))})
    return item_type
