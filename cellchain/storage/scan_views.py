"""What the storage pages and API read from scans: the container, and the position it goes to.

The container is a bag's scan (its 2D code, bag id, or DIN and product code), or, through the API, a kind
and row id (a cell-bank vial, whose record belongs to the cell bank). The position is a position label's
scan, or a box label's scan and the position typed or read off the box (``B3``). Both read through the one
scan resolver (``cellchain/scanning/resolver.py``), which names storage places by the site's local data
identifier letters (``LOCAL_DATA_IDENTIFIERS``).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlmodel import Session

from cellchain.core.errors import Invalid
from cellchain.core.page_forms import site_zone
from cellchain.core.words import N_, translated
from cellchain.scanning import pages, resolver
from cellchain.storage.models import StorageBox
from cellchain.storage.placements import Item
from cellchain.storage.rules import layout


def _identify(session: Session, raw: Any, field: str) -> resolver.Identified:
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid({field: translated(N_("scan the label"))})
    return resolver.identify(session, raw, tz=site_zone(), field=field,
                             letters=current_app.config["LOCAL_DATA_IDENTIFIERS"])


def container(session: Session, data: dict[str, Any], field: str = "container") -> Item:
    """The container a request names: ``container`` (a scan), or ``item_type`` and ``item_id``."""
    if data.get("container") not in (None, ""):
        found = _identify(session, data["container"], field)
        if found.kind not in layout.STORABLE_KINDS:
            raise Invalid({field: translated(N_(
                "a {kind} is not kept in a storage position; scan a bag or a vial")).format(kind=found.kind)})
        return Item(found.kind, found.record.id)
    kind, item_id = data.get("item_type"), data.get("item_id")
    errors: dict[str, str] = {}
    if kind not in layout.STORABLE_KINDS:
        errors["item_type" if kind is not None else field] = (
            translated(N_("scan the container, or give item_type ({kinds}) and item_id")).format(
                kinds=" or ".join(layout.STORABLE_KINDS)))
    if isinstance(item_id, bool) or not isinstance(item_id, int) or not 1 <= item_id <= 2**31 - 1:
        errors.setdefault("item_id", translated(N_("the container's record id, a whole number")))
    if errors:
        raise Invalid(errors)
    if kind == "bag":
        raise Invalid({field: translated(N_("scan the bag's label (a bag is named by its bag id, not a record id)"))})
    return Item(kind, item_id)


def position(session: Session, raw: Any, typed: Any, field: str = "target") -> tuple[StorageBox, int, int]:
    """A position label's scan; or a box label's scan and the position (``B3``) in ``typed``."""
    found = _identify(session, raw, field)
    if found.kind == "position":
        return found.record
    if found.kind == "box":
        box = found.record
        if typed in (None, ""):
            raise Invalid({"position": translated(N_(
                "give the position in box {code}, e.g. B3")).format(code=box.code)})
        row, column = layout.parse_position(typed, box.rows, box.columns)
        return box, row, column
    raise Invalid({field: translated(N_(
        "a {kind} is not a storage position; scan a position label or a box label")).format(kind=found.kind)})


def position_or_box(session: Session, raw: Any, field: str = "target") -> StorageBox | None:
    """The box a box label names, or None for any other scan (read again by ``position``)."""
    found = _identify(session, raw, field)
    return found.record if found.kind == "box" else None


def place_page(session: Session, raw: str) -> str | None:
    """The page of the storage place a label's scan names (box map, position, rack), or None for any other
    scan (a container's, or one that cannot be read: the caller says why)."""
    try:
        answer = resolver.describe(session, raw, tz=site_zone(), letters=current_app.config["LOCAL_DATA_IDENTIFIERS"])
    except Invalid:
        return None
    if answer.record is None or answer.record.type not in ("box", "position", "location"):
        return None
    return pages.page_url(answer.record.type, answer.record.key)
