"""API shapes of the printer registry, print jobs and applying a label by scan."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedInteger,
    CheckedList,
    CheckedString,
    PageQuery,
    RequestSchema,
    UtcDateTime,
    next_field,
)


class PrinterIn(RequestSchema):
    name = CheckedString(required=True)
    place = CheckedString(required=True, metadata={"description": "where it stands (room, bench)"})
    kind = CheckedString(required=True, metadata={"description": "zpl (Zebra, raw TCP) or pdf (IPP printer)"})
    address = CheckedString(required=True, metadata={"description": "host:port for zpl (port 9100 when left out); "
                                                                    "ipp://host:631/printers/name for pdf"})
    dpi = CheckedInteger(required=True, metadata={"description": "203, 300 or 600"})
    label_sizes = CheckedList(fields.String(), required=True,
                              metadata={"description": "label stock it takes, width x height in mm: 101.6x101.6"})
    active = CheckedBoolean(metadata={"description": "true unless taken out of use"})


class PrinterChange(RequestSchema):
    """Only the fields given change."""

    name = CheckedString()
    place = CheckedString()
    kind = CheckedString()
    address = CheckedString()
    dpi = CheckedInteger()
    label_sizes = CheckedList(fields.String())
    active = CheckedBoolean()


class PrinterSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    place = fields.String(required=True)
    kind = fields.String(required=True)
    address = fields.String(required=True)
    dpi = fields.Integer(required=True)
    label_sizes = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)


class PrintersOut(Schema):
    printers = fields.List(fields.Nested(PrinterSchema), required=True)


class PrintJobIn(RequestSchema):
    printer_id = CheckedInteger(required=True)
    target = CheckedString(required=True, metadata={"description": "bag, lot, collection, qc, vessel, subject, "
                                                                   "vial or bank, as the label downloads name them"})
    key = CheckedString(required=True, metadata={"description": "its bag id, lot id, DIN, subject id ..."})
    reason = CheckedString(metadata={"description": "required for a reprint"})
    passage = CheckedInteger(metadata={"description": "vessel labels: the passage"})
    vessels = CheckedInteger(metadata={"description": "vessel labels: how many"})


class PrintJobSchema(Schema):
    id = fields.Integer(required=True)
    printer_id = fields.Integer(required=True)
    label_kind = fields.String(required=True)
    target = fields.String(required=True)
    item_key = fields.String(required=True)
    label_ids = fields.List(fields.Integer(), required=True)
    fmt = fields.String(required=True, metadata={"description": "zpl or pdf"})
    dpi = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "queued (committed, being sent), sent or failed"})
    error = fields.String(allow_none=True)
    attempts = fields.Integer(required=True, metadata={"description": "sends started"})
    created_at = UtcDateTime(required=True)
    queued_at = UtcDateTime(allow_none=True, metadata={"description": "when it last entered the queue: its request "
                                                                      "or its retry"})
    sent_at = UtcDateTime(allow_none=True)


class PrintJobsOut(Schema):
    jobs = fields.List(fields.Nested(PrintJobSchema), required=True)
    next = next_field()


class PrintJobsQuery(PageQuery):
    pass


class ApplyIn(RequestSchema):
    scan = CheckedString(required=True, metadata={"description": "what the scanner read off the label on its "
                                                                 "container"})
