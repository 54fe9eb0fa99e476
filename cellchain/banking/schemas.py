"""API shapes of cell banking: freezing a bank, its vials, a thaw, and a cord's genealogy tree."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.banking.models import BANK_LEVELS, VIAL_STATES
from cellchain.core.schemas import (
    CheckedDateTime,
    CheckedFloat,
    CheckedInteger,
    CheckedString,
    RequestSchema,
    UtcDateTime,
    next_field,
)
from cellchain.equipment.schemas import UsedSchema, instruments_field
from cellchain.manufacturing.schemas import LOT_PURPOSES, LOT_STATUSES
from cellchain.ward.schemas import CustodyEventSchema


class FreezeIn(RequestSchema):
    level = CheckedString(required=True, validate=validate.OneOf(BANK_LEVELS),
                          metadata={"description": "MCB from a lot started from the cord; WCB from a lot thawed "
                                                   "from an MCB vial"})
    passage = CheckedInteger(required=True, metadata={"description": "a passage the lot has reached"})
    vial_count = CheckedInteger(required=True, metadata={"description": "1 to 999 vials"})
    cells_per_vial = CheckedFloat(required=True)
    cryoprotectant = CheckedString(required=True, metadata={"description": "e.g. 10% DMSO"})
    frozen_at = CheckedDateTime(allow_none=True, metadata={"description": "now when not given"})
    instruments = instruments_field()


class VialSchema(Schema):
    vial_code = fields.String(required=True)
    number = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(VIAL_STATES))
    custody_state = fields.String(allow_none=True)
    thawed_at = UtcDateTime(allow_none=True)
    post_thaw_viability_pct = fields.Float(allow_none=True)


class BankOut(Schema):
    """A cell bank; its status is its lot's release status (QA releases the bank by releasing the lot)."""

    bank_code = fields.String(required=True, attribute="bank.bank_code")
    level = fields.String(required=True, attribute="bank.level", validate=validate.OneOf(BANK_LEVELS))
    din = fields.String(required=True, attribute="bank.din", metadata={"description": "the cord of origin"})
    lot_id = fields.String(required=True, attribute="lot_number")
    status = fields.String(required=True, validate=validate.OneOf(LOT_STATUSES))
    vial_count = fields.Integer(attribute="bank.vial_count")
    cells_per_vial = fields.Integer(attribute="bank.cells_per_vial")
    cryoprotectant = fields.String(attribute="bank.cryoprotectant")
    frozen_at = UtcDateTime(attribute="bank.frozen_at")
    passage = fields.Integer(attribute="bank.passage")
    cumulative_doublings = fields.Float(attribute="bank.cumulative_doublings",
                                        metadata={"description": "population doublings from the cord at freezing"})
    vial_states = fields.Dict(keys=fields.String(), values=fields.Integer(), attribute="counts")


class BankDetailOut(Schema):
    bank = fields.Nested(BankOut, attribute="row", required=True)
    source_vial = fields.String(allow_none=True, attribute="source_vial_code",
                                metadata={"description": "the MCB vial a WCB's lot was thawed from"})
    vials = fields.List(fields.Nested(VialSchema))


class BankListOut(Schema):
    banks = fields.List(fields.Nested(BankOut), required=True)
    next = next_field()


class VialThawIn(RequestSchema):
    vial = CheckedString(required=True, metadata={"description": "the vial's code or a scan of its label (&a...)"})
    purpose = CheckedString(required=True, validate=validate.OneOf(LOT_PURPOSES),
                            metadata={"description": "bank: the lot a WCB is frozen from (MCB vials); dosing"})
    post_thaw_viability_pct = CheckedFloat(required=True)
    thawed_at = CheckedDateTime(allow_none=True, metadata={"description": "now when not given"})
    instruments = instruments_field()


class VialThawOut(Schema):
    vial_code = fields.String(required=True)
    lot_id = fields.String(required=True, metadata={"description": "the lot the thaw started"})
    purpose = fields.String(validate=validate.OneOf(LOT_PURPOSES))
    first_passage = fields.Integer(metadata={"description": "the bank's passage + 1"})
    starting_doublings = fields.Float()


class VialOut(VialSchema):
    bank_code = fields.String(attribute="bank.bank_code")
    level = fields.String(attribute="bank.level")
    din = fields.String(attribute="bank.din")
    bank_status = fields.String(validate=validate.OneOf(LOT_STATUSES))
    started_lot = fields.String(allow_none=True)
    thaw_instruments = fields.List(fields.Nested(UsedSchema), attribute="instruments", metadata={
        "description": "the instruments the thaw used (water bath, thawing device), each flagged if it was not fit "
                       "for use then as the registry now knows"})
    custody = fields.List(fields.Nested(CustodyEventSchema))


class NodeSchema(Schema):
    """A record of the genealogy tree: cord, lot, bank, vial (a thawed one) or bag, with its children."""

    type = fields.String(required=True, validate=validate.OneOf(["cord", "lot", "bank", "vial", "bag"]))
    key = fields.String(required=True, metadata={"description": "DIN, lot id, bank code, vial code or bag id"})
    summary = fields.Dict(metadata={"description": "status and counts of the record"})
    children = fields.List(fields.Nested(lambda: NodeSchema()))
