"""Reading a fill request: counts, volumes, cells, anticoagulant, lots printed on labels, and expiry.

Every bad field is named at once (``Invalid``), before anything is locked or written. The expiry is
decided here because it depends only on the request and the configured shelf life: the configured
shelf life from the fill, or an explicit ``expires_at`` that is in the future and no later than that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.fields import read_fields
from cellchain.core.timeinput import parse_instant
from cellchain.identifiers.isbt128 import TEXT_STRUCTURES
from cellchain.manufacturing.lot_access import moment
from cellchain.quality.rules.spec_limits import parse_number

MAX_BAGS_PER_FILL = 50
MAX_BAG_VOLUME_ML = 1000.0
MAX_CELLS_PER_BAG = 10**11
ANTICOAGULANTS = {"heparin": "heparin", "acd-a": "ACD-A"}
CONTAINER_LOT = TEXT_STRUCTURES["container_lot"][1]


@dataclass(frozen=True)
class FillInput:
    count: int
    volume_ml: float
    total_cells: int
    anticoagulant: str
    anticoagulant_lot: str
    anticoagulant_volume_ml: float | None
    filled_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class PlaceboInput:
    count: int
    volume_ml: float
    saline_lot: str
    filled_at: datetime
    expires_at: datetime


def _count(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BAGS_PER_FILL:
        raise Invalid({"count": f"a whole number of bags from 1 to {MAX_BAGS_PER_FILL}"})
    return value


def _volume(value: Any, name: str) -> float:
    number = parse_number(value, name)
    if not 0 < number <= MAX_BAG_VOLUME_ML:
        raise Invalid({name: f"ml, more than 0 and at most {MAX_BAG_VOLUME_ML:g}"})
    return number


def _cells(value: Any) -> int:
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = value if whole else parse_number(value, "total_cells")
    if number <= 0 or not float(number).is_integer() or number > MAX_CELLS_PER_BAG:
        raise Invalid({"total_cells": f"the cells in each bag, a positive whole number up to {MAX_CELLS_PER_BAG:.0e}"})
    return int(number)


def _anticoagulant(value: Any) -> str:
    word = ANTICOAGULANTS.get(value.strip().lower()) if isinstance(value, str) else None
    if word is None:
        raise Invalid({"anticoagulant": "heparin or ACD-A"})
    return word


def container_lot(value: Any, name: str) -> str:
    """A reagent or saline lot as printed in an ISBT 128 container-lot barcode (``&)``)."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not CONTAINER_LOT.fullmatch(text):
        raise Invalid({name: "1-18 letters or digits (printed as an ISBT 128 container lot)"})
    return text


def expiry(requested: datetime | None, *, filled_at: datetime, shelf_life: timedelta, now: datetime) -> datetime:
    """The bag's expiry, to the minute (labels print minutes; rounding down never extends shelf life)."""
    latest = filled_at + shelf_life
    chosen = (requested or latest).replace(second=0, microsecond=0)
    if requested is None and chosen <= now:
        raise Invalid({"filled_at": "the shelf life from this fill time has run out; the bags would be expired"})
    if requested is not None and chosen <= now:
        raise Invalid({"expires_at": "must be in the future"})
    if requested is not None and requested > latest:
        hours = shelf_life.total_seconds() / 3600
        raise Invalid({"expires_at": f"is beyond the shelf life ({hours:g} hours from the fill)"})
    return chosen



def parse_fill(data: Mapping[str, Any], *, shelf_life: timedelta, now: datetime) -> FillInput:
    """Read ``POST /lots/{id}/bags``."""
    anticoagulant_volume = data.get("anticoagulant_volume_ml")
    values = read_fields({
        "count": lambda: _count(data.get("count")),
        "volume_ml": lambda: _volume(data.get("volume_ml"), "volume_ml"),
        "total_cells": lambda: _cells(data.get("total_cells")),
        "anticoagulant": lambda: _anticoagulant(data.get("anticoagulant")),
        "anticoagulant_lot": lambda: container_lot(data.get("anticoagulant_lot"), "anticoagulant_lot"),
        "anticoagulant_volume_ml": lambda: None if anticoagulant_volume in (None, "")
        else _volume(anticoagulant_volume, "anticoagulant_volume_ml"),
        "filled_at": lambda: moment(data, "filled_at", default=now),
        "requested_expiry": lambda: _future_or_none(data),
    })
    if values["anticoagulant_volume_ml"] is not None and values["anticoagulant_volume_ml"] >= values["volume_ml"]:
        raise Invalid({"anticoagulant_volume_ml": "must be less than the bag's volume"})
    values["expires_at"] = expiry(values.pop("requested_expiry"), filled_at=values["filled_at"],
                                  shelf_life=shelf_life, now=now)
    return FillInput(**values)


def parse_placebo(data: Mapping[str, Any], *, default_volume_ml: float, shelf_life: timedelta,
                  now: datetime) -> PlaceboInput:
    """Read ``POST /placebo-bags``; the volume defaults to the protocol's placebo volume."""
    volume = data.get("volume_ml")
    values = read_fields({
        "count": lambda: _count(data.get("count")),
        "volume_ml": lambda: default_volume_ml if volume in (None, "") else _volume(volume, "volume_ml"),
        "saline_lot": lambda: container_lot(data.get("saline_lot"), "saline_lot"),
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
