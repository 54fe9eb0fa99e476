"""An audit entry's old and new values as people read them: one field and its value a row, not JSON.

The trail stores each entry's values as canonical JSON (what the hash covers, ``hash_chain.py``); a page
shows the same values as rows: the field's name in words (``core/words/entries.py`` FIELDS, in the reader's
language) and its value as text (lists joined, yes and no for booleans, an empty value as a dash, a stored
code in words, a numbered code as its word and number). Nothing is dropped or reordered beyond the stored key
order.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cellchain.core.words.entries import field_label, step_label
from cellchain.core.words.labels import label

EMPTY = "—"
# A stored code (``at_lab``, ``gram_stain``, ``released``: lower-case letters and digits, words joined by
# underscores) is shown through the one vocabulary. Free text has spaces and identifiers have capitals or digits
# first, so neither is touched; the CSV export and the API keep the stored values exactly.
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# A numbered code (a batch step's ``passage:4``) reads as its code's word and the number.
_NUMBERED = re.compile(r"([a-z][a-z0-9]*(?:_[a-z0-9]+)*):(\d+)")


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return label("yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(name)}: {_text(item)}" for name, item in value.items())
    text = str(value)
    numbered = _NUMBERED.fullmatch(text)
    if numbered:
        return f"{label(numbered.group(1))} {numbered.group(2)}"
    return label(text) if _CODE.fullmatch(text) else text


def rows(stored: str | None) -> list[tuple[str, str]]:
    """``(field, value)`` rows of stored JSON values; text that is not a JSON object is one row, ``value``."""
    if not stored:
        return []
    try:
        values = json.loads(stored)
    except ValueError:
        return [("value", stored)]
    if not isinstance(values, dict):
        return [("value", _text(values))]
    return [(field_label(name), _value(name, value)) for name, value in values.items()]


def _value(name: str, value: Any) -> str:
    """A batch step's code as the step's name; any other value as text."""
    return (step_label(value) if name == "step" and isinstance(value, str) else None) or _text(value)
