"""API shape of the audit chain's health."""

from __future__ import annotations

from marshmallow import Schema, fields


class AuditVerifyOut(Schema):
    ok = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    first_bad = fields.Integer(allow_none=True, metadata={"description": "sequence number of the first entry "
                                                                          "that does not verify"})
    problem = fields.String(allow_none=True)
