"""Lot numbers as people read them.

A lot started from its cord is numbered by the cord's DIN; a lot thawed from a bank vial is
``<DIN>-L<nn>`` (docs/identifiers.md). Labels carry no lot structure of their own: ISBT 128's container lot
(``&)``) is the container maker's lot; a culture vessel's and a QC tube's local structures name the lot.
"""

from __future__ import annotations

import re

_FROM_VIAL = re.compile(r"([A-Z][0-9A-Z]{4}[0-9]{8})-?L([0-9]{2})")


def from_vial(din: str, sequence: int) -> str:
    """The ``sequence``-th lot of the cord ``din`` started from a thawed vial: ``<DIN>-L<nn>``."""
    return f"{din}-L{sequence:02d}"


def sequence_of(lot_number: str) -> int | None:
    """The ``nn`` of ``<DIN>-L<nn>``; None for a lot numbered by its DIN alone."""
    found = _FROM_VIAL.fullmatch(lot_number)
    return int(found.group(2)) if found and "-" in lot_number else None
