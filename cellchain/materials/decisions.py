"""QC or QA releases a received material lot for use, or rejects it, with an e-signature (docs/rules.md,
"Materials"). The person who received the lot does not release it (the second person checks the delivery
against the certificate), and a decision is taken once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.schemas import RowWith
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Lot
from cellchain.materials import usage
from cellchain.materials.catalogue import certificates, lot_by_code
from cellchain.materials.models import Material, MaterialCertificate, MaterialLot
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality.models import Hold

DECIDERS = ("qc", "qa")
MATERIAL_LOT_DECIDED = "material_lot_decided"
RECEIVER_NOT_RELEASER = "material_receiver_not_releaser"
SIGNER_NOT_ACTOR = "signer_not_actor"
MAX_REASON = 2000
DECISIONS = {"release": ("released", "released"), "reject": ("rejected", "rejected")}
# What a refused person was trying to do, as the refusal names it (docs/architecture.md, "Languages").
DECISION_ACTIONS = {"release": N_("release a material lot"), "reject": N_("reject a material lot")}


def content(lot: MaterialLot, material: Material) -> dict[str, Any]:
    """What the decision signs: the lot as received (21 CFR 11.70: the signature is bound to it)."""
    return {"material_lot": lot.code, "material": material.name, "catalogue_number": material.catalogue_number,
            "supplier_lot": lot.supplier_lot, "expires_on": lot.expires_on, "quantity": lot.quantity_received,
            "unit": lot.unit, "origin": lot.origin, "donor_testing": lot.donor_testing}


def decide(session: Session, *, actor: Actor, code: str, decision: str, signature: signatures.SignatureInput,
           reason: Any, policy: Policy) -> MaterialLot:
    """Release (meaning ``released``) or reject (meaning ``rejected``, with a reason) a lot in quarantine."""
    require_role(actor.roles, *DECIDERS, action=DECISION_ACTIONS.get(decision, N_("decide a material lot")))
    status, meaning = DECISIONS[decision]
    text = reason.strip() if isinstance(reason, str) else ""
    if decision == "reject" and not text:
        raise Invalid({"reason": translated(N_("say why the lot is rejected"))})
    if len(text) > MAX_REASON:
        raise Invalid({"reason": translated(N_("up to {max_reason} characters")).format(max_reason=MAX_REASON)})
    if signature.meaning != meaning:
        raise Invalid({"signature.meaning": translated(N_(
            "here the meaning must be {meaning}")).format(meaning=meaning)})
    lot = session.exec(select(MaterialLot).where(MaterialLot.id == lot_by_code(session, code).id)
                       .with_for_update().execution_options(populate_existing=True)).one()
    reasons = []
    if lot.status != "quarantine":
        reasons.append(Reason(MATERIAL_LOT_DECIDED, code=lot.code, status=lot.status))
    if decision == "release" and lot.received_by == actor.id:
        reasons.append(Reason(RECEIVER_NOT_RELEASER, code=lot.code))
    if signature.username != actor.username:
        reasons.append(Reason(SIGNER_NOT_ACTOR))
    if reasons:
        raise Refused(reasons)
    material = session.get(Material, lot.material_id)
    signed = signatures.sign(session, signature, record_type="material_lot", record_id=lot.id,
                             content=content(lot, material), policy=policy, meanings=(meaning,), roles=DECIDERS,
                             action=DECISION_ACTIONS.get(decision, N_("decide a material lot")))
    lot.status, lot.decided_at, lot.decided_by = status, signed.signed_at, actor.id
    lot.decision_signature_id, lot.decision_reason = signed.id, text or None
    session.add(lot)
    session.flush()
    trail.record(session, actor=actor, record_type="material_lot", record_id=lot.id, action=decision,
                 old={"status": "quarantine"}, new={"status": status, "decided_at": lot.decided_at,
                                                    "signature_id": signed.id}, reason=text or None)
    return lot


def decision_signature(session: Session, lot: MaterialLot) -> Signature | None:
    return session.get(Signature, lot.decision_signature_id) if lot.decision_signature_id else None


# --- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotDetail:
    """A material lot's whole record: the lot, its material, the signed decision, certificates and uses."""

    lot: MaterialLot
    material: Material
    signature: Signature | None
    certificates: list[MaterialCertificate]
    uses: list[RowWith]
    hold: Hold | None

    @property
    def signer(self) -> str | None:
        return self.signature.signer_name if self.signature else None


def detail(session: Session, code: Any) -> LotDetail:
    lot = lot_by_code(session, code)
    uses = usage.uses_of(session, lot)
    lot_ids = sorted({u.lot_id for u in uses if u.lot_id is not None})
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids))).all()) if lot_ids else {}
    hold = session.exec(select(Hold).where(Hold.item_kind == "material_lot", Hold.item_id == lot.id,
                                           Hold.lifted_at.is_(None))).first()
    return LotDetail(lot, session.get(Material, lot.material_id), decision_signature(session, lot),
                     certificates(session, lot), [RowWith(u, lot_number=numbers.get(u.lot_id)) for u in uses], hold)
