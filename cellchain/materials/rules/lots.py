"""What a received material lot is, and whether it may be used now: plain Python (docs/rules.md, "Materials").

A material lot is used only while released by QC or QA, not rejected, not on hold and not past its expiry
(EU GMP Part I 5.35: starting materials are released before use; 5.31: used in date). Each refusal names
the lot: the material, the supplier's lot number and this site's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cellchain.core.errors import Reason

SUPPLIER_LOT = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")  # GS1 character set 82, as (10)
EXPIRED = "material_lot_expired"
NOT_RELEASED = "material_lot_not_released"
REJECTED = "material_lot_rejected"
ON_HOLD = "material_lot_on_hold"
SHORT = "material_lot_short"
WRONG_KIND = "material_lot_wrong_kind"
INVALID_WHEN_USED = "material_lot_invalid_when_used"


@dataclass(frozen=True)
class LotFacts:
    """A material lot as the use rules read it."""

    code: str
    material: str
    kind: str
    supplier_lot: str
    status: str
    expires_on: date
    quantity_left: float
    unit: str
    hold_id: int | None = None
    hold_cause: str | None = None


def _named(facts: LotFacts) -> dict[str, str]:
    return {"material": facts.material, "supplier_lot": facts.supplier_lot, "code": facts.code}


def guard_use(facts: LotFacts, *, on: date, quantity: float | None = None, kinds: tuple[str, ...] = ()) -> list[Reason]:
    """Every reason the lot may not be used on ``on`` (``[]`` when it may): rejected, not released, on hold,
    expired, of another kind than the step needs, or fewer left than ``quantity``."""
    reasons = []
    if facts.status == "rejected":
        reasons.append(Reason(REJECTED, **_named(facts)))
    elif facts.status != "released":
        reasons.append(Reason(NOT_RELEASED, status=facts.status, **_named(facts)))
    if facts.hold_id is not None:
        reasons.append(Reason(ON_HOLD, hold_id=facts.hold_id, cause=facts.hold_cause or "", **_named(facts)))
    if facts.expires_on < on:
        reasons.append(Reason(EXPIRED, expires_on=facts.expires_on.isoformat(), **_named(facts)))
    if kinds and facts.kind not in kinds:
        reasons.append(Reason(WRONG_KIND, kind=facts.kind, needs=kinds[0], **_named(facts)))
    if quantity is not None and quantity > facts.quantity_left + 1e-9:
        reasons.append(Reason(SHORT, left=facts.quantity_left, unit=facts.unit, quantity=quantity, **_named(facts)))
    return reasons


def invalid_when_used(facts: LotFacts, *, status_at_use: str, used_on: date, lot_number: str,
                      step: str) -> list[Reason]:
    """A use the release check names: the material lot was not released, or was expired, when it was used, or
    it has been rejected since (a lot made with it is not released). A hold placed on it since is the hold's
    own release gap (``made_with_held_material``, docs/rules.md "Quality: holds"), said there once for every
    lot it reaches."""
    why = []
    if status_at_use != "released":
        why.append(f"{status_at_use} when used")
    if facts.expires_on < used_on:
        why.append(f"expired on {facts.expires_on.isoformat()}")
    if facts.status == "rejected" and status_at_use != "rejected":
        why.append("rejected since")
    if not why:
        return []
    return [Reason(INVALID_WHEN_USED, lot_number=lot_number, step=step, why=", ".join(why), **_named(facts))]
