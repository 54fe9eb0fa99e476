"""API shapes of labels: the query of a label download, the shipper label request, printed labels."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    FILE_BODY,
    CheckedDateTime,
    CheckedInteger,
    CheckedList,
    CheckedString,
    PageQuery,
    RequestSchema,
    UtcDateTime,
    next_field,
)
from cellchain.labelling.print_jobs import FORMATS, TARGETS
from cellchain.manufacturing.models import LABEL_STATUSES

ZPL_BODY = {"type": "string", "description": "ZPL II, for a Zebra printer's raw queue"}
LABEL_BODIES = {"pdf": FILE_BODY, "zpl": ZPL_BODY}


class LabelQuery(Schema):
    reason = fields.String(metadata={"description": "why a label printed before is printed again; required "
                                                    "for a reprint"})
    dpi = CheckedInteger(metadata={"description": "ZPL only: the printer's resolution, 203, 300 or 600 dpi; "
                                                  "the site's LABEL_ZPL_DPI when not given"})


class VesselLabelQuery(LabelQuery):
    passage = CheckedInteger(required=True, metadata={"description": "the passage number, 0 up to the site's "
                                                                     "passage limit"})
    vessels = CheckedInteger(required=True, metadata={"description": "how many vessels"})


class LabelsQuery(PageQuery):
    target = CheckedString(validate=validate.OneOf(sorted(TARGETS)),
                           metadata={"description": "what the labels are for; give it with key"})
    key = CheckedString(metadata={"description": "its DIN, bag id, lot id, subject id or shipment id"})


class ShipperLabelIn(RequestSchema):
    bags = CheckedList(fields.String(), required=True, metadata={"description": "the bag ids in the container"})
    ship_to = CheckedString(required=True)
    shipped_at = CheckedDateTime(metadata={"description": "with its UTC offset; now when not given"})
    reason = CheckedString(metadata={"description": "required for a reprint"})
    format = CheckedString(validate=validate.OneOf(sorted(FORMATS)), metadata={"description": "pdf (default) "
                                                                                                "or zpl"})


class LabelStatusIn(RequestSchema):
    status = CheckedString(required=True, validate=validate.OneOf(["applied", "voided", "destroyed"]))
    reason = CheckedString(metadata={"description": "required to void or destroy"})


class LabelPrintSchema(Schema):
    """A printed label, dumped from ``print_jobs.NamedLabel`` (the row and its people's usernames).

    ``label_id`` and ``id`` are the same number: the answers have carried ``label_id`` and the document
    ``id``; both are kept so clients of either keep working.
    """

    label_id = fields.Integer(required=True, attribute="label.id")
    id = fields.Integer(required=True, attribute="label.id", dump_only=True,
                        metadata={"description": "alias of label_id"})
    label_kind = fields.String(required=True, attribute="label.label_kind")
    item_type = fields.String(attribute="label.item_type")
    item_key = fields.String(attribute="label.item_key")
    reprint = fields.Boolean(attribute="label.reprint")
    reason = fields.String(allow_none=True, attribute="label.reason", metadata={"description": "why it was "
                                                                                              "reprinted"})
    content_hash = fields.String(attribute="label.content_hash", metadata={"description": "SHA-256 of the "
                                                                                         "label's data"})
    status = fields.String(required=True, attribute="label.status", validate=validate.OneOf(LABEL_STATUSES))
    status_reason = fields.String(allow_none=True, attribute="label.status_reason")
    status_by = fields.String(allow_none=True, metadata={"description": "username"})
    status_at = UtcDateTime(allow_none=True, attribute="label.status_at")
    printed_by = fields.String(allow_none=True, metadata={"description": "username"})
    printed_at = UtcDateTime(attribute="label.printed_at")


class LabelsOut(Schema):
    labels = fields.List(fields.Nested(LabelPrintSchema), required=True)
    next = next_field()
