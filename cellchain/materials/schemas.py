"""The materials API's shapes: the catalogue, received lots, decisions and the material lots of a step."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedList,
    CheckedRaw,
    CheckedString,
    PageQuery,
    RequestSchema,
    UtcDateTime,
    signature_field,
)
from cellchain.materials.models import MATERIAL_KINDS


class MaterialIn(RequestSchema):
    name = CheckedString(required=True)
    supplier = CheckedString(required=True)
    catalogue_number = CheckedString(required=True)
    gtin = CheckedString(metadata={"description": "the GTIN-14 its GS1 barcode carries (01), with its check digit"})
    kind = CheckedString(required=True, metadata={"description": "one of " + ", ".join(MATERIAL_KINDS)})
    storage = CheckedString(required=True, metadata={"description": "storage condition, e.g. 2-8 C"})
    human_animal_origin = CheckedBoolean(load_default=False)


class MaterialSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    supplier = fields.String(required=True)
    catalogue_number = fields.String(required=True)
    gtin = fields.String(allow_none=True)
    kind = fields.String(required=True)
    storage = fields.String(required=True)
    human_animal_origin = fields.Boolean(required=True)


class MaterialsOut(Schema):
    materials = fields.List(fields.Nested(MaterialSchema), required=True)


class ReceiveIn(RequestSchema):
    scan = CheckedString(metadata={"description": "the supplier's GS1 barcode: GTIN (01) names the material, (10) "
                                                  "the lot, (17) the expiry; typed fields win"})
    material_id = CheckedRaw(metadata={"description": "the catalogue entry (when no GTIN is scanned)"})
    supplier_lot = CheckedString(metadata={"description": "as printed, hyphens and all (up to 20)"})
    expires_on = CheckedString(metadata={"description": "YYYY-MM-DD"})
    quantity = CheckedRaw(required=True)
    unit = CheckedString(required=True)
    origin = CheckedString(metadata={"description": "required for human- or animal-origin material"})
    donor_testing = CheckedString(metadata={"description": "required for human- or animal-origin material"})


class MaterialCertificateSchema(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    uploaded_at = UtcDateTime(required=True)


class CertificateIn(RequestSchema):
    """A certificate of analysis sent as ``multipart/form-data``: its one part, ``certificate``, is the file."""

    certificate = Upload(required=True, metadata={
        "description": "the supplier's certificate of analysis: a PDF file of up to 10 MB (the request as a whole "
                       "within the site's body limit); its SHA-256 goes into the lot's audit trail"})


class MaterialUseSchema(Schema):
    id = fields.Integer(required=True)
    lot_id = fields.String(allow_none=True, attribute="lot_number")
    step_id = fields.Integer(allow_none=True)
    din = fields.String(allow_none=True)
    role = fields.String(required=True)
    quantity = fields.Float(required=True)
    unit = fields.String(required=True)
    status_at_use = fields.String(required=True)
    used_at = UtcDateTime(required=True)


class MaterialLotSchema(Schema):
    code = fields.String(required=True, attribute="lot.code")
    material = fields.Nested(MaterialSchema, required=True)
    supplier_lot = fields.String(required=True, attribute="lot.supplier_lot")
    expires_on = fields.Date(required=True, attribute="lot.expires_on")
    quantity_received = fields.Float(required=True, attribute="lot.quantity_received")
    quantity_left = fields.Float(required=True, attribute="lot.quantity_left")
    unit = fields.String(required=True, attribute="lot.unit")
    origin = fields.String(allow_none=True, attribute="lot.origin")
    donor_testing = fields.String(allow_none=True, attribute="lot.donor_testing")
    status = fields.String(required=True, attribute="lot.status")
    received_at = UtcDateTime(required=True, attribute="lot.received_at")
    decided_at = UtcDateTime(allow_none=True, attribute="lot.decided_at")
    decided_by = fields.String(allow_none=True, attribute="signer")
    decision_reason = fields.String(allow_none=True, attribute="lot.decision_reason")
    certificates = fields.List(fields.Nested(MaterialCertificateSchema), required=True)
    uses = fields.List(fields.Nested(MaterialUseSchema), required=True)


class MaterialLotsQuery(PageQuery):
    status = CheckedString(metadata={"description": "quarantine, released or rejected"})


class MaterialLotRowSchema(Schema):
    code = fields.String(required=True, attribute="lot.code")
    material = fields.String(required=True, attribute="material.name")
    supplier_lot = fields.String(required=True, attribute="lot.supplier_lot")
    expires_on = fields.Date(required=True, attribute="lot.expires_on")
    quantity_left = fields.Float(required=True, attribute="lot.quantity_left")
    unit = fields.String(required=True, attribute="lot.unit")
    status = fields.String(required=True, attribute="lot.status")


class MaterialLotsOut(Schema):
    lots = fields.List(fields.Nested(MaterialLotRowSchema), required=True)
    next = fields.String(allow_none=True)


class MaterialDecisionIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "QC's or QA's e-signature, meaning released "
                                                                        "(release) or rejected (reject)"})
    reason = CheckedString(metadata={"description": "required to reject"})


class StepMaterialsIn(RequestSchema):
    materials = CheckedList(CheckedRaw(), required=True, metadata={
        "description": "[{material_lot, quantity}]: each lot scanned (GS1 barcode, ML- label) or its supplier lot "
                       "number when unique; the quantity in the lot's unit"})


class StepMaterialsOut(Schema):
    uses = fields.List(fields.Nested(MaterialUseSchema), required=True)
