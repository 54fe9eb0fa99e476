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


class LotOut(Schema):
    lot_id = fields.String(required=True)
    din = fields.String()
    status = fields.String(validate=validate.OneOf(["in_process", "awaiting_release", "released", "rejected"]))
    passages = fields.List(fields.Nested(PassageOut))
    qc_results = fields.List(fields.Nested(QcResultOut))
    bags = fields.List(fields.String())


class DecisionIn(Schema):
    signature = fields.Nested(SignatureSchema, required=True)
    reason = fields.String(metadata={"description": "required to reject"})


class DecisionOut(Schema):
    lot_id = fields.String()
    status = fields.String()


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
