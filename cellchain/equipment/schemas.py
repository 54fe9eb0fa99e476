"""API shapes of the instrument registry, and the ``instruments`` field every batch step's body may carry."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedList,
    CheckedString,
    ReasonSchema,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.equipment.rules.validity import KINDS, STATUSES

DATE = {"description": "a date, YYYY-MM-DD"}


def instruments_field() -> CheckedList:
    """A step's ``instruments``: the scans of the instruments it used."""
    return CheckedList(CheckedString(), metadata={
        "description": "the instruments used, as scanned: an instrument label's `&g` + identifier, or the identifier "
                       "(at most 20); a step on one out of service or past its calibration or maintenance due date "
                       "is refused naming it"})


# --- requests -------------------------------------------------------------------------------------------

class InstrumentIn(RequestSchema):
    code = CheckedString(required=True, metadata={"description": "the identifier on the instrument's label: 1-16 "
                                                                 "upper-case letters, digits or '-'"})
    name = CheckedString(required=True)
    kind = CheckedString(required=True, validate=validate.OneOf([k for k in KINDS if k != "storage_unit"]),
                         metadata={"description": "storage units are registered when storage sets them up"})
    place = CheckedString(required=True, metadata={"description": "room or area, e.g. cleanroom B"})
    calibration_due = CheckedString(allow_none=True, metadata={**DATE, "description": "empty: not calibrated"})
    maintenance_due = CheckedString(allow_none=True, metadata={**DATE, "description": "empty: no planned maintenance"})


class ServiceIn(RequestSchema):
    done_on = CheckedString(required=True, metadata=DATE)
    next_due = CheckedString(required=True, metadata=DATE)
    done_by = CheckedString(required=True, metadata={"description": "the person or the service company"})
    certificate_ref = CheckedString(allow_none=True, metadata={"description": "required for a calibration"})
    out_of_tolerance = CheckedBoolean(metadata={"description": "calibration only: found out of tolerance, which "
                                                               "voids the period since the previous calibration"})


class OutOfServiceIn(RequestSchema):
    reason = CheckedString(required=True)
    since = CheckedString(allow_none=True, metadata={"description": "ISO 8601 with offset; default now"})


class ReturnIn(RequestSchema):
    reason = CheckedString(required=True)
    signature = signature_field(required=True, metadata={"description": "QA, meaning approved"})


# --- answers --------------------------------------------------------------------------------------------

class EventSchema(Schema):
    kind = fields.String(required=True)
    service = fields.String(allow_none=True)
    done_on = fields.Date(allow_none=True)
    next_due = fields.Date(allow_none=True)
    done_by = fields.String(allow_none=True)
    certificate_ref = fields.String(allow_none=True)
    out_of_tolerance = fields.Boolean()
    reason = fields.String(allow_none=True)
    effective_at = UtcDateTime()
    signature_id = fields.Integer(allow_none=True)
    recorded_at = UtcDateTime()


class InstrumentSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    place = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_reason = fields.String(allow_none=True)
    calibration_due = fields.Date(allow_none=True)
    maintenance_due = fields.Date(allow_none=True)


class InstrumentOut(Schema):
    instrument = fields.Nested(InstrumentSchema, required=True)
    history = fields.List(fields.Nested(EventSchema))


class InstrumentsOut(Schema):
    instruments = fields.List(fields.Nested(InstrumentSchema))
    next = next_field()


class DueSchema(Schema):
    code = fields.String(required=True)
    name = fields.String()
    service = fields.String(validate=validate.OneOf(["calibration", "maintenance"]))
    due = fields.Date()
    overdue = fields.Boolean()


class DueOut(Schema):
    days = fields.Integer(metadata={"description": "the window: due within this many days (EQUIPMENT_DUE_DAYS)"})
    due = fields.List(fields.Nested(DueSchema))


class UsedSchema(Schema):
    """An instrument a step used, and every reason it was not fit then as the registry now knows."""

    code = fields.String(attribute="instrument.code")
    name = fields.String(attribute="instrument.name")
    kind = fields.String(attribute="instrument.kind")
    fit = fields.Boolean()
    problems = fields.List(fields.Nested(ReasonSchema))


def dump_instrument(row: Any, history: list[Any] | None = None) -> dict[str, Any]:
    return {"instrument": row, "history": history or []}
