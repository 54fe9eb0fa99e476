"""API shapes of the trial: subjects and their screening, randomization, visits, bag allocations.

No shape here carries the randomization list's entries or seed: only a subject's own arm once
randomized, the list's hash and how many positions are used.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedDate,
    CheckedDateTime,
    CheckedFloat,
    CheckedInteger,
    CheckedString,
    PageQuery,
    ReasonSchema,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.trial import subjects
from cellchain.trial.rules import lifecycle
from cellchain.trial.rules.eligibility import PREGNANCY_RESULTS, SEXES
from cellchain.trial.rules.schedule import FOLLOW_UP, INFUSION
from cellchain.trial.visits import STATUSES

ARMS = ("A", "B")
SUBJECT_STATUSES = ("screen_failure", "awaiting_randomization", "randomized")


# --- subjects -----------------------------------------------------------------------------------------

class SubjectIn(RequestSchema):
    """Registration and screening: every inclusion and exclusion criterion is answered explicitly.

    Fields it does not name are dropped unread rather than refused: a hospital system may send the
    patient's name along, and the trial must neither store it nor turn the registration away.
    """

    class Meta:
        unknown = EXCLUDE

    screening_number = CheckedString(required=True, metadata={"description": "up to 30 characters; never a name"})
    birth_date = CheckedDate(required=True)
    sex = CheckedString(required=True, validate=validate.OneOf(SEXES))
    weight_kg = CheckedFloat(required=True)
    day0 = CheckedDate(required=True, metadata={"description": "the transplant day; visits are planned from it"})
    meets_transplant_criteria = CheckedBoolean(required=True)
    first_transplant = CheckedBoolean(required=True)
    liver_only = CheckedBoolean(required=True)
    consent_signed = CheckedBoolean(required=True)
    willing_to_comply = CheckedBoolean(required=True)
    pregnancy_test = CheckedString(required=True, allow_none=True, validate=validate.OneOf(PREGNANCY_RESULTS))
    prior_other_organ_transplant = CheckedBoolean(required=True)
    vital_organ_failure = CheckedBoolean(required=True)
    investigational_drug_within_30_days = CheckedBoolean(required=True)
    on_immunosuppressant = CheckedBoolean(required=True)
    active_infection = CheckedBoolean(required=True)
    pregnant_or_lactating = CheckedBoolean(required=True)


class SubjectOut(Schema):
    """A subject with the screening verdict (dumped from the stored subject)."""

    subject_id = fields.String(required=True, attribute="subject_code")
    screening_number = fields.String()
    birth_date = fields.Date()
    sex = fields.String(validate=validate.OneOf(SEXES))
    day0 = fields.Date()
    weight_kg = fields.Float()
    answers = fields.Dict(keys=fields.String(), metadata={"description": "the criteria answers as recorded"})
    eligible = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), attribute="eligibility_reasons",
                          metadata={"description": "every reason the subject is not eligible"})
    status = fields.Function(subjects.status_of, metadata={"type": "string", "enum": list(SUBJECT_STATUSES)})
    arm = fields.String(allow_none=True, validate=validate.OneOf(ARMS))
    randomized_at = UtcDateTime(allow_none=True)
    chain_of_identity = fields.String(allow_none=True, metadata={
        "description": "ISBT 128 chain-of-identity identifier (DS 040), CH + FIN + yy + 6 + K, issued at "
                       "randomization"})
    registered_at = UtcDateTime(attribute="created_at")
    state = fields.String(required=True, attribute="status", validate=validate.OneOf(lifecycle.STATES), metadata={
        "description": "where the subject stands in the trial's lifecycle (docs/rules.md, \"Trial: the "
                       "subject's lifecycle\")"})
    ended_at = UtcDateTime(allow_none=True, metadata={"description": "when the subject was withdrawn or died"})
    end_reason = fields.String(allow_none=True, metadata={
        "description": "consent_withdrawn, investigator_decision, lost_to_follow_up, or died"})
    end_note = fields.String(allow_none=True, metadata={"description": "the investigator's words (cause of death)"})


class SubjectEndIn(RequestSchema):
    """A withdrawal or a death, signed by the investigator who records it (meaning ``approved``)."""

    reason = CheckedString(metadata={"description": "a withdrawal's reason: one of "
                                                    + ", ".join(lifecycle.WITHDRAWAL_REASONS)})
    note = CheckedString(allow_none=True, metadata={"description": "the investigator's words; a death's cause "
                                                                   "(required for a death)"})
    ended_at = CheckedDateTime(allow_none=True, metadata={"description": "when; now when not given"})
    signature = signature_field(required=True, metadata={"description": "the investigator's e-signature, "
                                                                        "meaning approved"})


class BagReturnOut(Schema):
    """A bag a withdrawal or death sent back, and QA's decision on it (dumped from ``lifecycle.ReturnRow``)."""

    return_id = fields.Integer(required=True, attribute="bag_return.id")
    bag_id = fields.String(required=True, attribute="bag_code")
    custody_state = fields.String(allow_none=True)
    subject_id = fields.String(required=True, attribute="subject_code")
    week = fields.Integer(required=True)
    reason = fields.String(required=True, attribute="bag_return.reason")
    status = fields.String(required=True, attribute="bag_return.status",
                           validate=validate.OneOf(["awaiting_decision", "restocked", "discarded"]))
    returned_at = UtcDateTime(required=True, attribute="bag_return.opened_at")
    decided_at = UtcDateTime(allow_none=True, attribute="bag_return.decided_at")
    decision_reason = fields.String(allow_none=True, attribute="bag_return.decision_reason")


class SubjectEndOut(Schema):
    """The subject as now recorded, the visits the end cancelled and the bags it sent back to QA."""

    subject = fields.Nested(SubjectOut, required=True)
    cancelled_visits = fields.List(fields.Integer(), required=True)
    returned_bags = fields.List(fields.Nested(BagReturnOut), required=True)


class BagReturnsOut(Schema):
    returns = fields.List(fields.Nested(BagReturnOut), required=True)
    next = next_field()


class BagReturnsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["awaiting_decision", "restocked", "discarded"]))


class BagReturnDecisionIn(RequestSchema):
    decision = CheckedString(required=True, validate=validate.OneOf(["restock", "discard"]),
                             metadata={"description": "restock (re-release to stock) or discard"})
    reason = CheckedString(required=True)
    signature = signature_field(required=True, metadata={"description": "QA's e-signature: meaning released to "
                                                                        "restock, rejected to discard"})


class SubjectsOut(Schema):
    subjects = fields.List(fields.Nested(SubjectOut), required=True)
    next = next_field()


class RandomizeOut(Schema):
    subject_id = fields.String(required=True, attribute="subject_code")
    arm = fields.String(required=True, validate=validate.OneOf(ARMS))
    randomized_at = UtcDateTime(required=True)
    chain_of_identity = fields.String(required=True, metadata={
        "description": "ISBT 128 chain-of-identity identifier (DS 040) issued now: CH + FIN + yy + 6 + K"})


class RandomizationListOut(Schema):
    """The list's fingerprint; ``verified`` and ``problems`` come with the check (GET), not the extension."""

    list_hash = fields.String(required=True, allow_none=True,
                              metadata={"description": "SHA-256 recorded when the list was made or extended; "
                                                       "null before the list exists"})
    used = fields.Integer(required=True, metadata={"description": "positions used so far; the entries are never "
                                                                  "shown"})
    verified = fields.Boolean(attribute="ok", metadata={"description": "the list rebuilds from its seeds and "
                                                                       "matches every recorded hash"})
    problems = fields.List(fields.String())


class ExtendListIn(RequestSchema):
    extra = CheckedInteger(required=True, metadata={"description": "at least this many more subjects"})
    reason = CheckedString(required=True, metadata={"description": "why, e.g. enrolment raised by an amendment"})


# --- visits and allocations ---------------------------------------------------------------------------

class AllocationIn(RequestSchema):
    bag_id = CheckedString(required=True, metadata={"description": "the bag id or what the scanner read from the "
                                                                   "bag"})
    weight_kg = CheckedFloat(metadata={"description": "the subject's weight for this visit; may be left out once "
                                                      "the visit's weight is recorded (POST /visits/{id}/weight), "
                                                      "and must then agree with it"})


class VisitWeightIn(RequestSchema):
    weight_kg = CheckedFloat(required=True, metadata={"description": "the subject's weight for this infusion visit"})


class AllocationOut(Schema):
    """A bag allocated to an infusion visit (dumped from ``visit_records.AllocationRecord``)."""

    allocation_id = fields.Integer(required=True, attribute="allocation.id")
    visit_id = fields.Integer(attribute="allocation.visit_id")
    bag_id = fields.String(attribute="bag.bag_code")
    product = fields.String(attribute="bag.kind", validate=validate.OneOf(["ucmsc", "placebo"]))
    subject_id = fields.String(attribute="subject.subject_code")
    weight_kg = fields.Float(attribute="allocation.weight_kg")
    required_cells = fields.Integer(allow_none=True, attribute="allocation.required_cells",
                                    metadata={"description": "null for placebo"})
    total_cells = fields.Integer(allow_none=True, attribute="bag.total_cells")
    volume_ml = fields.Float(attribute="bag.volume_ml")
    allocated_at = UtcDateTime(attribute="allocation.allocated_at")


class DeallocationIn(RequestSchema):
    reason = CheckedString(required=True, metadata={"description": "why the bag comes off the visit (audited)"})


class DeallocationOut(Schema):
    """A bag taken off an infusion visit (dumped from ``deallocation.Deallocated``); the visit may then be
    allocated a replacement (``POST /visits/{id}/allocation``)."""

    visit_id = fields.Integer(required=True, attribute="visit.id")
    week = fields.Integer(required=True, attribute="visit.week")
    subject_id = fields.String(required=True, attribute="subject.subject_code")
    bag_id = fields.String(required=True, attribute="bag.bag_code")
    reason = fields.String(required=True)
    back_to_stock = fields.Boolean(required=True, metadata={"description": "the bag is still fit for use and is "
                                                                           "unallocated stock again"})
    problems = fields.List(fields.Nested(ReasonSchema), required=True,
                           metadata={"description": "why the bag could no longer be given at the visit, if so"})


class WindowSchema(Schema):
    start = fields.Date(attribute="window_start")
    end = fields.Date(attribute="window_end")


class VisitOut(Schema):
    """A visit with today's status (dumped from ``visit_records.VisitRecord``)."""

    visit_id = fields.Integer(required=True, attribute="state.visit.id")
    week = fields.Integer(required=True, attribute="state.visit.week")
    kind = fields.String(required=True, attribute="state.visit.kind", validate=validate.OneOf([INFUSION, FOLLOW_UP]))
    target_date = fields.Date(required=True, attribute="state.visit.target_date")
    window = fields.Nested(WindowSchema, attribute="state.visit")
    status = fields.String(attribute="state.status", validate=validate.OneOf(STATUSES))
    done_at = UtcDateTime(allow_none=True, attribute="state.visit.done_at")
    planned_at = UtcDateTime(allow_none=True, attribute="state.visit.planned_at",
                             metadata={"description": "an infusion visit's planned date and time; null: not planned"})
    weight_kg = fields.Float(allow_none=True, attribute="state.visit.weight_kg",
                             metadata={"description": "the weight recorded for the infusion visit; null: none yet"})
    allocation = fields.Nested(AllocationOut, allow_none=True)


class VisitDoneOut(VisitOut):
    subject_id = fields.String(required=True, attribute="subject.subject_code")


class VisitsOut(Schema):
    subject_id = fields.String(required=True, attribute="subject.subject_code")
    visits = fields.List(fields.Nested(VisitOut), required=True)


class VisitMissedIn(RequestSchema):
    reason = CheckedString(required=True, metadata={"description": "why the visit is missed"})


class VisitMissedOut(VisitDoneOut):
    clinical_deviation_id = fields.Integer(required=True, metadata={
        "description": "the missed_visit clinical protocol deviation opened with it"})


class VisitDoneIn(RequestSchema):
    done_at = CheckedDateTime(allow_none=True, metadata={"description": "now when not given"})


class InfusionPlanIn(RequestSchema):
    planned_at = CheckedDateTime(required=True, metadata={"description": "inside the visit's window, with offset"})
    reason = CheckedString(allow_none=True, metadata={"description": "why the infusion moves (required to move it)"})
