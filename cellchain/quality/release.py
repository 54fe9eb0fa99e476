"""QA release and rejection of a lot, with an e-signature bound to the lot's release content.

Release needs every element of docs/rules.md "Quality: release" at once, and a refusal names every element
that fails (not only the first), so QA sees the whole list of what is missing. The signature signs
:func:`release_content`; the certificate later recomputes it to say whether the record still matches
what was signed (Annex 11 section 8.2). Release takes the lot's bags out of quarantine; rejection
sends them to discard. The lot row is locked, so two reviewers cannot decide one lot twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.labelling.site import relabel
from cellchain.manufacturing import batch
from cellchain.manufacturing.lot_access import effective_passages, get_lot, lock_lot
from cellchain.manufacturing.models import Bag, Collection, LabelPrint, Lot, Passage
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import deviations, holds, lineage, qc, release_gaps
from cellchain.quality.models import Hold
from cellchain.quality.rules.spec_limits import SpecTest
from cellchain.ward import custody
from cellchain.ward.rules.custody_states import TERMINAL_STATES

SIGNER_NOT_ACTOR = "signer_not_actor"
DECISION_ACTIONS = {"released": "release", "rejected": "reject"}


def bags_of(session: Session, lot: Lot, *, lock: bool = False) -> list[Bag]:
    statement = select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.division, Bag.id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(session.exec(statement))


# --- what the signature signs -------------------------------------------------------------------------

def release_content(session: Session, lot: Lot) -> dict[str, Any]:
    """The canonical release content: identity, donor, every result, deviations, batch record and bags.

    It leaves out what the decision itself changes (lot status, bag quality status), and the results
    recorded after release (the sterility culture read on day 14), which QA did not sign: so the content
    signed at the decision is still the content afterwards unless the record really changed. A result's
    sample stage and time are shown beside it but left out of the hash, so that certificates signed
    before results carried them still match (results are append-only: neither can change).
    """
    collection = session.get(Collection, lot.collection_id)
    content = {
        "lot": lot.lot_number, "din": collection.din, "spec_version": lot.spec_version,
        "donor_eligibility": collection.eligibility, "collected_at": collection.collected_at,
        "results": [{"id": r.id, "test": r.test_code, "value": r.value, "unit": r.unit, "within_spec": r.within_spec,
                     "limit": r.limit_text, "repeat_of": r.repeat_of_id, "reason": r.reason,
                     "tested_at": r.tested_at, "recorded_by": r.recorded_by}
                    for r in qc.results_of(session, lot) if not r.after_release],
        "deviations": [{"number": d.number, "kind": d.kind, "test": d.test_code, "status": d.status,
                        "decision": d.decision, "justification": d.justification,
                        "closing_signature": d.closing_signature_id}
                       for d in reversed(deviations.listing(session, lot=lot))],
        "passages": [{"id": p.id, "number": p.number, "harvested_cells": p.harvested_cells,
                      "viability_pct": p.viability_pct} for p in effective_passages(session, lot.id)],
        "batch_steps": [{"id": e.step.id, "step": e.step.step_key, "performed_by": e.step.performed_by,
                         "verified_by": e.verification.verified_by if e.verification else None}
                        for e in batch.batch_record(session, lot).entries],
        "bags": [{"bag_id": b.bag_code, "volume_ml": b.volume_ml, "total_cells": b.total_cells,
                  "expires_at": b.expires_at} for b in bags_of(session, lot)],
    }
    sources = lineage.ancestors(session, lot)
    if sources:  # the banks' signed releases are part of this one; a lot from a cord has none
        content["inherited"] = [{"bank": s.bank.bank_code, "lot": s.bank_lot.lot_number,
                                 "release_signature": s.bank_lot.decision_signature_id} for s in sources]
    return content


@dataclass(frozen=True)
class Inherited:
    """A bank above the lot with the results it was released on: the lot inherits them (ICH Q5D)."""

    source: lineage.Source
    lines: list[qc.QcLine]
    accepted_tests: set[str]


def inherited(session: Session, lot: Lot) -> list[Inherited]:
    """The banks a lot's cells were thawed from, nearest first, each with its QC table."""
    found = []
    for source in lineage.ancestors(session, lot):
        rows = deviations.listing(session, lot=source.bank_lot)
        found.append(Inherited(source, qc.table(session, source.bank_lot), deviations.accepted_test_codes(rows)))
    return found


def decision_signature(session: Session, lot: Lot) -> Signature | None:
    return session.get(Signature, lot.decision_signature_id) if lot.decision_signature_id else None


# --- decisions ----------------------------------------------------------------------------------------

def _check_meaning(signature: signatures.SignatureInput, meaning: str) -> None:
    if signature.meaning != meaning:
        raise Invalid({"signature.meaning": translated(N_(
            "here the meaning must be {meaning}")).format(
            meaning=meaning)})


def _signer_gap(signature: signatures.SignatureInput, actor: Actor) -> list[Reason]:
    if signature.username == actor.username:
        return []
    return [Reason(SIGNER_NOT_ACTOR)]


def _decide(session: Session, *, actor: Actor, lot: Lot, signed: Signature, status: str, reason: str | None,
            ranges: Mapping[str, Any] | None = None, at: datetime | None = None) -> Lot:
    """Write the decision on the lot and every bag of it, each with its audit entry, in this transaction."""
    old = {"status": lot.status}
    lot.status, lot.decided_at, lot.decided_by = status, at or signed.signed_at, actor.id
    lot.decision_signature_id, lot.decision_reason = signed.id, reason
    session.add(lot)
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action=DECISION_ACTIONS[status],
                 old=old, new={"status": status, "signature_id": signed.id, "decided_at": lot.decided_at},
                 reason=reason)
    for bag in bags_of(session, lot, lock=True):
        before = bag.quality_status
        bag.quality_status = status
        session.add(bag)
        trail.record(session, actor=actor, record_type="bag", record_id=bag.id, action=f"lot_{status}",
                     old={"quality_status": before}, new={"quality_status": status, "lot": lot.lot_number},
                     reason=reason)
        if status == "rejected" and bag.custody_state is not None and bag.custody_state not in TERMINAL_STATES:
            custody.record_system_event(session, actor=actor, record=bag, ranges=ranges or {},
                                        handover=custody.Handover(event="discarded", location="QA decision",
                                                                  notes=f"lot {lot.lot_number} rejected"))
    session.flush()
    return lot


def release(session: Session, *, actor: Actor, lot_number: str, signature: signatures.SignatureInput,
            policy: Policy, steps: Sequence[StepDef] = DEFAULT_STEPS, now: datetime | None = None) -> Lot:
    """Release a lot (docs/rules.md, "Quality: release"); refused with every failing reason, nothing written.

    ``now`` is the decision time recorded on the lot (the signature keeps its own, real, time); only the demo
    passes it, for its lots released weeks ago."""
    require_role(actor.roles, "qa", action=N_("release a lot"))
    _check_meaning(signature, "released")
    lot = lock_lot(session, lot_number)
    gaps = release_gaps.of_lot(session, lot, actor, steps) + _signer_gap(signature, actor)
    if gaps:
        raise Refused(gaps, f"lot {lot_number} cannot be released: " + "; ".join(g.message for g in gaps))
    signed = signatures.sign(session, signature, record_type="lot", record_id=lot.id,
                             content=release_content(session, lot), policy=policy, meanings=("released",),
                             roles=("qa",), action=N_("release a lot"))
    return _decide(session, actor=actor, lot=lot, signed=signed, status="released", reason=None, at=now)


def reject(session: Session, *, actor: Actor, lot_number: str, signature: signatures.SignatureInput, reason: Any,
           policy: Policy, ranges: Mapping[str, Any]) -> Lot:
    """Reject a lot with a reason; its bags are rejected and discarded. Rejecting needs no independence:
    refusing a product is always safe, and the maker may be the first to see it must go."""
    require_role(actor.roles, "qa", action=N_("reject a lot"))
    _check_meaning(signature, "rejected")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": translated(N_("say why the lot is rejected"))})
    lot = lock_lot(session, lot_number)
    decided = release_gaps.status_gaps(lot) if lot.status in qc.DECIDED_STATUSES else []
    gaps = decided + _signer_gap(signature, actor)
    if gaps:
        raise Refused(gaps)
    signed = signatures.sign(session, signature, record_type="lot", record_id=lot.id,
                             content=release_content(session, lot), policy=policy, meanings=("rejected",),
                             roles=("qa",), action=N_("reject a lot"))
    return _decide(session, actor=actor, lot=lot, signed=signed, status="rejected", reason=reason.strip(),
                   ranges=ranges)


# --- does a certificate still match the record? -------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """A certificate's hash against the decision signature and against the record as it is now."""

    lot: Lot
    signature: Signature | None
    presented_hash: str
    current_hash: str

    @property
    def is_signature_of_lot(self) -> bool:
        return self.signature is not None and self.presented_hash == self.signature.record_hash

    @property
    def record_unchanged(self) -> bool:
        return self.signature is not None and self.current_hash == self.signature.record_hash

    @property
    def ok(self) -> bool:
        return self.is_signature_of_lot and self.record_unchanged


def verify_certificate(session: Session, lot_number: str, presented_hash: str) -> Verification:
    lot = get_lot(session, lot_number)
    current = signatures.record_hash(release_content(session, lot))
    return Verification(lot=lot, signature=decision_signature(session, lot), presented_hash=presented_hash or "",
                        current_hash=current)


# --- everything QA reviews, on one screen --------------------------------------------------------------

@dataclass(frozen=True)
class Review:
    """The lot's whole record for the QA review page, and what still stands in the way of release."""

    lot: Lot
    collection: Collection
    qc_lines: list[qc.QcLine]
    deviations: list[Any]
    accepted_tests: set[str]
    passages: list[Passage]
    batch_record: batch.BatchRecord
    bags: list[Bag]
    custody_events: list[tuple[str, Any]]
    gaps: list[Reason]
    signature: Signature | None
    people: dict[int, str]
    pending_after_release: list[SpecTest]
    holds: list[Hold]
    inherited: list[Inherited]
    relabel: list[LabelPrint]  # after release: the bag labels printed in quarantine, to be replaced

    @property
    def decided(self) -> bool:
        return self.lot.status in qc.DECIDED_STATUSES


def _people(session: Session) -> dict[int, str]:
    return {u.id: u.full_name for u in session.exec(select(User))}


def review(session: Session, lot_number: str, reviewer: Actor | None,
           steps: Sequence[StepDef] = DEFAULT_STEPS) -> Review:
    """Batch record, QC table, deviations and custody of one lot, with the release gaps by name."""
    lot = get_lot(session, lot_number)
    collection = session.get(Collection, lot.collection_id)
    bags = bags_of(session, lot)
    lot_deviations = deviations.listing(session, lot=lot)
    events = [(collection.din, e) for e in custody.events_of(session, "collection", collection.id)]
    for bag in bags:
        events += [(bag.bag_code, e) for e in custody.events_of(session, "bag", bag.id)]
    return Review(lot=lot, collection=collection, qc_lines=qc.table(session, lot), deviations=lot_deviations,
                  accepted_tests=deviations.accepted_test_codes(lot_deviations),
                  passages=effective_passages(session, lot.id), batch_record=batch.batch_record(session, lot, steps),
                  bags=bags, custody_events=events,
                  gaps=[] if lot.status in qc.DECIDED_STATUSES else release_gaps.of_lot(session, lot, reviewer, steps),
                  signature=decision_signature(session, lot), people=_people(session),
                  pending_after_release=release_gaps.pending_after_release(session, lot),
                  holds=[hold for hold, _ in holds.listing(session, lot_id=lot.id)], inherited=inherited(session, lot),
                  relabel=relabel.to_replace(session, lot))


def awaiting_review(session: Session) -> list[Lot]:
    """Lots with filled bags waiting for a QA decision, oldest first."""
    statement = select(Lot).where(Lot.status == "awaiting_release").order_by(Lot.created_at, Lot.id)
    return list(session.exec(statement))


def recently_decided(session: Session, limit: int = 20) -> list[Lot]:
    statement = select(Lot).where(Lot.status.in_(qc.DECIDED_STATUSES)).order_by(Lot.decided_at.desc()).limit(limit)
    return list(session.exec(statement))
