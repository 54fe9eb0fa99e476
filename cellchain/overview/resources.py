"""Schemas of the routes that still read ``json_body()`` and answer hand-built JSON; they document those
routes (``cellchain.overview.openapi.UNCONVERTED``) until each area's ``schemas`` module loads and dumps them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import ReasonSchema, SignatureSchema
from cellchain.ward.schemas import CustodyEventSchema

SCREENING_TESTS = ["HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV"]
SCREENING_RESULTS = ["negative", "positive", "indeterminate"]










class CustodyIn(Schema):
    item = fields.String(required=True, metadata={"description": "DIN with K, DIN barcode, bag id or a raw scan"})
    event = fields.String(required=True, validate=validate.OneOf(
        ["shipped", "received", "stored", "dispatched", "received_at_ward", "returned", "discarded"]))
    location = fields.String(required=True)
    temperature_c = fields.Float()
    condition = fields.String()
    occurred_at = fields.DateTime()
    handed_over_by = fields.String()
    received_by = fields.String()
    notes = fields.String()


class CustodyOut(Schema):
    event = fields.Nested(CustodyEventSchema)


class ItemCustodyOut(Schema):
    state = fields.String()
    unbroken = fields.Boolean()
    events = fields.List(fields.Nested(CustodyEventSchema))
    excursions = fields.List(fields.Dict())








class QcResultIn(Schema):
    test = fields.String(required=True, metadata={"description": "specification test code, e.g. viability, cd73"})
    value = fields.Raw(required=True, metadata={"description": "number, or negative/positive, normal/abnormal"})
    tested_at = fields.DateTime()
    repeat_of = fields.Integer(metadata={"description": "id of the result this repeats"})
    reason = fields.String(metadata={"description": "required for a repeat"})


class QcResultOut(Schema):
    id = fields.Integer()
    test = fields.String()
    value = fields.String()
    within_spec = fields.Boolean(required=True)
    limit = fields.String()
    deviation = fields.String(allow_none=True)




class DecisionIn(Schema):
    signature = fields.Nested(SignatureSchema, required=True)
    reason = fields.String(metadata={"description": "required to reject"})


class DecisionOut(Schema):
    lot_id = fields.String()
    status = fields.String()














class SubjectIn(Schema):
    screening_number = fields.String(required=True)
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(["female", "male"]))
    weight_kg = fields.Float(required=True)
    day0 = fields.Date(required=True)
    meets_transplant_criteria = fields.Boolean(required=True)
    first_transplant = fields.Boolean(required=True)
    liver_only = fields.Boolean(required=True)
    consent_signed = fields.Boolean(required=True)
    willing_to_comply = fields.Boolean(required=True)
    pregnancy_test = fields.String(required=True, validate=validate.OneOf(["negative", "positive", "not_applicable"]))
    prior_other_organ_transplant = fields.Boolean(required=True)
    vital_organ_failure = fields.Boolean(required=True)
    investigational_drug_within_30_days = fields.Boolean(required=True)
    on_immunosuppressant = fields.Boolean(required=True)
    active_infection = fields.Boolean(required=True)
    pregnant_or_lactating = fields.Boolean(required=True)


class SubjectOut(Schema):
    subject_id = fields.String(required=True)
    eligible = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(ReasonSchema))
    arm = fields.String(allow_none=True)


class RandomizeOut(Schema):
    subject_id = fields.String()
    arm = fields.String(required=True, validate=validate.OneOf(["A", "B"]))
    randomized_at = fields.DateTime()


class WindowSchema(Schema):
    start = fields.Date()
    end = fields.Date()


class VisitOut(Schema):
    visit_id = fields.Integer(required=True)
    week = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["infusion", "follow_up"]))
    target_date = fields.Date(required=True)
    window = fields.Nested(WindowSchema)
    status = fields.String()


class VisitsOut(Schema):
    visits = fields.List(fields.Nested(VisitOut))


class AllocationIn(Schema):
    bag_id = fields.String(required=True)
    weight_kg = fields.Float(required=True)


class AllocationOut(Schema):
    allocation_id = fields.Integer()
    visit_id = fields.Integer()
    bag_id = fields.String()
    subject_id = fields.String()
    required_cells = fields.Integer(allow_none=True)


class BedsideIn(Schema):
    wristband = fields.String(required=True, metadata={"description": "what the scanner read from the wristband"})
    bag = fields.Raw(required=True, metadata={"description": "the bag's 2D code, or a list of its linear scans"})


class CheckSchema(Schema):
    name = fields.String(required=True)
    ok = fields.Boolean(required=True)
    detail = fields.String()


class BedsideOut(Schema):
    ok = fields.Boolean(required=True)
    checks = fields.List(fields.Nested(CheckSchema), required=True)
    subject_id = fields.String(allow_none=True)
    bag_id = fields.String(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    bedside_check_id = fields.Integer()


class InfusionIn(BedsideIn):
    verifier = fields.Nested(SignatureSchema, required=True, metadata={"description": "the second person"})
    started_at = fields.DateTime()
    ultrasound_monitored = fields.Boolean()
    vital_signs = fields.Dict()


class InfusionOut(Schema):
    infusion_id = fields.Integer(required=True)
    status = fields.String()


class ReactionSchema(Schema):
    description = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(["mild", "moderate", "severe",
                                                                      "life_threatening"]))
    onset_at = fields.DateTime()


class InfusionCompleteIn(Schema):
    volume_ml = fields.Float(required=True)
    ended_at = fields.DateTime(required=True)
    reactions = fields.List(fields.Nested(ReactionSchema))
    vital_signs = fields.Dict()
    ultrasound_monitored = fields.Boolean()




class ReleaseCheckOut(Schema):
    lot_id = fields.String()
    ready = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(ReasonSchema))


class QcResultsOut(Schema):
    lot_id = fields.String()
    status = fields.String()
    spec_version = fields.String()
    results = fields.List(fields.Nested(QcResultOut))


class DeviationIn(Schema):
    lot_id = fields.String()
    kind = fields.String(validate=validate.OneOf(["oos", "excursion", "procedural"]))
    description = fields.String(required=True)


class DeviationStepIn(Schema):
    """investigate: root_cause, impact; decide: decision (accept|reject), justification; close: signature."""

    root_cause = fields.String()
    impact = fields.String()
    decision = fields.String(validate=validate.OneOf(["accept", "reject"]))
    justification = fields.String()
    signature = fields.Nested(SignatureSchema)


class DeviationOut(Schema):
    number = fields.String(required=True)
    lot_id = fields.String(allow_none=True)
    kind = fields.String()
    test = fields.String(allow_none=True)
    description = fields.String()
    status = fields.String(validate=validate.OneOf(["open", "investigated", "decided", "closed"]))
    root_cause = fields.String(allow_none=True)
    impact = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)
    justification = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class DeviationsOut(Schema):
    deviations = fields.List(fields.Nested(DeviationOut))


class SpecificationOut(Schema):
    version = fields.String(required=True)
    tests = fields.List(fields.Dict())


class SpecificationIn(Schema):
    definition = fields.Dict(required=True, metadata={"description": "version and tests, as GET .../current"})


class VisitDoneIn(Schema):
    done_at = fields.DateTime()


class RandomizationListOut(Schema):
    list_hash = fields.String(required=True, metadata={"description": "SHA-256 recorded when the list was made"})
    used = fields.Integer(metadata={"description": "positions used so far; the entries are never shown"})
    verified = fields.Boolean()
    problems = fields.List(fields.String())


class ExtendListIn(Schema):
    extra = fields.Integer(required=True)
    reason = fields.String(required=True)


class SubjectsOut(Schema):
    subjects = fields.List(fields.Nested(SubjectOut))














class ShipperLabelIn(Schema):
    bags = fields.List(fields.String(), required=True)
    ship_to = fields.String(required=True)
    shipped_at = fields.DateTime()
    reason = fields.String(metadata={"description": "required for a reprint"})
    format = fields.String(validate=validate.OneOf(["pdf", "zpl"]))


class LabelPrintOut(Schema):
    id = fields.Integer()
    item_type = fields.String()
    item_key = fields.String()
    label_kind = fields.String()
    reprint = fields.Boolean()
    status = fields.String(validate=validate.OneOf(["printed", "applied", "voided", "destroyed"]))
    printed_at = fields.DateTime()


class LabelsOut(Schema):
    labels = fields.List(fields.Nested(LabelPrintOut))


class LabelStatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["applied", "voided", "destroyed"]))
    reason = fields.String(metadata={"description": "required to void or destroy"})
