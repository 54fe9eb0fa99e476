"""Schemas of the routes that still read ``json_body()`` and answer hand-built JSON; they document those
routes (``cellchain.overview.openapi.UNCONVERTED``) until each area's ``schemas`` module loads and dumps them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import ReasonSchema, SignatureSchema
from cellchain.ward.schemas import CustodyEventSchema

SCREENING_TESTS = ["HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV"]
SCREENING_RESULTS = ["negative", "positive", "indeterminate"]






class CollectionIn(Schema):
    donor_code = fields.String(required=True, metadata={"description": "a code for the mother, never a name"})
    collected_at = fields.DateTime(required=True)
    site = fields.String(required=True)
    consent_obtained = fields.Boolean(required=True)
    screening = fields.Dict(keys=fields.String(validate=validate.OneOf(SCREENING_TESTS)),
                            values=fields.String(validate=validate.OneOf(SCREENING_RESULTS)), required=True)
    specimen_collected_at = fields.DateTime()
    medical_history_ok = fields.Boolean()


class CollectionOut(Schema):
    din = fields.String(required=True)
    eligibility = fields.String(validate=validate.OneOf(["eligible", "ineligible"]))
    reasons = fields.List(fields.Nested(ReasonSchema))
    status = fields.String(metadata={"description": "custody state of the cord"})
    custody = fields.List(fields.Nested(CustodyEventSchema))


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


class LotIn(Schema):
    collection_din = fields.String(required=True)


class PassageIn(Schema):
    number = fields.Integer(required=True)
    seeded_cells = fields.Integer(required=True)
    harvested_cells = fields.Integer(required=True)
    viability_pct = fields.Float(required=True)
    seeded_at = fields.DateTime(required=True)
    harvested_at = fields.DateTime(required=True)


class PassageOut(PassageIn):
    population_doublings = fields.Float()
    cumulative_doublings = fields.Float()


class QcResultOut(Schema):
    id = fields.Integer()
    test = fields.String()
    value = fields.String()
    within_spec = fields.Boolean(required=True)
    limit = fields.String()
    deviation = fields.String(allow_none=True)


class LotOut(Schema):
    lot_id = fields.String(required=True)
    din = fields.String()
    status = fields.String(validate=validate.OneOf(["in_process", "awaiting_release", "released", "rejected"]))
    passages = fields.List(fields.Nested(PassageOut))
    qc_results = fields.List(fields.Nested(QcResultOut))
    bags = fields.List(fields.String())


class FillIn(Schema):
    count = fields.Integer(required=True)
    volume_ml = fields.Float(required=True)
    total_cells = fields.Integer(required=True, metadata={"description": "cells in each bag"})
    anticoagulant = fields.String(required=True, validate=validate.OneOf(["heparin", "ACD-A"]))
    anticoagulant_lot = fields.String(required=True)
    anticoagulant_volume_ml = fields.Float()
    expires_at = fields.DateTime()


class PlaceboIn(Schema):
    count = fields.Integer(required=True)
    volume_ml = fields.Float()
    saline_lot = fields.String(required=True)
    expires_at = fields.DateTime()


class BagOut(Schema):
    bag_id = fields.String(required=True, metadata={"description": "DIN-productcode-type-division"})
    din = fields.String()
    product_code = fields.String()
    division = fields.String()
    kind = fields.String(validate=validate.OneOf(["ucmsc", "placebo"]))
    lot_id = fields.String(allow_none=True)
    status = fields.String()
    custody_state = fields.String()
    volume_ml = fields.Float()
    total_cells = fields.Integer(allow_none=True)
    expires_at = fields.DateTime()


class BagsOut(Schema):
    bags = fields.List(fields.Nested(BagOut))


class ScanIn(Schema):
    data = fields.String(required=True, metadata={"description": "what the scanner typed, AIM prefix allowed"})


class ScanOut(Schema):
    kind = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")
    data = fields.String()
    record = fields.Dict(allow_none=True)


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


class HarvestIn(Schema):
    harvested_cells = fields.Integer(required=True)
    harvested_at = fields.DateTime()


class FormulationIn(Schema):
    cells_per_ml = fields.Float(required=True)
    volume_ml = fields.Float(required=True)


class BatchStepIn(Schema):
    step = fields.String(required=True, metadata={"description": "a step code of the SOP checklist"})
    passage_number = fields.Integer()
    details = fields.Dict(metadata={"description": "media and reagent lots, notes ..."})
    performed_at = fields.DateTime()


class BatchStepOut(Schema):
    lot_id = fields.String()
    step_id = fields.Integer()
    step = fields.String()
    performed_by = fields.String()


class VerifyStepIn(Schema):
    signature = fields.Nested(SignatureSchema, required=True, metadata={"description": "a second person"})


class VerifyStepOut(Schema):
    lot_id = fields.String()
    step_id = fields.Integer()
    verified_by = fields.String()
    meaning = fields.String()
    verified_at = fields.DateTime()
