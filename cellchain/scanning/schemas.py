"""API shapes of a scan: what was read, what it is, and the record it names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from cellchain.core.canonical import format_utc
from cellchain.core.schemas import CheckedString, RequestSchema
from cellchain.identifiers.scans import jsonable


class ScanIn(RequestSchema):
    data = CheckedString(required=True, metadata={"description": "what the scanner typed, AIM prefix allowed"})


class ScanFields(fields.Dict):
    """What the parser read from the scan: dates as ISO 8601 (with the site's offset), structures as objects."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else jsonable(value)


class RecordSummary(fields.Dict):
    """Plain values of the record; times as fixed-width UTC text like every other answer."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return {k: format_utc(v) if isinstance(v, datetime) else v for k, v in value.items()}


class ScanRecordSchema(Schema):
    type = fields.String(required=True, metadata={"description": "collection, lot, bag, vial, bank, subject, box, "
                                                                  "position, location, material_lot or instrument"})
    id = fields.Integer(required=True)
    key = fields.String(required=True, metadata={"description": "DIN, lot id, bag id, vial code, bank code, subject "
                                                                "id, box, position, location, material lot or "
                                                                "instrument code"})
    url = fields.String(metadata={"description": "the record's page"})
    labels_url = fields.String(metadata={"description": "the page that prints its labels"})
    api = fields.String(metadata={"description": "the record in this API"})
    summary = RecordSummary(keys=fields.String())


class ScanOut(Schema):
    """``record`` is there when this database holds the record the scan names; ``note`` when it does not."""

    kind = fields.String(required=True)
    fields_ = ScanFields(keys=fields.String(), data_key="fields", attribute="fields", required=True)
    data = fields.String(required=True)
    record = fields.Nested(ScanRecordSchema)
    note = fields.String()


class SearchQuery(Schema):
    q = CheckedString(required=True, metadata={"description": "a scan, or the start of a subject id or screening "
                                                              "number, lot number, bag id, DIN, bank or vial code "
                                                              "(2-200 characters)"})


class SearchHitSchema(Schema):
    type = fields.String(required=True, metadata={"description": "subject, lot, bag, collection, bank, vial; a "
                                                                  "scan may also name a box, position or location"})
    key = fields.String(required=True, metadata={"description": "the record's public key"})
    words = fields.String(required=True, metadata={"description": "a few words about the record, in the reader's "
                                                                  "language (type and key stay codes)"})
    api = fields.String(metadata={"description": "the record in this API"})


class SearchOut(Schema):
    """``scanned``: the record a scan named exactly; ``hits``: codes starting with the text, at most 10 a kind."""

    q = fields.String(required=True)
    scanned = fields.Nested(SearchHitSchema, allow_none=True)
    hits = fields.List(fields.Nested(SearchHitSchema), required=True)
    note = fields.String(allow_none=True)
