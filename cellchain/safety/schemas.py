"""API shapes of safety: adverse events, their confirmation and reports, the summary by arm, the SAE clocks; the
clinical protocol deviations."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedDate,
    CheckedDateTime,
    CheckedInteger,
    CheckedList,
    CheckedString,
    PageQuery,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.safety.models import CLINICAL_DEVIATION_KINDS, CLINICAL_DEVIATION_STATUSES, EVENT_STATUSES
from cellchain.safety.rules.terms import (
    ACTIONS,
    CATEGORIES,
    CAUSALITY,
    EXPECTEDNESS,
    GRADES,
    OUTCOMES,
    SERIOUSNESS,
)


def _one_of(table: dict) -> str:
    return f"one of {', '.join(str(key) for key in table)}"


class AssessmentIn(RequestSchema):
    """The fields of an assessment; each is read by the safety rules, which name every bad one at once."""

    infusion_id = CheckedInteger(allow_none=True, metadata={"description": "the subject's infusion it followed"})
    term = CheckedString(metadata={"description": "what happened, e.g. fever"})
    category = CheckedString(metadata={"description": _one_of(CATEGORIES)})
    description = CheckedString(allow_none=True)
    onset_on = CheckedDate(allow_none=True)
    resolved_on = CheckedDate(allow_none=True)
    grade = CheckedInteger(allow_none=True, metadata={"description": f"CTCAE grade, {_one_of(GRADES)}"})
    seriousness = CheckedList(fields.String(), allow_none=True, metadata={
        "description": f"ICH E2A criteria met (empty: not serious), each {_one_of(SERIOUSNESS)}"})
    causality = CheckedString(allow_none=True, metadata={"description": f"WHO-UMC: {_one_of(CAUSALITY)}"})
    expectedness = CheckedString(allow_none=True, metadata={"description": _one_of(EXPECTEDNESS)})
    action_taken = CheckedString(allow_none=True, metadata={"description": _one_of(ACTIONS)})
    outcome = CheckedString(allow_none=True, metadata={"description": _one_of(OUTCOMES)})
    biopsy_proven = CheckedBoolean(allow_none=True, metadata={"description": "acute rejection: proven by biopsy"})
    rejection_treatment = CheckedString(allow_none=True, metadata={"description": "acute rejection: treatment given"})
    aware_at = CheckedDateTime(allow_none=True, metadata={
        "description": "when the site learned of it (the SAE clock starts here); default now"})


class AdverseEventIn(AssessmentIn):
    subject_id = CheckedString(required=True, metadata={"description": "the subject, e.g. SUBJ-0001"})


class AmendIn(AssessmentIn):
    """Only the fields sent change; a confirmed event needs a reason and is signed again after."""

    reason = CheckedString(allow_none=True)


class ConfirmIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "the investigator's e-signature, "
                                                                        "meaning approved"})


class SaeReportIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "the investigator's e-signature, "
                                                                        "meaning authored"})
    sent_at = CheckedDateTime(allow_none=True, metadata={"description": "when the report was sent; default now"})
    sent_to = CheckedString(required=True, metadata={"description": "the sponsor's safety desk it went to"})


class AdverseEventsQuery(Schema):
    subject_id = fields.String()
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))


class AdverseEventRowSchema(Schema):
    id = fields.Integer(required=True, attribute="event.id")
    subject_id = fields.String(required=True, attribute="subject_code")
    arm = fields.String(allow_none=True)
    infusion_id = fields.Integer(allow_none=True, attribute="event.infusion_id")
    infusion_week = fields.Integer(allow_none=True, attribute="week")
    status = fields.String(required=True, attribute="event.status")
    version = fields.Integer(required=True, attribute="event.version")
    source = fields.String(required=True, attribute="event.source")
    term = fields.String(required=True, attribute="event.term")
    category = fields.String(required=True, attribute="event.category")
    description = fields.String(allow_none=True, attribute="event.description_text",
                                metadata={"description": "in the reader's language; a draft from a bedside reaction is "
                                                         "worded from description_code and description_values"})
    description_code = fields.String(allow_none=True, attribute="event.description_code",
                                     metadata={"description": "the sentence's code when the system drafted it, else "
                                                              "null (typed by a person, or written before codes)"})
    description_values = fields.Dict(allow_none=True, attribute="event.description_values")
    onset_on = fields.Date(allow_none=True, attribute="event.onset_on")
    resolved_on = fields.Date(allow_none=True, attribute="event.resolved_on")
    grade = fields.Integer(allow_none=True, attribute="event.grade")
    serious = fields.Boolean(required=True, attribute="event.serious")
    seriousness = fields.List(fields.String(), required=True, attribute="event.seriousness")
    special_interest = fields.Boolean(required=True, attribute="event.special_interest")
    causality = fields.String(allow_none=True, attribute="event.causality")
    expectedness = fields.String(allow_none=True, attribute="event.expectedness")
    action_taken = fields.String(allow_none=True, attribute="event.action_taken")
    outcome = fields.String(allow_none=True, attribute="event.outcome")
    biopsy_proven = fields.Boolean(allow_none=True, attribute="event.biopsy_proven")
    rejection_treatment = fields.String(allow_none=True, attribute="event.rejection_treatment")
    aware_at = UtcDateTime(required=True, attribute="event.aware_at")
    recorded_at = UtcDateTime(required=True, attribute="event.recorded_at")
    confirmed_at = UtcDateTime(allow_none=True, attribute="event.confirmed_at")
    confirm_signature_id = fields.Integer(allow_none=True, attribute="event.confirm_signature_id")
    open_actions = fields.List(fields.String(), required=True, metadata={
        "description": "what the investigator still has to do (a grade-5 event: the death path)"})


class AdverseEventsOut(Schema):
    adverse_events = fields.List(fields.Nested(AdverseEventRowSchema), required=True)


class VersionSchema(Schema):
    version = fields.Integer(required=True, attribute="version.version")
    status = fields.String(required=True, attribute="version.status")
    changed_by = fields.String(required=True)
    changed_at = UtcDateTime(required=True, attribute="version.changed_at")
    reason = fields.String(allow_none=True, attribute="version.reason")
    values = fields.Dict(required=True, attribute="version.values")


class SaeReportSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    event_version = fields.Integer(required=True)
    due_at = UtcDateTime(required=True)
    sent_at = UtcDateTime(required=True)
    sent_to = fields.String(required=True)
    late = fields.Boolean(required=True)
    signature_id = fields.Integer(required=True)


class AdverseEventSchema(AdverseEventRowSchema):
    """One adverse event with its versions, its confirmation and its reports."""

    clock = fields.String(allow_none=True, attribute="clock_now", metadata={
        "description": "the SAE reporting clock: due, overdue, sent, sent_late; null when not serious"})
    report_due_at = UtcDateTime(allow_none=True)
    signature_matches = fields.Boolean(allow_none=True, metadata={
        "description": "the confirmed record is still what the investigator signed"})
    versions = fields.List(fields.Nested(VersionSchema), required=True)
    reports = fields.List(fields.Nested(SaeReportSchema), required=True)


class ArmSummarySchema(Schema):
    arm = fields.String(allow_none=True)
    name = fields.String(required=True)
    events = fields.Integer(required=True)
    subjects_with_event = fields.Integer(required=True)
    by_grade = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, attribute="grade_map")
    serious = fields.Integer(required=True)
    related = fields.Integer(required=True)
    by_causality = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                               attribute="causality_map")
    special_interest = fields.Integer(required=True)


class SummaryOut(Schema):
    arms = fields.List(fields.Nested(ArmSummarySchema), required=True)


class SaeClockSchema(Schema):
    event_id = fields.Integer(required=True, attribute="row.event.id")
    subject_id = fields.String(required=True, attribute="row.subject_code")
    term = fields.String(required=True, attribute="row.event.term")
    aware_at = UtcDateTime(required=True, attribute="row.event.aware_at")
    due_at = UtcDateTime(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["due", "overdue"]))


class SaeClocksOut(Schema):
    clocks = fields.List(fields.Nested(SaeClockSchema), required=True)


# --- clinical protocol deviations ------------------------------------------------------------------------

class ClinicalDeviationsQuery(PageQuery):
    status = fields.String(metadata={"description": f"one of {', '.join(CLINICAL_DEVIATION_STATUSES)}, or not_closed"})
    kind = fields.String(metadata={"description": f"one of {', '.join(CLINICAL_DEVIATION_KINDS)}"})
    subject_id = fields.String(metadata={"description": "the subject, e.g. SUBJ-0001"})


class ClinicalDeviationIn(RequestSchema):
    subject_id = CheckedString(required=True, metadata={"description": "the subject, e.g. SUBJ-0001"})
    kind = CheckedString(required=True, metadata={"description": f"one of {', '.join(CLINICAL_DEVIATION_KINDS)}"})
    description = CheckedString(required=True, metadata={"description": "what happened"})
    visit_id = CheckedInteger(allow_none=True, metadata={
        "description": "the subject's visit; required for out_of_window (an infusion visit not yet done)"})


class ClinicalDecisionIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "the investigator's e-signature, meaning "
                                                                        "approved or rejected"})
    note = CheckedString(allow_none=True, metadata={"description": "required to reject"})


class ClinicalCloseIn(RequestSchema):
    note = CheckedString(required=True, metadata={"description": "what was done about it"})


class ClinicalDeviationRowSchema(Schema):
    id = fields.Integer(required=True, attribute="deviation.id")
    number = fields.String(required=True, metadata={"description": "CD-<id>"})
    subject_id = fields.String(required=True, attribute="subject_code")
    visit_id = fields.Integer(required=True, allow_none=True, attribute="deviation.visit_id")
    week = fields.Integer(required=True, allow_none=True)
    infusion_id = fields.Integer(required=True, allow_none=True, attribute="deviation.infusion_id")
    bag_id = fields.Integer(required=True, allow_none=True, attribute="deviation.bag_id")
    kind = fields.String(required=True, attribute="deviation.kind",
                         validate=validate.OneOf(CLINICAL_DEVIATION_KINDS))
    status = fields.String(required=True, attribute="deviation.status",
                           validate=validate.OneOf(CLINICAL_DEVIATION_STATUSES))
    automatic = fields.Boolean(required=True, attribute="deviation.automatic",
                               metadata={"description": "opened by the system where it saw the deviation"})
    description = fields.String(required=True, attribute="deviation.description_text",
                                metadata={"description": "in the reader's language; what the system wrote is worded "
                                                         "from description_code and description_values"})
    description_code = fields.String(required=True, allow_none=True, attribute="deviation.description_code",
                                     metadata={"description": "the sentence's code when the system wrote it, else "
                                                              "null (typed by a person, or written before codes)"})
    description_values = fields.Dict(required=True, allow_none=True, attribute="deviation.description_values")
    opened_at = UtcDateTime(required=True, attribute="deviation.opened_at")


class ClinicalDeviationSchema(ClinicalDeviationRowSchema):
    opened_by = fields.String(required=True, attribute="opened_by.username")
    decided_by = fields.String(required=True, allow_none=True, attribute="decider")
    decided_at = UtcDateTime(required=True, allow_none=True, attribute="deviation.decided_at")
    decision_signature_id = fields.Integer(required=True, allow_none=True,
                                           attribute="deviation.decision_signature_id")
    decision_note = fields.String(required=True, allow_none=True, attribute="deviation.decision_note")
    closed_by = fields.String(required=True, allow_none=True, attribute="closer")
    closed_at = UtcDateTime(required=True, allow_none=True, attribute="deviation.closed_at")
    closing_note = fields.String(required=True, allow_none=True, attribute="deviation.closing_note")


class ClinicalDeviationsOut(Schema):
    clinical_deviations = fields.List(fields.Nested(ClinicalDeviationRowSchema), required=True)
    next = next_field()
