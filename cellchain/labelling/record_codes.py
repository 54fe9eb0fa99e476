"""The codes a record's page shows as pictures: what that record's label carries, from the label's own builder.
Each picture's title is a catalogue message, worded in the reader's language where the page shows it.

The values come from ``cellchain.labelling.data``, the same functions the printed labels are built from, so
a code scanned off the screen reads exactly what a code scanned off the label reads. Where a record has
no label with a 2D code (a lot), its QR carries the record's id.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from cellchain.core.words import N_
from cellchain.labelling import data as build_data
from cellchain.labelling import label_items, pictures
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.pictures import Picture


def bag_codes(session: Session, bag: Any, settings: LabelSettings) -> list[Picture]:
    """The bag label's DIN and product code (Code 128) and its 2D code's content (as QR)."""
    label = build_data.bag_label(bag, label_items.recipient_of(session, bag), settings)
    return [pictures.code128(N_("DIN"), label["din_barcode"], label["din_eye_readable"]),
            pictures.code128(N_("product code"), label["product_code_barcode"], label["product_code_eye_readable"]),
            pictures.qr(N_("bag label's 2D code"), label["compound_2d"])]


def lot_codes(lot_number: str) -> list[Picture]:
    """A lot has no label of its own (its vessels and tubes carry their own local structures), so its QR
    carries its id. ``&)`` is the container maker's lot (ISBT 128 ST-001), never the lot number."""
    return [pictures.qr(N_("lot id"), lot_number)]


def subject_codes(subject: Any, settings: LabelSettings) -> list[Picture]:
    """The wristband's subject id (Code 128) and its 2D code's content (as QR), which carries the chain-of-
    identity identifier once randomized; none for a screen failure, who gets no wristband."""
    if not subject.eligible:
        return []
    band = build_data.wristband_label(subject, settings)
    return [pictures.code128(N_("subject id"), band["subject_barcode"], band["subject_id"]),
            pictures.qr(N_("wristband's 2D code"), band["subject_2d"])]
