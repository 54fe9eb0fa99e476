"""Schemas of the routes that still read ``json_body()`` and answer hand-built JSON; they document those
routes (``cellchain.overview.openapi.UNCONVERTED``) until each area's ``schemas`` module loads and dumps them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import ReasonSchema, SignatureSchema

SCREENING_TESTS = ["HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV"]
SCREENING_RESULTS = ["negative", "positive", "indeterminate"]
















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
