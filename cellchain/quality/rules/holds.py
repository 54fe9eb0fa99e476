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
    bag = f"bag {bag_code} of " if bag_code else ""
    return f"{bag}lot {lot_number} is ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold"


def on_hold(lot_number: str, hold_id: int, cause: str, bag_code: str | None = None) -> Reason:
    return Reason(LOT_ON_HOLD, on_hold_message(lot_number, hold_id, cause, bag_code))


def cause_of(result_id: int, test_name: str, value: str, limit: str) -> str:
    """The hold's cause as it is stored and shown: the result, its value and the limit it broke."""
    return f"{test_name} result {result_id} after release is {value} (limit {limit})"
