"""Reading a fill request: counts, volumes, cells, anticoagulant, lots printed on labels, and expiry.

Every bad field is named at once (``Invalid``), before anything is locked or written. The expiry is
decided here because it depends only on the request and the configured shelf life: the configured
shelf life from the fill (fresh bags) or from the freezing (cryopreserved bags), or an explicit
``expires_at`` that is in the future and no later than that.

A fill may also make bags for named subjects' infusion visits (``named``: subject id and week); their
volumes are computed from the lot and the subjects' weights by ``bags``, not given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.fields import read_fields
from cellchain.core.timeinput import parse_instant
from cellchain.core.words import N_, translated
from cellchain.manufacturing.lot_access import moment
from cellchain.quality.rules.spec_limits import parse_number

MAX_BAGS_PER_FILL = 50
MAX_BAG_VOLUME_ML = 1000.0
MAX_CELLS_PER_BAG = 10**11
PRESERVATIONS = ("fresh", "cryopreserved")
MAX_WEEK = 520
ANTICOAGULANTS = {"heparin": "heparin", "acd-a": "ACD-A"}
# A supplier's lot as printed on the bag label's text (not a barcode: ISBT 128's ``&)`` is the bag maker's lot).
REAGENT_LOT = re.compile(r"[0-9A-Z]{1,18}")


@dataclass(frozen=True)
class NamedEntry:
    """One bag to be made for a subject's infusion visit (the week of the visit, as the calendar shows it)."""

    subject_code: str
    week: int


@dataclass(frozen=True)
class FillInput:
    count: int
    volume_ml: float | None  # None when the fill makes named bags only
    total_cells: int | None  # as stated by the person filling; the fill checks it against the lot
    anticoagulant: str
    anticoagulant_lot: str
    anticoagulant_volume_ml: float | None
    filled_at: datetime
    expires_at: datetime
    preservation: str = "fresh"
    frozen_at: datetime | None = None
    named: tuple[NamedEntry, ...] = ()


@dataclass(frozen=True)
class PlaceboInput:
    count: int
    volume_ml: float
    saline_lot: str
    filled_at: datetime
    expires_at: datetime


def _count(value: Any, *, least: int = 1) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_BAGS_PER_FILL:
        raise Invalid({"count": translated(N_(
            "a whole number of bags from {least} to {max_bags_per_fill}")).format(
            least=least, max_bags_per_fill=MAX_BAGS_PER_FILL)})
    return value


def _preservation(value: Any) -> str:
    word = value.strip().lower() if isinstance(value, str) and value.strip() else "fresh"
    if word not in PRESERVATIONS:
        raise Invalid({"preservation": translated(N_("fresh or cryopreserved"))})
    return word


def _week(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_WEEK else None


def _named_entry(item: Any) -> NamedEntry | None:
    """``{"subject_id": "SUBJ-0001", "week": 4}``, or a page's line ``SUBJ-0001 4`` (``week 4`` also reads)."""
    if isinstance(item, str):
        words = item.replace(",", " ").split()
        words = [w for w in words if w.lower() not in ("week", "wk")]
        item = {"subject_id": words[0], "week": words[1]} if len(words) == 2 else {}
    if not isinstance(item, Mapping):
        return None
    code, week = item.get("subject_id"), _week(item.get("week"))
    if not isinstance(code, str) or not code.strip() or len(code.strip()) > 20 or week is None:
        return None
    return NamedEntry(code.strip().upper(), week)


def parse_named(value: Any) -> tuple[NamedEntry, ...]:
    """The named bags of a fill: a list of ``{subject_id, week}`` (API) or lines of text (page)."""
    if value in (None, "", []):
        return ()
    items = [line for line in value.splitlines() if line.strip()] if isinstance(value, str) else value
    entries = [_named_entry(item) for item in items] if isinstance(items, list) else [None]
    if not entries or None in entries or len(entries) > MAX_BAGS_PER_FILL:
        raise Invalid({"named": translated(N_(
            "up to {max_bags_per_fill} entries, each a subject id and the week of one of its infusion visits "
            "(e.g. SUBJ-0001 4)")).format(max_bags_per_fill=MAX_BAGS_PER_FILL)})
    if len(set(entries)) != len(entries):
        raise Invalid({"named": translated(N_("a subject's visit is named twice"))})
    return tuple(entries)


def _volume(value: Any, name: str) -> float:
    number = parse_number(value, name)
    if not 0 < number <= MAX_BAG_VOLUME_ML:
        raise Invalid({name: translated(N_(
            "ml, more than 0 and at most {max_bag_volume_ml:g}")).format(max_bag_volume_ml=MAX_BAG_VOLUME_ML)})
    return number


def _cells(value: Any) -> int:
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = value if whole else parse_number(value, "total_cells")
    if number <= 0 or not float(number).is_integer() or number > MAX_CELLS_PER_BAG:
        raise Invalid({"total_cells": translated(N_(
            "the cells in each bag, a positive whole number up to {max_cells_per_bag:.0e}")).format(
            max_cells_per_bag=MAX_CELLS_PER_BAG)})
    return int(number)


def _anticoagulant(value: Any) -> str:
    word = ANTICOAGULANTS.get(value.strip().lower()) if isinstance(value, str) else None
    if word is None:
        raise Invalid({"anticoagulant": translated(N_("heparin or ACD-A"))})
    return word


def lot_reference(value: Any, name: str) -> str:
    """A material lot as scanned or typed: the supplier's GS1 barcode, this site's lot label, or the supplier's
    lot number (``materials.usage`` finds which); one word of printable text, or a GS1 string with GS."""
    text = value.strip(" \r\n\t") if isinstance(value, str) else ""
    printable = text.replace("\x1d", "").isprintable()  # GS separates a GS1 code's variable fields
    if not text or len(text) > 200 or any(c.isspace() for c in text) or not text.isascii() or not printable:
        raise Invalid({name: translated(N_("scan the material lot, or type its lot number as printed"))})
    return text


def container_lot(value: Any, name: str) -> str:
    """A reagent or saline lot, as the bag label prints it: 1-18 letters or digits."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not REAGENT_LOT.fullmatch(text):
        raise Invalid({name: translated(N_("1-18 letters or digits"))})
    return text


def expiry(requested: datetime | None, *, filled_at: datetime, shelf_life: timedelta, now: datetime,
           since: str = "the fill") -> datetime:
    """The bag's expiry, to the minute (labels print minutes; rounding down never extends shelf life)."""
    latest = filled_at + shelf_life
    chosen = (requested or latest).replace(second=0, microsecond=0)
    if requested is None and chosen <= now:
        raise Invalid({"filled_at": translated(N_(
            "the shelf life from this fill time has run out; the bags would be expired"))})
    if requested is not None and chosen <= now:
        raise Invalid({"expires_at": translated(N_("must be in the future"))})
    if requested is not None and requested > latest:
        hours = shelf_life.total_seconds() / 3600
        span = f"{hours / 24:g} days" if hours >= 72 else f"{hours:g} hours"
        raise Invalid({"expires_at": translated(N_(
            "is beyond the shelf life ({span} from {since})")).format(span=span, since=since)})
    return chosen



def parse_fill(data: Mapping[str, Any], *, shelf_life: timedelta, now: datetime,
               frozen_shelf_life: timedelta | None = None) -> FillInput:
    """Read ``POST /lots/{id}/bags``: standard bags (``count`` of ``volume_ml``) and named bags (``named``).

    A cryopreserved fill's expiry runs from its freezing (``frozen_at``, default the fill time), by
    ``frozen_shelf_life``; a fresh fill's from the fill, by ``shelf_life``.
    """
    anticoagulant_volume = data.get("anticoagulant_volume_ml")
    try:
        named = parse_named(data.get("named"))
    except Invalid:
        named = ()  # named again below, with every other bad field
    standard = data.get("count") not in (None, "", 0, "0") or not named
    cells = data.get("total_cells")
    values = read_fields({
        "named": lambda: parse_named(data.get("named")),
        "count": lambda: 0 if named and data.get("count") in (None, "") else _count(data.get("count"),
                                                                                    least=0 if named else 1),
        "volume_ml": lambda: _volume(data.get("volume_ml"), "volume_ml") if standard else None,
        "total_cells": lambda: None if cells in (None, "") else _cells(cells),
        "anticoagulant": lambda: _anticoagulant(data.get("anticoagulant")),
        "anticoagulant_lot": lambda: lot_reference(data.get("anticoagulant_lot"), "anticoagulant_lot"),
        "anticoagulant_volume_ml": lambda: None if anticoagulant_volume in (None, "")
        else _volume(anticoagulant_volume, "anticoagulant_volume_ml"),
        "filled_at": lambda: moment(data, "filled_at", default=now),
        "preservation": lambda: _preservation(data.get("preservation")),
        "frozen_at": lambda: None if data.get("frozen_at") in (None, "") else parse_instant(data["frozen_at"],
                                                                                            "frozen_at"),
        "requested_expiry": lambda: _future_or_none(data),
    })
    if values["count"] + len(values["named"]) > MAX_BAGS_PER_FILL:
        raise Invalid({"count": translated(N_(
            "at most {max_bags_per_fill} bags in one fill, named ones included")).format(
            max_bags_per_fill=MAX_BAGS_PER_FILL)})
    volume, added = values["volume_ml"], values["anticoagulant_volume_ml"]
    if added is not None and volume is not None and added >= volume:
        raise Invalid({"anticoagulant_volume_ml": translated(N_("must be less than the bag's volume"))})
    start, life, since = values["filled_at"], shelf_life, "the fill"
    if values["preservation"] == "cryopreserved":
        if frozen_shelf_life is None:
            raise Invalid({"preservation": translated(N_("this site has no frozen shelf life configured"))})
        frozen_at = values["frozen_at"] or values["filled_at"]
        if frozen_at < values["filled_at"] or frozen_at > now:
            raise Invalid({"frozen_at": translated(N_("between the fill and now"))})
        values["frozen_at"], start, life, since = frozen_at, frozen_at, frozen_shelf_life, "the freezing"
    elif values["frozen_at"] is not None:
        raise Invalid({"frozen_at": translated(N_("only a cryopreserved fill is frozen"))})
    values["expires_at"] = expiry(values.pop("requested_expiry"), filled_at=start, shelf_life=life, now=now,
                                  since=since)
    return FillInput(**values)


def parse_placebo(data: Mapping[str, Any], *, default_volume_ml: float, shelf_life: timedelta,
                  now: datetime) -> PlaceboInput:
    """Read ``POST /placebo-bags``; the volume defaults to the protocol's placebo volume."""
    volume = data.get("volume_ml")
    values = read_fields({
        "count": lambda: _count(data.get("count")),
        "volume_ml": lambda: default_volume_ml if volume in (None, "") else _volume(volume, "volume_ml"),
        "saline_lot": lambda: lot_reference(data.get("saline_lot"), "saline_lot"),
        "filled_at": lambda: moment(data, "filled_at", default=now),
        "requested_expiry": lambda: _future_or_none(data),
    })
    values["expires_at"] = expiry(values.pop("requested_expiry"), filled_at=values["filled_at"],
                                  shelf_life=shelf_life, now=now)
    return PlaceboInput(**values)


def _future_or_none(data: Mapping[str, Any]) -> datetime | None:
    """``expires_at`` as given (an expiry is in the future, so the not-in-the-future rule does not apply)."""
    value = data.get("expires_at")
    return None if value in (None, "") else parse_instant(value, "expires_at")
