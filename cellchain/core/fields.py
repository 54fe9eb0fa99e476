"""Reading a request field by field, so that one answer names every bad field, not only the first."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from cellchain.core.errors import Invalid

_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Thousands grouped by commas, as counts are written at a Chinese or English site (5,000,000). A comma
# not followed by exactly three digits (1,5) is not read, rather than guessed to be a decimal comma.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def number_as_typed(text: str) -> float | None:
    """A finite number as people type it: plain (``12.5``, ``5e6``) or with thousands separators
    (``5,000,000``); ``None`` for anything else."""
    compact = text.strip()
    if _GROUPED.fullmatch(compact):
        compact = compact.replace(",", "")
    elif not _PLAIN.fullmatch(compact):
        return None
    value = float(compact)
    return value if math.isfinite(value) else None


def read_fields(readers: Mapping[str, Callable[[], Any]], message: str | None = None) -> dict[str, Any]:
    """Run each field's reader; collect every field error, then refuse once with all of them."""
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except Invalid as error:
            fields.update(error.fields if error.fields else {name: error.message})
    if fields:
        raise Invalid(fields, message)
    return values
