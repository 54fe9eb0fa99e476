"""What a hold on a lot says wherever one of its bags is refused (docs/rules.md, "Quality: holds").

A result recorded after a lot's release that is out of specification (a positive 14-day sterility
culture of a product released on rapid tests: USP <71>, Ph. Eur. 2.6.1, 2.6.27) holds the lot: every
bag of it not yet infused is refused at allocation, at dispatch and at the bedside, by this one
wording, until QA lifts the hold with an e-signature.
"""

from __future__ import annotations

from cellchain.core.errors import Reason

LOT_ON_HOLD = "lot_on_hold"


def on_hold_message(lot_number: str, hold_id: int, cause: str, bag_code: str | None = None) -> str:
    """The refusal's words: which bag, which lot, which hold and the result that caused it."""
    return on_hold(lot_number, hold_id, cause, bag_code).message


def on_hold(lot_number: str, hold_id: int, cause: str, bag_code: str | None = None) -> Reason:
    if bag_code:
        return Reason(LOT_ON_HOLD, variant="bag", bag_code=bag_code, lot_number=lot_number, hold_id=hold_id,
                      cause=cause)
    return Reason(LOT_ON_HOLD, lot_number=lot_number, hold_id=hold_id, cause=cause)


def cause_of(result_id: int, test_name: str, value: str, limit: str) -> str:
    """The hold's cause as it is stored and shown: the result, its value and the limit it broke."""
    return f"{test_name} result {result_id} after release is {value} (limit {limit})"
