"""API shapes of quality control: a QC result, as every answer that carries one shows it."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import UtcDateTime


class QcResultSchema(Schema):
    """One QC result of a lot, judged against the specification version the lot was started under."""

    id = fields.Integer(required=True)
    test = fields.String(required=True, attribute="test_code", metadata={"description": "specification test code"})
    value = fields.String(required=True, metadata={"description": "as entered, normalised"})
    unit = fields.String()
    method = fields.String()
    within_spec = fields.Boolean(required=True)
    limit = fields.String(attribute="limit_text", metadata={"description": "the limit as it read when judged"})
    spec_version = fields.String()
    tested_at = UtcDateTime(allow_none=True)
    recorded_at = UtcDateTime()
    repeat_of = fields.Integer(attribute="repeat_of_id", allow_none=True,
                               metadata={"description": "id of the result this one repeats"})
    reason = fields.String(allow_none=True, metadata={"description": "why a repeat was tested"})
