"""Which labels a lot's release makes wrong: the bag labels printed while the lot was in quarantine.

A bag label printed before release says QUARANTINE (``data.quarantine_status``); once QA releases the lot,
each such label still in the lab's hands or on its bag must be replaced by a released label and then be
destroyed (accounted for on the print page). The QA lot page and the release API answer list them.
"""

from __future__ import annotations

from sqlmodel import Session, select

from cellchain.manufacturing.models import Bag, LabelPrint, Lot

BAG_KINDS = ("bag", "thawed_bag")
IN_HAND = ("printed", "applied")


def to_replace(session: Session, lot: Lot) -> list[LabelPrint]:
    """The lot's bag labels that say QUARANTINE and are not yet voided or destroyed, by bag then print;
    none before the lot is released."""
    if lot.status != "released":
        return []
    statement = (select(LabelPrint).join(Bag, (Bag.id == LabelPrint.item_id) & (LabelPrint.item_type == "bag"))
                 .where(Bag.lot_id == lot.id, LabelPrint.label_kind.in_(BAG_KINDS),
                        LabelPrint.status.in_(IN_HAND))
                 .order_by(LabelPrint.item_key, LabelPrint.printed_at, LabelPrint.id))
    return [row for row in session.exec(statement) if (row.content or {}).get("quarantine_text")]
