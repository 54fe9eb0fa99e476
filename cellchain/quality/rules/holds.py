"""What a hold on a lot says wherever one of its bags is refused (docs/rules.md, "Quality: holds").

A result recorded after a lot's release that is out of specification (a positive 14-day sterility
culture of a product released on rapid tests: USP <71>, Ph. Eur. 2.6.1, 2.6.27) holds the lot: every
bag of it not yet infused is refused at allocation, at dispatch and at the bedside, by this one
wording, until QA lifts the hold with an e-signature.
"""

from __future__ import annotations

from cellchain.core.errors import Reason
from cellchain.core.words import N_, translated
from cellchain.core.words.sentences import Sentence, sentence

LOT_ON_HOLD = "lot_on_hold"


def on_hold_message(lot_number: str, hold_id: int, cause: str, bag_code: str | None = None) -> str:
    """The refusal's words: which bag, which lot, which hold and the result that caused it."""
    return on_hold(lot_number, hold_id, cause, bag_code).message


def on_hold(lot_number: str, hold_id: int, cause: str, bag_code: str | None = None) -> Reason:
    if bag_code:
        return Reason(LOT_ON_HOLD, variant="bag", bag_code=bag_code, lot_number=lot_number, hold_id=hold_id,
                      cause=cause)
    return Reason(LOT_ON_HOLD, lot_number=lot_number, hold_id=hold_id, cause=cause)


def cause_of(result_id: int, test_name: str, value: str, limit: str) -> Sentence:
    """The hold's cause: the result, its value and the limit it broke, read in each reader's language."""
    return sentence("result_after_release", test_name=test_name, result_id=result_id, value=value, limit=limit)


# --- holds on any item -------------------------------------------------------------------------------
# QA holds a collection (the cord), a cell bank, a lot or a bag; the hold reaches everything derived from
# it (a bag is held if it, its lot, any bank its cells came through, any lot those banks were frozen from,
# or its cord is held). A refusal names the held item and the hold, so the person stopped knows whom to ask.

ITEM_ON_HOLD = "item_on_hold"
# A material lot found bad later (a platelet lysate lot whose donors' tests came back positive) reaches every
# lot it went into, every lot thawed from a bank frozen from one of them, their bags and the placebo bags whose
# saline it was: each is refused by this name, which says what it was made with.
MADE_WITH_HELD_MATERIAL = "made_with_held_material"
ITEM_WORDS = {"collection": N_("cord"), "bank": N_("cell bank"), "lot": N_("lot"), "bag": N_("bag"), "vial": N_("vial"),
              "material_lot": N_("material lot")}


def item_words(kind: str, code: str) -> str:
    """An item as a sentence names it: "cord A9999...", "cell bank MCB-...", "lot ...", "bag ..."."""
    return f"{translated(ITEM_WORDS[kind]) if kind in ITEM_WORDS else kind} {code}"


def reaching(held_kind: str, held_code: str, hold_id: int, cause: str, kind: str, code: str) -> Reason:
    """Why ``kind`` ``code`` is refused: the hold on ``held_kind`` ``held_code`` reaches it. A lot's own hold
    (or a bag's lot's) keeps the lot hold's words; any other item's hold names the held item."""
    if held_kind == "lot" and kind == "bag":
        return on_hold(held_code, hold_id, cause, code)
    if held_kind == "material_lot" and kind != "material_lot":
        return Reason(MADE_WITH_HELD_MATERIAL, item=item_words(kind, code), held=item_words(held_kind, held_code),
                      hold_id=hold_id, cause=cause)
    if (held_kind, held_code) == (kind, code):
        if kind == "lot":
            return on_hold(code, hold_id, cause)
        return Reason(ITEM_ON_HOLD, item=item_words(kind, code), hold_id=hold_id, cause=cause)
    return Reason(ITEM_ON_HOLD, variant="derived", item=item_words(kind, code), held=item_words(held_kind, held_code),
                  hold_id=hold_id, cause=cause)
