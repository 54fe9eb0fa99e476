"""API shape of the audit chain's health."""

from __future__ import annotations

from marshmallow import Schema, fields


class AuditVerifyQuery(Schema):
    incremental = fields.Boolean(load_default=False, metadata={
        "description": "start at the newest signed checkpoint's entry instead of entry 1"})


class ChainProblemOut(Schema):
    seq = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the entry; none for a line of the checkpoint log"})
    problem = fields.String(required=True)


class CheckpointOut(Schema):
    seq = fields.Integer(required=True)
    hash = fields.String(required=True)
    at = fields.String(required=True, metadata={"description": "UTC time the checkpoint was written"})
    key_id = fields.String(required=True)


class AuditVerifyOut(Schema):
    ok = fields.Boolean(required=True)
    entries = fields.Integer(required=True, metadata={"description": "entries read"})
    first_bad = fields.Integer(allow_none=True, metadata={"description": "sequence number of the first entry "
                                                                          "that does not verify"})
    problem = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(ChainProblemOut), metadata={
        "description": "each entry that does not verify (the first 50)"})
    problem_count = fields.Integer()
    checked_from = fields.Integer(metadata={"description": "first entry read: 1, or the newest checkpoint's"})
    checkpoint = fields.Nested(CheckpointOut, allow_none=True, metadata={
        "description": "the newest signed checkpoint of the chain's head, kept outside the database"})
    checkpoints = fields.Integer(metadata={"description": "signed checkpoints in the log"})
