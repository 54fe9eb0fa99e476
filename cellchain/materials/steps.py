"""Material lots added to a step already recorded: a passage's platelet lysate and medium, the harvest's
enzyme, the formulation's DMSO. The steps that carry numbers are written by their own forms; the material
lots of any step are recorded here, scanned, while its second-person verification is not yet signed (a
verified step is what was signed). docs/rules.md, "Materials"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.manufacturing.lot_access import lock_lot
from cellchain.manufacturing.models import BatchStep, BatchStepVerification
from cellchain.materials import usage
from cellchain.materials.models import MaterialUse
from cellchain.people.rules.roles import Actor, require_role

LOT_CLOSED = "lot_closed"
STEP_ALREADY_VERIFIED = "step_already_verified"


def add_to_step(session: Session, *, actor: Actor, lot_number: str, step_id: Any, data: Mapping[str, Any],
                tz: ZoneInfo | None = None, gs_substitute: str = "") -> list[MaterialUse]:
    """Record the material lots used at step ``step_id`` of the lot, used when the step was performed."""
    require_role(actor.roles, "lab", action=N_("record the material lots of a step"))
    entries = usage.parse_entries(data.get("materials"))
    if not entries:
        raise Invalid({"materials": translated(N_("scan at least one material lot and give the quantity used"))})
    lot = lock_lot(session, lot_number)
    step = session.get(BatchStep, step_id) if isinstance(step_id, int) else None
    if step is None or step.lot_id != lot.id:
        raise NotFound(f"lot {lot.lot_number} has no step {step_id}")
    reasons = []
    if lot.status in ("released", "rejected"):
        reasons.append(Reason(LOT_CLOSED, lot_number=lot.lot_number, status=lot.status))
    if session.exec(select(BatchStepVerification.id).where(BatchStepVerification.step_id == step.id)).first():
        reasons.append(Reason(STEP_ALREADY_VERIFIED, step_key=step.step_key))
    if reasons:
        raise Refused(reasons)
    return usage.use_at_step(session, actor=actor, lot_id=lot.id, lot_number=lot.lot_number, step_id=step.id,
                             step_key=step.step_key, entries=entries, used_at=step.performed_at, tz=tz,
                             gs_substitute=gs_substitute)
