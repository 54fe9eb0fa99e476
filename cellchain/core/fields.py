"""Reading a request field by field, so that one answer names every bad field, not only the first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cellchain.core.errors import Invalid


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
