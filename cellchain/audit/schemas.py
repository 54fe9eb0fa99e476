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


class DifferenceOut(Schema):
    table = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "the row's key, as its audit entries name it"})
    field = fields.String(required=True, metadata={"description": "the row's column"})
    trail_value = fields.Raw(allow_none=True, required=True, metadata={
        "description": "the value the newest entry naming the field recorded"})
    current_value = fields.Raw(allow_none=True, required=True, metadata={"description": "the value the row holds"})
    seq = fields.Integer(required=True, metadata={"description": "that entry's sequence number"})


class RecordsOut(Schema):
    ok = fields.Boolean(required=True)
    rows = fields.Integer(required=True, metadata={"description": "regulated records read"})
    fields_ = fields.Integer(required=True, data_key="fields", attribute="fields",
                             metadata={"description": "fields the trail records that were compared"})
    difference_count = fields.Integer(required=True)
    differences = fields.List(fields.Nested(DifferenceOut), required=True, metadata={
        "description": "each field whose value differs from the trail's (the first 200)"})


class AuditVerifyOut(Schema):
    ok = fields.Boolean(required=True, metadata={
        "description": "the chain verifies and every regulated record holds what the trail recorded"})
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
    chain_ok = fields.Boolean(metadata={"description": "the chain alone verifies"})
    records = fields.Nested(RecordsOut, metadata={
        "description": "reconciliation: regulated records against the newest values their entries recorded"})
    outside_changes = fields.Integer(metadata={
        "description": "rows of regulated tables changed outside the application, in the database's row-change log"})
