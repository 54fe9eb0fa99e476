"""The codes a record's page shows as pictures: what that record's label carries, from the label's own builder.

The values come from ``cellchain.labelling.data``, the same functions the printed labels are built from, so
a code scanned off the screen reads exactly what a code scanned off the label reads. Where a record has
no label with a 2D code (a lot), its QR carries the record's id.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from cellchain.identifiers import isbt128
from cellchain.labelling import data as build_data
from cellchain.labelling import label_items, pictures
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.pictures import Picture
from cellchain.manufacturing.rules.lot_numbers import container_text


def bag_codes(session: Session, bag: Any, settings: LabelSettings) -> list[Picture]:
    """The bag label's DIN and product code (Code 128) and its 2D code's content (as QR)."""
    label = build_data.bag_label(bag, label_items.recipient_of(session, bag), settings)
    return [pictures.code128("DIN", label["din_barcode"], label["din_eye_readable"]),
            pictures.code128("product code", label["product_code_barcode"], label["product_code_eye_readable"]),
            pictures.qr("bag label's 2D code", label["compound_2d"])]


def lot_codes(lot_number: str) -> list[Picture]:
    """The lot number structure (``&)``) and, as a lot has no label of its own, its id as QR."""
    return [pictures.code128("lot number", isbt128.encode_text("container_lot", container_text(lot_number)),
                             lot_number),
            pictures.qr("lot id", lot_number)]


def subject_codes(subject: Any, settings: LabelSettings) -> list[Picture]:
    """The wristband's subject id (Code 128) and its 2D code's content (as QR); none for a screen failure,
    who gets no wristband."""
    if not subject.eligible:
        return []
    band = build_data.wristband_label(subject, settings)
    return [pictures.code128("subject id", band["subject_barcode"], band["subject_id"]),
            pictures.qr("wristband's 2D code", band["subject_2d"])]
