"""Dose rules: 1 x 10^6 UC-MSC per kg of body weight, or 50 ml saline for placebo (NCT01690247).

The dose is the configured cells/kg times the weight at the visit, within the configured tolerance
(default +/-10%, the cell-count tolerance of the release specification; docs/rules.md, "Trial: allocation
and dose"). Every number here is a parameter with the protocol's default, because the protocol's
numbers are site configuration.

The tolerance bounds are computed with exact fractions, not floats: 0.9 x 7e7 in floating point is
62999999.99999999, which would refuse a bag holding exactly -10%. Cell counts are whole numbers, so
``low`` and ``high`` are the smallest and largest whole counts accepted, both inclusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from cellchain.core.errors import Invalid, Reason
from cellchain.core.words import N_, translated

CELLS_PER_KG = 1e6
DOSE_TOLERANCE = 0.10
PLACEBO_VOLUME_ML = 50.0
PLACEBO_TOLERANCE_ML = 5.0


@dataclass(frozen=True)
class DoseCheck:
    """Whether a bag's cells suit a subject's weight, with the numbers a pharmacist needs to see."""

    ok: bool
    required: int
    low: int
    high: int
    deviation_pct: float
    reason: Reason | None


def validate_weight(weight_kg: object, *, min_kg: float = 20.0, max_kg: float = 300.0) -> float:
    """Return the weight as a float, or raise ``Invalid`` for a value no adult patient could have.

    The dose scales with weight, so a typing slip (70 keyed as 700, or grams as kilograms) would give
    a tenfold dose; limits are parameters so a site can set its own plausible range.
    """
    value = _positive_number(weight_kg)
    if value is None:
        raise Invalid({"weight_kg": translated(N_("must be a positive number of kilograms"))})
    if not min_kg <= value <= max_kg:
        raise Invalid({"weight_kg": translated(N_(
            "{value:g} kg is outside the plausible range {min_kg:g}-{max_kg:g} kg")).format(
            value=value, min_kg=min_kg, max_kg=max_kg)})
    return value


def required_cells(weight_kg: float, cells_per_kg: float = CELLS_PER_KG) -> int:
    """Cells the protocol calls for at this weight (1 x 10^6/kg by default), rounded to a whole cell."""
    weight = _exact(weight_kg, "weight_kg")
    per_kg = _exact(cells_per_kg, "cells_per_kg")
    cells = round(weight * per_kg)
    if cells < 1:
        raise Invalid({"weight_kg": translated(N_("gives a dose of less than one cell"))})
    return cells


def check_dose(
    total_cells: float,
    weight_kg: float,
    *,
    cells_per_kg: float = CELLS_PER_KG,
    tolerance: float = DOSE_TOLERANCE,
) -> DoseCheck:
    """Compare a bag's total cells with the required dose; ok within +/-tolerance, bounds included."""
    total = _exact(total_cells, "total_cells")
    tol = _tolerance(tolerance)
    required = required_cells(weight_kg, cells_per_kg)
    low, high = math.ceil(required * (1 - tol)), math.floor(required * (1 + tol))
    deviation_pct = float((total - required) / required * 100)
    ok = low <= total <= high
    reason = None if ok else _dose_reason(total, float(weight_kg), required, tol, low, high)
    return DoseCheck(ok, required, low, high, deviation_pct, reason)


def _dose_reason(total: Fraction, weight: float, required: int, tol: Fraction, low: int, high: int) -> Reason:
    """Name the numbers; use as many digits as it takes for the bag's count to differ from a bound."""
    digits = next((d for d in range(1, 16) if _sci(total, d) not in (_sci(low, d), _sci(high, d))), 15)
    deviation = float((total - required) / required * 100)
    return Reason("dose_out_of_tolerance", total=_sci(total, digits), weight_kg=weight, required=_sci(required),
                  tolerance_pct=float(tol) * 100, low=_sci(low, digits), high=_sci(high, digits),
                  deviation_pct=f"{deviation:+.{digits + 2}g}")


def check_placebo_volume(
    volume_ml: float, *, expected_ml: float = PLACEBO_VOLUME_ML, tolerance_ml: float = PLACEBO_TOLERANCE_ML
) -> Reason | None:
    """Placebo arm: 50 ml saline; ``None`` when within +/-tolerance_ml (bounds included), else why not.

    The default 5 ml mirrors the 10% dose tolerance; it is a site choice, hence a parameter.
    """
    volume = _exact(volume_ml, "volume_ml")
    expected = _exact(expected_ml, "expected_ml")
    margin = Fraction(str(tolerance_ml))
    if expected - margin <= volume <= expected + margin:
        return None
    return Reason("placebo_volume_out_of_tolerance", volume_ml=float(volume), expected_ml=float(expected),
                  margin_ml=float(margin))


def _positive_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _exact(value: object, name: str) -> Fraction:
    """The number as written (Fraction of its decimal text), so 0.1 means one tenth exactly."""
    number = _positive_number(value)
    if number is None:
        raise Invalid({name: translated(N_("must be a positive number"))})
    return Fraction(value) if isinstance(value, int) else Fraction(str(number))


def _tolerance(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise Invalid({"tolerance": translated(N_("must be a fraction from 0 up to (not including) 1"))})
    return Fraction(str(value))


def _sci(value: float | Fraction | int, digits: int = 1) -> str:
    """Scientific notation as people write it on a bag: 7.0e7, not 7.0e+07."""
    mantissa, exponent = f"{float(value):.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"
