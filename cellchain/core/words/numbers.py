"""Numbers written for reading: cell counts in grouped digits, counts with the right plural, volumes in ml.

One style everywhere a page shows a count of cells: grouped digits, ``350,000,000``, the way the lab pages
already show passages and harvests (never ``3.5e+08``); a count of things agrees with its noun (``1 bag``,
``2 bags``); a volume carries its unit.
"""

from __future__ import annotations


def cells(value: float | int | None) -> str:
    """``350000000`` -> ``350,000,000``; ``3.5e8`` -> ``350,000,000``; None is empty."""
    if value is None:
        return ""
    return f"{float(value):,.0f}"


def count(number: int | None, noun: str, plural: str | None = None) -> str:
    """``count(1, "bag")`` -> ``1 bag``; ``count(2, "bag")`` -> ``2 bags``; ``plural`` for other plurals."""
    n = number or 0
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def volume(ml: float | None) -> str:
    """``50.0`` -> ``50 ml``; None is empty."""
    return "" if ml is None else f"{float(ml):g} ml"
