"""API shapes of storage: units, racks or shelves, boxes and their maps, placements, where-is, readings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    CheckedFloat,
    CheckedInteger,
    CheckedString,
    RequestSchema,
    UtcDateTime,
    next_field,
)
from cellchain.storage.rules.layout import LOCATION_KINDS, STORABLE_KINDS, UNIT_KINDS

CONTAINER = {"description": "the container's scan: a bag's 2D code, its bag id or a DIN-product code scan"}


# --- requests -------------------------------------------------------------------------------------------

class UnitIn(RequestSchema):
    code = CheckedString(required=True, metadata={"description": "1-16 upper-case letters, digits or '-'"})
    name = CheckedString(required=True)
    kind = CheckedString(required=True, validate=validate.OneOf(list(UNIT_KINDS)))
    low_c = CheckedFloat(allow_none=True, metadata={"description": "allowed range, °C; the kind's default if "
                                                                   "low_c and high_c are left out"})
    high_c = CheckedFloat(allow_none=True)


class UnitChangeIn(RequestSchema):
    name = CheckedString()
    low_c = CheckedFloat()
    high_c = CheckedFloat()
    reason = CheckedString(required=True)


class RenameIn(RequestSchema):
    name = CheckedString(required=True)
    reason = CheckedString(required=True)


class LocationIn(RequestSchema):
    code = CheckedString(required=True)
    name = CheckedString(allow_none=True, metadata={"description": "the code when left out"})
    kind = CheckedString(required=True, validate=validate.OneOf(LOCATION_KINDS))


class BoxIn(RequestSchema):
    code = CheckedString(required=True)
    name = CheckedString(allow_none=True, metadata={"description": "the code when left out"})
    rows = CheckedInteger(required=True, metadata={"description": "1-26, lettered A.."})
    columns = CheckedInteger(required=True, metadata={"description": "1-26, numbered 1.."})


class ContainerIn(RequestSchema):
    """The container: its scan, or its kind and row id (a cell-bank vial)."""

    container = CheckedString(metadata=CONTAINER)
    item_type = CheckedString(validate=validate.OneOf(STORABLE_KINDS))
    item_id = CheckedInteger()


class PutIn(ContainerIn):
    target = CheckedString(required=True, metadata={"description": "a position label's scan, or a box label's "
                                                                   "scan with position"})
    position = CheckedString(allow_none=True, metadata={"description": "row letter and column, e.g. B3, after a "
                                                                      "box label"})


class TakeIn(ContainerIn):
    reason = CheckedString(allow_none=True)


class WhereIsQuery(Schema):
    container = fields.String(metadata=CONTAINER)
    item_type = fields.String(validate=validate.OneOf(STORABLE_KINDS))
    item_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ReadingIn(RequestSchema):
    temperature_c = CheckedFloat(required=True)
    measured_at = CheckedString(allow_none=True, metadata={"description": "ISO 8601 with offset; now if left out"})
    notes = CheckedString(allow_none=True)


class ReadingsImportIn(RequestSchema):
    file_name = CheckedString(required=True)
    content = CheckedString(required=True, metadata={"description": "the CSV text: a header line naming time and "
                                                                    "temperature_c, then one reading a line"})


# --- answers --------------------------------------------------------------------------------------------

class UnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(UNIT_KINDS)))
    low_c = fields.Float(required=True)
    high_c = fields.Float(required=True)


class UnitsOut(Schema):
    units = fields.List(fields.Nested(UnitSchema), required=True)
    next = next_field()


class BoxSummarySchema(Schema):
    code = fields.String(required=True, attribute="box.code")
    name = fields.String(required=True, attribute="box.name")
    rows = fields.Integer(required=True, attribute="box.rows")
    columns = fields.Integer(required=True, attribute="box.columns")
    taken = fields.Integer(required=True, metadata={"description": "positions holding a container"})


class LocationSchema(Schema):
    code = fields.String(required=True, attribute="location.code")
    name = fields.String(required=True, attribute="location.name")
    kind = fields.String(required=True, attribute="location.kind")
    unit = fields.String(required=True, metadata={"description": "the unit's code"})
    boxes = fields.List(fields.Nested(BoxSummarySchema), required=True)


class UnitLayoutSchema(UnitSchema):
    locations = fields.List(fields.Nested(LocationSchema), required=True)


class UnitOut(Schema):
    unit = fields.Nested(UnitLayoutSchema, required=True)


class LocationOut(Schema):
    location = fields.Nested(LocationSchema, required=True)


class CellSchema(Schema):
    position = fields.String(required=True, attribute="name", metadata={"description": "e.g. B3"})
    row = fields.Integer(required=True)
    column = fields.Integer(required=True)
    item_type = fields.String(allow_none=True, attribute="placement.item_type", dump_default=None)
    item = fields.String(allow_none=True, attribute="code", metadata={"description": "bag id, or the vial"})
    custody_state = fields.String(allow_none=True, attribute="state")
    placed_at = UtcDateTime(allow_none=True, attribute="placement.placed_at", dump_default=None)


class BoxMapSchema(Schema):
    code = fields.String(required=True, attribute="box.code")
    name = fields.String(required=True, attribute="box.name")
    unit = fields.String(required=True, attribute="unit.code")
    location = fields.String(required=True, attribute="location.code")
    rows = fields.Integer(required=True, attribute="box.rows")
    columns = fields.Integer(required=True, attribute="box.columns")
    taken = fields.Integer(required=True)
    grid = fields.List(fields.List(fields.Nested(CellSchema)), required=True,
                       metadata={"description": "row by row (A first), column by column (1 first)"})


class BoxOut(Schema):
    box = fields.Nested(BoxMapSchema, required=True)


class PositionOut(Schema):
    code = fields.String(required=True, metadata={"description": "the position label's code, e.g. BX-0001-B3"})
    box = fields.String(required=True)
    position = fields.String(required=True)
    unit = fields.String(required=True)
    location = fields.String(required=True)
    item_type = fields.String(allow_none=True)
    item = fields.String(allow_none=True)


class WhereSchema(Schema):
    unit = fields.String(required=True, attribute="where.unit.code")
    location = fields.String(required=True, attribute="where.location.code")
    box = fields.String(required=True, attribute="where.box.code")
    position = fields.String(required=True, attribute="where.position")
    placed_at = UtcDateTime(required=True, attribute="placement.placed_at")
    taken_at = UtcDateTime(allow_none=True, attribute="placement.taken_at")


class PlacementOut(Schema):
    item_type = fields.String(required=True)
    item = fields.String(required=True)
    custody_state = fields.String(allow_none=True)
    placement = fields.Nested(WhereSchema, required=True)


class WhereIsOut(Schema):
    item_type = fields.String(required=True, attribute="item.kind")
    item = fields.String(required=True, attribute="code")
    custody_state = fields.String(allow_none=True, attribute="state")
    now = fields.Nested(WhereSchema, allow_none=True, metadata={"description": "null when in no position"})
    history = fields.List(fields.Nested(WhereSchema), required=True, metadata={"description": "newest first"})


class ReadingSchema(Schema):
    id = fields.Integer(required=True)
    measured_at = UtcDateTime(required=True)
    temperature_c = fields.Float(required=True)
    low_c = fields.Float(required=True)
    high_c = fields.Float(required=True)
    excursion = fields.Boolean(required=True, metadata={"description": "outside the unit's range"})
    source = fields.String(required=True)
    notes = fields.String(allow_none=True)


class ReadingsOut(Schema):
    readings = fields.List(fields.Nested(ReadingSchema), required=True, metadata={"description": "newest first"})
    next = next_field()


class RecordedOut(Schema):
    readings = fields.Integer(required=True, metadata={"description": "how many were recorded"})
    out_of_range = fields.Integer(required=True)
    excursions = fields.List(fields.Integer(), required=True,
                             metadata={"description": "ids of the excursions opened, one per item reached"})
