"""Numbers written for reading: cell counts in powers of ten, counts with the right plural, volumes in ml.

One style everywhere: a cell count is written as the lab and the protocol write it, ``3.5 × 10⁸``; a
count of things agrees with its noun (``1 bag``, ``2 bags``); a volume carries its unit.
"""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def cells(value: float | int | None, digits: int = 3) -> str:
    """``350000000`` -> ``3.5 × 10⁸``; below 10 000 the number is written out; None is empty."""
    if value is None:
        return ""
    number = float(value)
    if number == 0 or abs(number) < 10_000:
        return f"{number:,.{digits}g}"
    exponent = math.floor(math.log10(abs(number)))
    mantissa = float(f"{number / 10 ** exponent:.{digits}g}")
    if abs(mantissa) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:g} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def count(number: int | None, noun: str, plural: str | None = None) -> str:
    """``count(1, "bag")`` -> ``1 bag``; ``count(2, "bag")`` -> ``2 bags``; ``plural`` for other plurals."""
    n = number or 0
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def volume(ml: float | None) -> str:
    """``50.0`` -> ``50 ml``; None is empty."""
    return "" if ml is None else f"{float(ml):g} ml"
