"""Tiered cell banking (ICH Q5D, section 2.2 "Cell banking"): which lot makes which bank, which vial
starts which lot, and how cell age continues from the cord (docs/rules.md, "Banking").

A master cell bank (MCB) is frozen from a lot started straight from the cord; a working cell bank (WCB)
from a lot thawed from a released MCB vial; dosing lots from released WCB vials (or, if the site allows,
MCB vials). A bank is a frozen stage of one continuous culture: a lot thawed from it carries on the
bank's passage numbers and population doublings, so the passage limit counts from the cord.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cellchain.core.errors import Invalid, Reason
from cellchain.core.timeinput import parse_instant, stated_time_problems
from cellchain.core.words import N_, translated

MCB, WCB = "MCB", "WCB"
MAX_VIALS = 999
"""Vial codes number vials V001..V999 within a bank."""
MAX_CELLS_PER_VIAL = 10**10
"""How far ahead of the server's clock a recorded time may be (a workstation's clock runs fast)."""

LOT_NOT_FOR_BANK = "lot_not_for_bank"
BANK_LEVEL_NOT_ALLOWED = "bank_level_not_allowed"
BANK_PASSAGE_NOT_REACHED = "bank_passage_not_reached"
LOT_ALREADY_BANKED = "lot_already_banked"
BANK_LOT_NOT_IN_PROCESS = "bank_lot_not_in_process"
BANK_TIME_ORDER = "bank_time_order"
SOURCE_BANK_NOT_RELEASED = "source_bank_not_released"
THAW_PURPOSE_NOT_ALLOWED = "thaw_purpose_not_allowed"
VIAL_ALREADY_THAWED = "vial_already_thawed"
VIAL_NOT_AT_LAB = "vial_not_at_lab"
VIAL_DISCARDED = "vial_discarded"
BANK_AT_PASSAGE_LIMIT = "bank_at_passage_limit"


def bank_level_for(source_level: str | None) -> str | None:
    """The bank level a bank lot may make: MCB from a lot started from the cord (``source_level`` None),
    WCB from a lot thawed from an MCB vial; a lot thawed from a WCB vial makes no bank."""
    return {None: MCB, MCB: WCB}.get(source_level)


def bank_code(level: str, din: str, sequence: int) -> str:
    """``MCB-<DIN>`` (one per cord) or ``WCB-<DIN>-<nn>`` (the cord's nth working bank)."""
    return f"MCB-{din}" if level == MCB else f"WCB-{din}-{sequence:02d}"


def vial_code(bank: str, number: int) -> str:
    """``<bank code>-V<nnn>``: the vial's own identifier, carried as a local data structure on its label."""
    return f"{bank}-V{number:03d}"


def guard_freeze(*, purpose: str, status: str, source_level: str | None, level: str, passage: int,
                 reached: list[int], banked: bool) -> list[Reason]:
    """Every reason a lot cannot be frozen into a bank of ``level`` at ``passage``."""
    reasons = []
    if purpose != "bank":
        reasons.append(Reason(LOT_NOT_FOR_BANK))
    if status != "in_process":
        reasons.append(Reason(BANK_LOT_NOT_IN_PROCESS, status=status))
    allowed = bank_level_for(source_level)
    if level != allowed:
        variant = "" if source_level is None else "from_vial" if allowed else "no_bank"
        reasons.append(Reason(BANK_LEVEL_NOT_ALLOWED, variant=variant, source_level=source_level or "",
                              allowed_level=allowed or "", level=level))
    if passage not in reached:
        last = f"P{max(reached)}" if reached else N_("no passage yet")
        reasons.append(Reason(BANK_PASSAGE_NOT_REACHED, passage=passage, last=last))
    if banked:
        reasons.append(Reason(LOT_ALREADY_BANKED))
    return reasons


def guard_thaw(*, vial_state: str, custody_state: str | None, bank_level: str, bank_status: str, purpose: str,
               dosing_from_mcb: bool, bank_passage: int = 0, passage_limit: int | None = None) -> list[Reason]:
    """Every reason a vial cannot be thawed to start a lot of ``purpose`` (bank: the next tier; dosing).

    A vial is thawed once; it must be at the lab (taken out of storage); its bank must be released;
    a bank lot comes only from an MCB vial (it makes the WCB); a dosing lot from a WCB vial, or from an
    MCB vial where the site allows it (``DOSING_LOT_FROM_MCB``). A bank frozen at the passage limit
    (counted from the cord, ``PASSAGE_LIMIT``) would start a lot that could record no passage.
    """
    reasons = []
    if vial_state == "discarded" or custody_state == "discarded":
        reasons.append(Reason(VIAL_DISCARDED))
    elif vial_state == "thawed":
        reasons.append(Reason(VIAL_ALREADY_THAWED))
    elif custody_state != "at_lab":
        reasons.append(Reason(VIAL_NOT_AT_LAB, where=custody_state or "not_frozen"))
    if bank_status != "released":
        reasons.append(Reason(SOURCE_BANK_NOT_RELEASED, bank_level=bank_level, bank_status=bank_status))
    if passage_limit is not None and bank_passage >= passage_limit:
        reasons.append(Reason(BANK_AT_PASSAGE_LIMIT, bank_passage=bank_passage, passage_limit=passage_limit))
    if purpose == "bank" and bank_level != MCB:
        reasons.append(Reason(THAW_PURPOSE_NOT_ALLOWED, bank_level=bank_level))
    if purpose == "dosing" and bank_level == MCB and not dosing_from_mcb:
        reasons.append(Reason(THAW_PURPOSE_NOT_ALLOWED, variant="mcb_to_dosing"))
    return reasons


def continuation(bank_passage: int, bank_doublings: float) -> tuple[int, float]:
    """(first passage, doublings so far) of a lot thawed from a bank frozen at ``bank_passage``."""
    return bank_passage + 1, bank_doublings


@dataclass(frozen=True)
class FreezeInput:
    level: str
    passage: int
    vial_count: int
    cells_per_vial: int
    cryoprotectant: str
    frozen_at: datetime


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise Invalid({name: translated(N_("a whole number from {low} to {high}")).format(low=low, high=high)})
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise Invalid({name: translated(N_("a whole number from {low} to {high}")).format(low=low, high=high)})
    return value


def _cells(value: Any) -> int:
    try:
        number = float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not number.is_integer() or not 0 < number <= MAX_CELLS_PER_VIAL:
        raise Invalid({"cells_per_vial": translated(N_(
            "a positive whole number of cells, at most {max_cells_per_vial:.0e}")).format(
            max_cells_per_vial=MAX_CELLS_PER_VIAL)})
    return int(number)


def _text(value: Any, name: str, longest: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > longest:
        raise Invalid({name: translated(N_("1 to {longest} characters")).format(longest=longest)})
    return value.strip()


def parse_freeze(data: Mapping[str, Any], *, now: datetime) -> FreezeInput:
    """Read a freeze (level, passage, vials, cells per vial, cryoprotectant, frozen at), naming every bad field."""
    readers = {
        "level": lambda v: v if v in (MCB, WCB) else _refuse("level", translated(N_("MCB or WCB"))),
        "passage": lambda v: _whole(v, "passage", 0, 99),
        "vial_count": lambda v: _whole(v, "vial_count", 1, MAX_VIALS),
        "cells_per_vial": _cells,
        "cryoprotectant": lambda v: _text(v, "cryoprotectant", 60),
        "frozen_at": lambda v: now if v in (None, "") else parse_instant(v, "frozen_at"),
    }
    values, errors = _read(data, readers, optional=("frozen_at",))
    errors.update(stated_time_problems({"frozen_at": values.get("frozen_at")}, now=now))
    if errors:
        raise Invalid(errors, translated(N_("the bank has invalid fields")))
    return FreezeInput(**values)


@dataclass(frozen=True)
class ThawInput:
    purpose: str
    post_thaw_viability_pct: float
    thawed_at: datetime


def _viability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid({"post_thaw_viability_pct": translated(N_("a percentage from 0 to 100"))})
    try:
        number = float(value)
    except ValueError:
        raise Invalid({"post_thaw_viability_pct": translated(N_("a percentage from 0 to 100"))}) from None
    if not 0 <= number <= 100:
        raise Invalid({"post_thaw_viability_pct": translated(N_("a percentage from 0 to 100"))})
    return number


def parse_thaw(data: Mapping[str, Any], *, now: datetime) -> ThawInput:
    """Read a thaw (purpose of the lot it starts, post-thaw viability, thawed at), naming every bad field."""
    readers = {
        "purpose": lambda v: v if v in ("bank", "dosing") else _refuse("purpose", translated(N_("bank or dosing"))),
        "post_thaw_viability_pct": _viability,
        "thawed_at": lambda v: now if v in (None, "") else parse_instant(v, "thawed_at"),
    }
    values, errors = _read(data, readers, optional=("thawed_at",))
    errors.update(stated_time_problems({"thawed_at": values.get("thawed_at")}, now=now))
    if errors:
        raise Invalid(errors, translated(N_("the thaw has invalid fields")))
    return ThawInput(**values)


def _refuse(name: str, expected: str) -> Any:
    raise Invalid({name: expected})


def _read(data: Mapping[str, Any], readers: Mapping[str, Any], *, optional: tuple[str, ...]
          ) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(data, Mapping):
        raise Invalid({"body": translated(N_("must be an object"))})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, reader in readers.items():
        raw = data.get(name)
        if raw in (None, "") and name not in optional:
            errors[name] = translated(N_("is required"))
            continue
        try:
            values[name] = reader(raw)
        except Invalid as error:
            errors.update(error.fields or {name: error.message})
    return values, errors
