"""API shapes of quality: QC results, specifications, deviations, release and rejection, the release check."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedDateTime,
    CheckedDict,
    CheckedInteger,
    CheckedList,
    CheckedNested,
    CheckedRaw,
    CheckedString,
    PageQuery,
    ReasonSchema,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.quality.models import DEVIATION_STATUSES, HOLD_ITEM_KINDS
from cellchain.quality.rules.spec_limits import BUILT_IN, RELEASE_MODES, SAMPLE_STAGES

DEVIATION_KINDS = ["oos", "excursion", "procedural"]
DEVIATION_DECISIONS = ["accept", "reject"]
LOT_STATUSES = ["in_process", "awaiting_release", "released", "rejected"]


# --- QC results -----------------------------------------------------------------------------------------

class QcResultIn(RequestSchema):
    test = CheckedString(required=True, metadata={"description": "specification test code, e.g. viability, cd73"})
    value = CheckedRaw(required=True, metadata={"description": "a number, or a word: negative/positive, "
                                                               "normal/abnormal"})
    sample_stage = CheckedString(required=True, metadata={"description": "where the sample was taken: "
                                                                         + ", ".join(SAMPLE_STAGES)})
    sampled_at = CheckedDateTime(required=True, metadata={"description": "when the sample was taken, with its "
                                                                         "UTC offset"})
    tested_at = CheckedDateTime(metadata={"description": "with its UTC offset"})
    repeat_of = CheckedInteger(metadata={"description": "id of the result this repeats"})
    reason = CheckedString(metadata={"description": "why the test was repeated; required for a repeat"})


class QcResultsIn(RequestSchema):
    results = CheckedList(CheckedDict(), required=True, metadata={
        "description": "first results of tests without one: [{test, value, sample_stage, sampled_at, tested_at?}]; "
                       "all are recorded or none"})


class QcResultSchema(Schema):
    """One QC result, judged by the software against the lot's specification version.

    Dumped from ``qc.LotResult``: the stored row with its lot's number, whether it counts and its deviation.
    """

    id = fields.Integer(required=True, attribute="result.id")
    lot_id = fields.String(required=True, attribute="lot_number")
    test = fields.String(required=True, attribute="result.test_code")
    value = fields.String(required=True, attribute="result.value", metadata={"description": "as judged, "
                                                                                              "normalised"})
    within_spec = fields.Boolean(required=True, attribute="result.within_spec")
    limit = fields.String(attribute="result.limit_text", metadata={"description": "the limit as it read when "
                                                                                   "judged"})
    unit = fields.String(attribute="result.unit")
    method = fields.String(attribute="result.method")
    spec_version = fields.String(attribute="result.spec_version")
    repeat_of = fields.Integer(allow_none=True, attribute="result.repeat_of_id",
                               metadata={"description": "id of the result this one repeats"})
    reason = fields.String(allow_none=True, attribute="result.reason", metadata={"description": "why it was "
                                                                                                "repeated"})
    sample_stage = fields.String(attribute="result.sample_stage", validate=validate.OneOf(SAMPLE_STAGES))
    sampled_at = UtcDateTime(attribute="result.sampled_at")
    after_release = fields.Boolean(attribute="result.after_release",
                                   metadata={"description": "recorded after the lot's release (not part of what "
                                                            "QA signed); out of specification, it holds the lot"})
    tested_at = UtcDateTime(allow_none=True, attribute="result.tested_at")
    recorded_at = UtcDateTime(attribute="result.recorded_at")
    recorded_by = fields.Integer(attribute="result.recorded_by", metadata={"description": "user id of the "
                                                                                          "analyst"})
    counts = fields.Boolean(metadata={"description": "the newest result of its test: the one release judges"})
    deviation = fields.String(allow_none=True, metadata={"description": "number of the deviation an "
                                                                        "out-of-specification result opened"})


class RecordedResultsOut(Schema):
    lot_id = fields.String(required=True)
    results = fields.List(fields.Nested(QcResultSchema), required=True)


class QcResultsOut(Schema):
    lot_id = fields.String(required=True)
    status = fields.String(attribute="lot.status", validate=validate.OneOf(LOT_STATUSES))
    spec_version = fields.String(attribute="lot.spec_version")
    results = fields.List(fields.Nested(QcResultSchema), required=True)
    missing = fields.List(fields.String(), metadata={"description": "required tests still without a result"})


# --- specifications -------------------------------------------------------------------------------------

class LimitSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "min, max, between or equals"})
    low = fields.Float()
    high = fields.Float()
    expected = fields.String()
    allowed = fields.List(fields.String())


class SpecTestSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    method = fields.String(required=True)
    unit = fields.String()
    required = fields.Boolean(metadata={"description": "false: recorded when a site chooses to, never blocks "
                                                       "release"})
    release = fields.String(validate=validate.OneOf(RELEASE_MODES),
                            metadata={"description": "gates: needed before release; after_release: read after "
                                                     "release (a 14-day sterility culture), never blocks it"})
    limit = fields.Nested(LimitSchema, required=True)
    bounds = fields.List(fields.Float(allow_none=True), metadata={"description": "[low, high]: physically "
                                                                                "possible values"})


class SpecificationIn(RequestSchema):
    """A new version: its name and every test, in the shape GET /specifications/current answers."""

    version = CheckedString(required=True)
    product = CheckedString(metadata={"description": "ucmsc (dosing lots, the default) or ucmsc_bank (cell banks)"})
    tests = CheckedList(CheckedNested(SpecTestSchema), required=True)


class SpecificationQuery(Schema):
    product = fields.String(validate=validate.OneOf(list(BUILT_IN)),
                            metadata={"description": "ucmsc (dosing lots, the default) or ucmsc_bank"})


class SpecDefinitionSchema(Schema):
    version = fields.String(required=True)
    product = fields.String()
    tests = fields.List(fields.Nested(SpecTestSchema), required=True)


class SpecificationSchema(Schema):
    """A specification version; ``definition`` holds the same version and tests as stored."""

    version = fields.String(required=True)
    product = fields.String()
    effective_at = UtcDateTime(allow_none=True, metadata={"description": "null for the built-in version "
                                                                         "before the first lot stores it"})
    tests = fields.List(fields.Nested(SpecTestSchema), required=True, attribute="definition.tests")
    definition = fields.Nested(SpecDefinitionSchema)


# --- deviations -----------------------------------------------------------------------------------------

class DeviationsQuery(PageQuery):
    status = fields.String(metadata={"description": f"one of {', '.join(DEVIATION_STATUSES)}, or not_closed"})
    lot_id = fields.String()


class DeviationIn(RequestSchema):
    kind = CheckedString(required=True, validate=validate.OneOf(DEVIATION_KINDS))
    description = CheckedString(required=True)
    lot_id = CheckedString(allow_none=True)
    test = CheckedString(allow_none=True, metadata={"description": "a test code of the lot's specification"})


class InvestigateIn(RequestSchema):
    root_cause = CheckedString(required=True)
    impact = CheckedString(required=True)


class DecideIn(RequestSchema):
    decision = CheckedString(required=True, validate=validate.OneOf(DEVIATION_DECISIONS))
    justification = CheckedString(required=True)


class CloseIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "QA's e-signature, meaning closed"})


class DeviationSchema(Schema):
    """A deviation, dumped from ``deviations.LotDeviation`` (the row and its lot's number)."""

    number = fields.String(required=True, attribute="deviation.number")
    lot_id = fields.String(allow_none=True, attribute="lot_number")
    kind = fields.String(attribute="deviation.kind", validate=validate.OneOf(DEVIATION_KINDS))
    test = fields.String(allow_none=True, attribute="deviation.test_code")
    qc_result_id = fields.Integer(allow_none=True, attribute="deviation.qc_result_id")
    description = fields.String(attribute="deviation.description_text",
                                metadata={"description": "in the reader's language; what the system wrote is worded "
                                                         "from description_code and description_values"})
    description_code = fields.String(allow_none=True, attribute="deviation.description_code",
                                     metadata={"description": "the sentence's code when the system wrote it, else "
                                                              "null (typed by a person, or written before codes)"})
    description_values = fields.Dict(allow_none=True, attribute="deviation.description_values")
    status = fields.String(attribute="deviation.status", validate=validate.OneOf(DEVIATION_STATUSES))
    root_cause = fields.String(allow_none=True, attribute="deviation.root_cause")
    impact = fields.String(allow_none=True, attribute="deviation.impact")
    decision = fields.String(allow_none=True, attribute="deviation.decision",
                             validate=validate.OneOf(DEVIATION_DECISIONS))
    justification = fields.String(allow_none=True, attribute="deviation.justification")
    opened_at = UtcDateTime(attribute="deviation.opened_at")
    closed_at = UtcDateTime(allow_none=True, attribute="deviation.closed_at")
    closing_signature_id = fields.Integer(allow_none=True, attribute="deviation.closing_signature_id")


class DeviationsOut(Schema):
    deviations = fields.List(fields.Nested(DeviationSchema), required=True)
    next = next_field()


# --- release and rejection ------------------------------------------------------------------------------

class DecisionIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "QA's e-signature, meaning released "
                                                                        "or rejected"})
    reason = CheckedString(metadata={"description": "required to reject"})


class DecisionSignatureSchema(Schema):
    id = fields.Integer(required=True)
    signer = fields.String(attribute="signer_username")
    name = fields.String(attribute="signer_name")
    meaning = fields.String()
    signed_at = UtcDateTime()
    record_hash = fields.String(metadata={"description": "SHA-256 of what was signed"})


class LabelToReplaceSchema(Schema):
    """A bag label printed while the lot was in quarantine: replace it with a released label, destroy it."""

    id = fields.Integer(required=True, metadata={"description": "the printed label (POST /labels/{id}/status)"})
    bag = fields.String(required=True, attribute="item_key")
    label_kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "printed or applied"})
    printed_at = UtcDateTime(required=True)


class DecisionOut(Schema):
    """A lot's release decision, dumped from the view's ``Decision`` (the lot, its signature, certificate)."""

    lot_id = fields.String(required=True, attribute="lot.lot_number")
    status = fields.String(required=True, attribute="lot.status", validate=validate.OneOf(LOT_STATUSES))
    decided_at = UtcDateTime(allow_none=True, attribute="lot.decided_at")
    reason = fields.String(allow_none=True, attribute="lot.decision_reason")
    signature = fields.Nested(DecisionSignatureSchema, allow_none=True)
    certificate = fields.String(metadata={"description": "URL of the release certificate (PDF)"})
    labels_to_replace = fields.List(fields.Nested(LabelToReplaceSchema), metadata={
        "description": "after a release: the lot's bag labels printed in quarantine, each to be replaced by a "
                       "released label and destroyed"})


class ReleaseCheckOut(Schema):
    lot_id = fields.String(required=True)
    ready = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True,
                          metadata={"description": "every gap between the lot and its release, for this reviewer"})


# --- holds ----------------------------------------------------------------------------------------------

class LiftHoldIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "QA's e-signature, meaning approved"})
    reason = CheckedString(required=True, metadata={"description": "why the hold is lifted"})


class InfusedSubjectSchema(Schema):
    subject_id = fields.String(required=True, attribute="subject_code")
    week = fields.Integer(required=True)
    bag_id = fields.String(required=True, attribute="bag_code")
    infused_at = UtcDateTime(required=True, attribute="started_at")


class PlaceHoldIn(RequestSchema):
    item_kind = CheckedString(required=True, metadata={"description": "what is held: " + ", ".join(HOLD_ITEM_KINDS)})
    item_id = CheckedString(required=True, metadata={"description": "its id: a collection's DIN, a bank code, a lot "
                                                                    "number, a bag id"})
    reason = CheckedString(required=True, metadata={"description": "why it is held (up to 300 characters); shown "
                                                                   "wherever something it reaches is refused"})
    recall = CheckedBoolean(load_default=False, metadata={"description": "a recall: the look-back is sent to QA and "
                                                                         "the investigators"})
    signature = signature_field(required=True, metadata={"description": "QA's e-signature, meaning approved"})


class HoldSchema(Schema):
    """A hold, dumped from ``holds.HoldDetail``: the hold, the held item, and the subjects already infused."""

    id = fields.Integer(required=True, attribute="hold.id")
    item_kind = fields.String(required=True, attribute="item.kind",
                              metadata={"description": "what is held: " + ", ".join(HOLD_ITEM_KINDS)})
    item_id = fields.String(required=True, attribute="item.code", metadata={"description": "the held item's id"})
    recall = fields.Boolean(required=True, attribute="hold.recall")
    lot_id = fields.String(required=True, allow_none=True, attribute="lot_number",
                           metadata={"description": "a lot hold's lot (null for a hold on anything else)"})
    qc_result_id = fields.Integer(required=True, allow_none=True, attribute="hold.qc_result_id",
                                  metadata={"description": "the result after release that raised it (null when "
                                                           "QA placed it)"})
    raise_signature_id = fields.Integer(allow_none=True, attribute="hold.raise_signature_id")
    cause = fields.String(required=True, attribute="hold.cause_text",
                          metadata={"description": "in the reader's language; what the software wrote is worded "
                                                   "from cause_code and cause_values, QA's reason is as typed"})
    cause_code = fields.String(allow_none=True, attribute="hold.cause_code",
                               metadata={"description": "the cause's code when the software wrote it, else null"})
    cause_values = fields.Dict(allow_none=True, attribute="hold.cause_values")
    open = fields.Boolean(required=True)
    raised_at = UtcDateTime(attribute="hold.raised_at")
    lifted_at = UtcDateTime(allow_none=True, attribute="hold.lifted_at")
    lifted_by = fields.Integer(allow_none=True, attribute="hold.lifted_by")
    lift_signature_id = fields.Integer(allow_none=True, attribute="hold.lift_signature_id")
    lift_reason = fields.String(allow_none=True, attribute="hold.lift_reason")
    infused = fields.List(fields.Nested(InfusedSubjectSchema), required=True,
                          metadata={"description": "subjects already infused from anything the hold reaches"})


class LookbackItemSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "collection, lot, bank, vial, bag or material_lot"})
    id = fields.String(required=True, attribute="code")
    from_ = fields.String(required=True, data_key="from", attribute="parent",
                          metadata={"description": "the id of the item it came from (empty for the starting item)"})
    status = fields.String(required=True)
    custody_state = fields.String(required=True, allow_none=True)
    position = fields.String(required=True, allow_none=True,
                             metadata={"description": "where it is stored now: unit > rack > box > position"})


class LookbackSubjectSchema(Schema):
    subject_id = fields.String(required=True, attribute="subject_code")
    week = fields.Integer(required=True)
    bag_id = fields.String(required=True, attribute="bag_code")
    lot_id = fields.String(required=True, allow_none=True, attribute="lot_number")
    infusion_started_at = UtcDateTime(required=True, attribute="started_at")
    infusion_ended_at = UtcDateTime(required=True, allow_none=True, attribute="ended_at")


class LookbackSchema(Schema):
    """Every item derived from a collection, bank, lot or bag, and every subject who received any of it."""

    kind = fields.String(required=True)
    id = fields.String(required=True, attribute="code")
    made_at = UtcDateTime(required=True)
    items = fields.List(fields.Nested(LookbackItemSchema), required=True,
                        metadata={"description": "the item itself first, then lots, banks, vials and bags"})
    subjects = fields.List(fields.Nested(LookbackSubjectSchema), required=True,
                           metadata={"description": "every subject infused with a bag of it, first infused first"})
