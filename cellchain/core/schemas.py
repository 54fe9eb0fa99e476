"""Shapes shared by every resource: errors, reasons, e-signatures."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ReasonSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable rule name"})
    message = fields.String(required=True, metadata={"description": "what a person reads"})


class ErrorSchema(Schema):
    """400: ``fields`` names each bad field; 409: ``reasons`` lists every rule that refused."""

    error = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")
    reasons = fields.List(fields.Nested(ReasonSchema))


class SignatureSchema(Schema):
    """An e-signature, checked like a login at the moment of signing (21 CFR 11.200)."""

    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    meaning = fields.String(required=True, validate=validate.OneOf(
        ["performed", "verified", "reviewed", "approved", "released", "rejected", "accepted", "closed", "authored",
         "administered"]))


class SignatureManifestationSchema(Schema):
    signer_name = fields.String()
    signer_username = fields.String()
    meaning = fields.String()
    signed_at = fields.DateTime()
    record_hash = fields.String()


class CustodyEventSchema(Schema):
    id = fields.Integer()
    item_type = fields.String(metadata={"description": "collection or bag"})
    item_id = fields.String(metadata={"description": "the collection's DIN or the bag id"})
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    location = fields.String()
    temperature_c = fields.Float(allow_none=True)
    condition = fields.String()
    excursion = fields.Boolean()
    occurred_at = fields.DateTime()
    recorded_by = fields.String()
