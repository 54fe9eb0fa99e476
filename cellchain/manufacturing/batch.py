"""The batch record of a lot: each SOP step as performed, by whom and when, and its second-person check.

The checklist is the SOP's (``batch_record.DEFAULT_STEPS``, or a site's ``BATCH_RECORD_STEPS``);
what counts as complete is decided by ``batch_record.completeness``. Steps that carry numbers
(passages, harvest, formulation, fill) are written by their own use cases together with those numbers,
so the record can never say "harvested" without saying how many cells. A verification is an
e-signature with the meaning "verified", bound to the step's content, and never by its performer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.fields import read_fields
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.equipment import usage
from cellchain.manufacturing.lot_access import effective_passages, effective_steps, lock_lot, moment, people
from cellchain.manufacturing.models import LABEL_STATUSES, Bag, BatchStep, BatchStepVerification, LabelPrint, Lot
from cellchain.manufacturing.rules import batch_record as rules
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from cellchain.materials import usage as materials
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role

AUTOMATIC_STEPS = frozenset({"passage", "harvest", "formulation", "fill", "bank_freeze"})
"""Steps written by their own use case with the numbers they carry, never entered as a bare step."""
CLOSED_STATUSES = ("released", "rejected")

LOT_CLOSED = "lot_closed"
STEP_RECORDED_ELSEWHERE = "step_recorded_elsewhere"
STEP_ALREADY_RECORDED = "step_already_recorded"
STEP_ALREADY_VERIFIED = "step_already_verified"
PASSAGE_NOT_RECORDED = "passage_not_recorded"
SIGNER_NOT_ACTOR = "signer_not_actor"
MAX_DETAILS = 20


def step_definitions(configured: Sequence[Mapping[str, Any]] | None) -> tuple[StepDef, ...]:
    """The checklist from configuration (``BATCH_RECORD_STEPS``); ``None`` is the built-in SOP."""
    if configured is None:
        return DEFAULT_STEPS
    steps = []
    for item in configured:
        if not isinstance(item, Mapping) or not isinstance(item.get("code"), str) or not item.get("title"):
            raise ValueError(f"BATCH_RECORD_STEPS entry {item!r} needs a code and a title")
        steps.append(StepDef(item["code"], str(item["title"]), bool(item.get("needs_verification", False)),
                             bool(item.get("repeat_per_passage", False))))
    return tuple(steps)


def _defs_by_code(steps: Sequence[StepDef]) -> dict[str, StepDef]:
    return {s.code: s for s in steps}


def step_title(key: str, steps: Sequence[StepDef]) -> str:
    code, _, number = key.partition(":")
    step = _defs_by_code(steps).get(code)
    title = translated(step.title) if step else code.replace("_", " ")
    return f"{title} P{number}" if number else title


def needs_verification(key: str, steps: Sequence[StepDef]) -> bool:
    step = _defs_by_code(steps).get(key.partition(":")[0])
    return bool(step and step.needs_verification)


def add_step(session: Session, *, actor: Actor, lot: Lot, key: str, details: dict[str, Any],
             performed_at: datetime, instruments: Any = None) -> BatchStep:
    """Write one step and its audit entry (callers have locked the lot and applied their rules), and the
    instruments it used (``instruments``: their scans), each refused by name if unfit at ``performed_at``."""
    row = BatchStep(lot_id=lot.id, step_key=key, details=details, performed_by=actor.id, performed_at=performed_at)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="batch_step", record_id=row.id, action="record",
                 new={"lot": lot.lot_number, "step": key, "details": details, "performed_at": performed_at,
                      "performed_by": actor.username})
    usage.record_uses(session, actor=actor, step_id=row.id, lot_number=lot.lot_number, step_key=key,
                      raw=instruments, used_at=performed_at)
    return row


@dataclass(frozen=True)
class StepInput:
    code: str
    passage_number: int | None
    details: dict[str, Any]
    performed_at: datetime


def _details(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping) or len(value) > MAX_DETAILS:
        raise Invalid({"details": translated(N_(
            "an object of up to {max_details} named values")).format(max_details=MAX_DETAILS)})
    for name, item in value.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 40:
            raise Invalid({"details": translated(N_("each name is 1-40 characters"))})
        if isinstance(item, float) and item != item:  # NaN cannot be signed or printed
            raise Invalid({f"details.{name}": translated(N_("not a number"))})
        if not (item is None or isinstance(item, (bool, int, float)) or (isinstance(item, str) and len(item) <= 200)):
            raise Invalid({f"details.{name}": translated(N_("text up to 200 characters, a number or true/false"))})
    return dict(value)


def details_from_lines(text: str) -> dict[str, str]:
    """``name: value`` lines typed on a form as the step's details (a line without ``:`` is a note)."""
    details: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        key = name.strip() if sep and name.strip() else f"note {number}"
        details[key[:40]] = (value if sep else line).strip()
    return details


def parse_step(data: Mapping[str, Any], steps: Sequence[StepDef]) -> StepInput:
    """Read ``POST /lots/{id}/batch-steps``, naming every bad field at once."""
    fields: dict[str, str] = {}
    code = data.get("step")
    step = _defs_by_code(steps).get(code) if isinstance(code, str) else None
    if step is None:
        fields["step"] = translated(N_("one of {choices}")).format(choices=', '.join(s.code for s in steps))
    number = data.get("passage_number")
    if number in ("", None):
        number = None
    elif isinstance(number, str) and number.isdigit():
        number = int(number)
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 0):
        fields["passage_number"] = translated(N_("a passage number (0, 1, 2 ...)"))
    elif step is not None and step.repeat_per_passage and number is None:
        fields["passage_number"] = translated(N_("{title} is recorded per passage: say which")).format(title=step.title)
    elif step is not None and not step.repeat_per_passage and number is not None:
        fields["passage_number"] = translated(N_("{title} is not recorded per passage")).format(title=step.title)
    try:
        values = read_fields({"details": lambda: _details(data.get("details")),
                              "performed_at": lambda: moment(data, "performed_at", default=utcnow())})
    except Invalid as error:
        fields.update(error.fields)
    if fields:
        raise Invalid(fields, translated(N_("the step has invalid fields")))
    return StepInput(code, number, values["details"], values["performed_at"])


def _closed(lot: Lot) -> list[Reason]:
    if lot.status not in CLOSED_STATUSES:
        return []
    return [Reason(LOT_CLOSED, lot_number=lot.lot_number, status=lot.status)]


def record_step(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any],
                steps: Sequence[StepDef] = DEFAULT_STEPS, gs_substitute: str = "") -> BatchStep:
    """The lab records an SOP step it performed (``POST /lots/{id}/batch-steps``); the actor is the performer.
    ``materials`` in ``data``: the material lots used at the step, scanned, with the quantities (``materials``)."""
    require_role(actor.roles, "lab", action=N_("record a batch-record step"))
    entry = parse_step(data, steps)
    used = materials.parse_entries(data.get("materials"))
    lot = lock_lot(session, lot_number)
    key = rules.step_key(entry.code, entry.passage_number)
    reasons = _closed(lot)
    if entry.code in AUTOMATIC_STEPS:
        reasons.append(Reason(STEP_RECORDED_ELSEWHERE, code=entry.code))
    numbers = {p.number for p in effective_passages(session, lot.id)}
    if entry.passage_number is not None and entry.passage_number not in numbers:
        reasons.append(Reason(PASSAGE_NOT_RECORDED, passage_number=entry.passage_number))
    if any(s.step_key == key for s in effective_steps(session, lot.id)):
        reasons.append(Reason(STEP_ALREADY_RECORDED, title=step_title(key, steps)))
    if reasons:
        raise Refused(reasons)
    row = add_step(session, actor=actor, lot=lot, key=key, details=entry.details, performed_at=entry.performed_at,
                   instruments=data.get("instruments"))
    if used:
        materials.use_at_step(session, actor=actor, lot_id=lot.id, lot_number=lot.lot_number, step_id=row.id,
                              step_key=key, entries=used, used_at=entry.performed_at, gs_substitute=gs_substitute)
    return row


def step_content(lot: Lot, step: BatchStep) -> dict[str, Any]:
    """What a verifier signs: the step as recorded, bound by hash to the signature (21 CFR 11.70)."""
    return {"lot": lot.lot_number, "step_id": step.id, "step": step.step_key, "details": step.details,
            "performed_by": step.performed_by, "performed_at": step.performed_at}


def _verification_reasons(session: Session, actor: Actor, lot: Lot, step: BatchStep,
                          signature: signatures.SignatureInput) -> list[Reason]:
    reasons = _closed(lot)
    if signature.username != actor.username:
        reasons.append(Reason(SIGNER_NOT_ACTOR))
    try:
        rules.guard_verifier(step.performed_by, actor.id)
    except Refused as refusal:
        reasons.extend(refusal.reasons)
    if session.exec(select(BatchStepVerification).where(BatchStepVerification.step_id == step.id)).first():
        reasons.append(Reason(STEP_ALREADY_VERIFIED, step_key=step.step_key))
    return reasons


def verify_step(session: Session, *, actor: Actor, lot_number: str, step_id: int,
                signature: signatures.SignatureInput, policy: Policy) -> BatchStepVerification:
    """A second person (lab or QA) verifies a step by e-signature; never the person who performed it."""
    require_role(actor.roles, "lab", "qa", action=N_("verify a batch-record step"))
    lot = lock_lot(session, lot_number)
    step = session.get(BatchStep, step_id)
    if step is None or step.lot_id != lot.id:
        raise NotFound(translated(N_(
            "lot {lot_number} has no step {step_id}")).format(lot_number=lot.lot_number, step_id=step_id))
    reasons = _verification_reasons(session, actor, lot, step, signature)
    if reasons:
        raise Refused(reasons)
    signed = signatures.sign(session, signature, record_type="batch_step", record_id=step.id,
                             content=step_content(lot, step), policy=policy, meanings=("verified",),
                             roles=("lab", "qa"), action=N_("verify a batch-record step"))
    row = BatchStepVerification(step_id=step.id, verified_by=signed.user_id, signature_id=signed.id,
                                verified_at=signed.signed_at)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="batch_step", record_id=step.id, action="verify",
                 new={"lot": lot.lot_number, "step": step.step_key, "signature_id": signed.id,
                      "verified_by": actor.username})
    return row


@dataclass(frozen=True)
class StepEntry:
    """One recorded step as the batch record shows it, with its verification if any."""

    step: BatchStep
    title: str
    needs_verification: bool
    performer: User | None
    verification: BatchStepVerification | None = None
    signature: Signature | None = None
    signature_intact: bool | None = None  # the step is still what was signed (Annex 11 section 8.2)
    instruments: tuple[usage.Used, ...] = ()

    @property
    def awaiting_verification(self) -> bool:
        return self.needs_verification and self.verification is None

    @property
    def verified(self) -> StepEntry | None:
        """This entry when a signature verifies it, else ``None`` (an answer's ``verification``)."""
        return self if self.signature is not None else None


def new_entry(session: Session, step: BatchStep, steps: Sequence[StepDef] = DEFAULT_STEPS) -> StepEntry:
    """A step just recorded, as the batch record shows it (not yet verified), with the instruments it used."""
    used = tuple(usage.uses_by_step(session, [step.id]).get(step.id, ()))
    return StepEntry(step, step_title(step.step_key, steps), needs_verification(step.step_key, steps),
                     session.get(User, step.performed_by), instruments=used)


@dataclass(frozen=True)
class BatchRecord:
    entries: list[StepEntry]
    missing: list[Reason]
    # the material lots used, by step id (docs/rules.md, "Materials"): the page and the PDF list them per step
    materials: dict[int | None, list[materials.UseLine]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing


def _verifications(session: Session, step_ids: list[int]) -> dict[int, tuple[BatchStepVerification, Signature]]:
    if not step_ids:
        return {}
    statement = (select(BatchStepVerification, Signature)
                 .join(Signature, Signature.id == BatchStepVerification.signature_id)
                 .where(BatchStepVerification.step_id.in_(step_ids)))
    return {v.step_id: (v, s) for v, s in session.exec(statement)}


def batch_record(session: Session, lot: Lot, steps: Sequence[StepDef] = DEFAULT_STEPS) -> BatchRecord:
    """The lot's record: every step with performer and verification, and what is still missing."""
    steps = rules.steps_for(steps, purpose=lot.purpose, from_vial=lot.source_vial_id is not None)
    rows = effective_steps(session, lot.id)
    checks = _verifications(session, [r.id for r in rows])
    names = people(session, {r.performed_by for r in rows})
    used = usage.uses_by_step(session, [r.id for r in rows])
    entries = []
    for row in rows:
        verification, signature = checks.get(row.id, (None, None))
        intact = None if signature is None else signatures.still_matches(signature, step_content(lot, row))
        entries.append(StepEntry(row, step_title(row.step_key, steps), needs_verification(row.step_key, steps),
                                 names.get(row.performed_by), verification, signature, intact,
                                 tuple(used.get(row.id, ()))))
    done = {e.step.step_key: (True, e.verification is not None) for e in entries}
    numbers = [p.number for p in effective_passages(session, lot.id)]
    used = materials.by_step(materials.lines_of_lots(session, [lot.id]).get(lot.id, []))
    return BatchRecord(entries, rules.completeness(steps, done, numbers), used)


def missing_steps(session: Session, lot: Lot, steps: Sequence[StepDef] = DEFAULT_STEPS) -> list[Reason]:
    """Why the lot's batch record is not complete (``[]`` when it is): for release and review."""
    return batch_record(session, lot, steps).missing


# --- the lot's labels, as the batch record accounts for them ----------------------------------------------
def labels_of_lots(session: Session, lot_ids: Sequence[int]) -> dict[int, list[LabelPrint]]:
    """Every label printed for each lot (its bags' labels, before and after a thaw, its culture vessels' and its
    QC tubes'), by lot id, in two statements whatever the number of lots."""
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    bag_lots = dict(session.exec(select(Bag.id, Bag.lot_id).where(Bag.lot_id.in_(ids))).all())
    statement = select(LabelPrint).where(or_(
        and_(LabelPrint.item_type == "bag", LabelPrint.item_id.in_(sorted(bag_lots))),
        and_(LabelPrint.item_type.in_(("lot", "qc_sample")), LabelPrint.item_id.in_(ids))))
    found: dict[int, list[LabelPrint]] = {lot_id: [] for lot_id in ids}
    for row in session.exec(statement.order_by(LabelPrint.id)):
        found[bag_lots[row.item_id] if row.item_type == "bag" else row.item_id].append(row)
    return found


def label_tally(rows: Sequence[LabelPrint]) -> dict[str, int]:
    """How many labels were printed in all, how many of them are applied, voided and destroyed now, and how
    many are not yet accounted for (still only printed)."""
    now = {status: sum(1 for row in rows if row.status == status) for status in LABEL_STATUSES}
    return {"printed": len(rows), "applied": now["applied"], "voided": now["voided"],
            "destroyed": now["destroyed"], "unaccounted": now["printed"]}
