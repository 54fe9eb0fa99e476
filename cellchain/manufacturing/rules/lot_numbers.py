"""Lot numbers as people read them and as a label's ISBT 128 container-lot structure (``&)``) carries them.

A lot started from its cord is numbered by the cord's DIN; a lot thawed from a bank vial is
``<DIN>-L<nn>`` (docs/identifiers.md). The container-lot data structure holds 1-18 upper-case letters
and digits only (ICCBBA ST-001, data structure 019), so the hyphen is left out on labels
(``A999926000001L01``, 16 characters) and put back when a scan is read.
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


def container_text(lot_number: str) -> str:
    """What a label's ``&)`` structure carries for the lot: its number without the hyphen."""
    return lot_number.replace("-", "")


def from_container(text: str) -> str:
    """The lot number a scanned ``&)`` structure names (the hyphen of ``<DIN>-L<nn>`` put back)."""
    found = _FROM_VIAL.fullmatch(text)
    return f"{found.group(1)}-L{found.group(2)}" if found else text
