"""Numbers written for reading: cell counts in grouped digits, counts with the right plural, volumes in ml.

One style everywhere a page or a printed record shows a count of cells: grouped digits, ``350,000,000``, the
way the lab pages already show passages and harvests (never ``3.5e+08``), with its power of ten beside it
where a reader compares orders of magnitude (``350,000,000 (3.5 x 10^8)``); a count of things agrees with its
noun (``1 bag``, ``2 bags``); a volume carries its unit.
"""

from __future__ import annotations

from cellchain.core.words import N_, translated

# A count with its noun, one and many, by the English noun: the whole phrase is one catalogue message, so a
# language without plurals (Chinese writes "3 袋") words it with its own measure word (docs/architecture.md,
# "Languages"). A noun not listed here reads in English.
COUNTED: dict[str, tuple[str, str]] = {
    "bag": (N_("{n} bag"), N_("{n} bags")),
    "placebo bag": (N_("{n} placebo bag"), N_("{n} placebo bags")),
    "expired bag": (N_("{n} expired bag"), N_("{n} expired bags")),
    "result": (N_("{n} result"), N_("{n} results")),
    "reading": (N_("{n} reading"), N_("{n} readings")),
    "item": (N_("{n} item"), N_("{n} items")),
    "visit": (N_("{n} visit"), N_("{n} visits")),
    "vial": (N_("{n} vial"), N_("{n} vials")),
    "bank": (N_("{n} bank"), N_("{n} banks")),
    "API token": (N_("{n} API token"), N_("{n} API tokens")),
    "lot": (N_("{n} lot"), N_("{n} lots")),
    "cord": (N_("{n} cord"), N_("{n} cords")),
    "day": (N_("{n} day"), N_("{n} days")),
}


def cells(value: float | int | None) -> str:
    """``350000000`` -> ``350,000,000``; ``3.5e8`` -> ``350,000,000``; None is empty."""
    if value is None:
        return ""
    return f"{float(value):,.0f}"


def scientific(value: float | int | None, digits: int = 3) -> str:
    """``350000000`` -> ``3.5 x 10^8``; ``70350000`` -> ``7.04 x 10^7``: at most ``digits`` significant digits,
    no trailing zeros (how a dose or a harvest is said aloud); None is empty."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    mantissa, exponent = f"{float(value):.{max(digits, 1) - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} x 10^{int(exponent)}"


def cells_and_power(value: float | int | None) -> str:
    """``350000000`` -> ``350,000,000 (3.5 x 10^8)``: the exact count and its order of magnitude; None is empty."""
    if value is None:
        return ""
    return f"{cells(value)} ({scientific(value)})"


def count(number: int | None, noun: str, plural: str | None = None) -> str:
    """``count(1, "bag")`` -> ``1 bag``; ``count(2, "bag")`` -> ``2 bags``; ``plural`` for other plurals;
    in the reader's language where ``COUNTED`` lists the noun."""
    n = number or 0
    if noun in COUNTED:
        return translated(COUNTED[noun][0 if n == 1 else 1]).format(n=n)
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def volume(ml: float | None) -> str:
    """``50.0`` -> ``50 ml``; None is empty."""
    return "" if ml is None else f"{float(ml):g} ml"
