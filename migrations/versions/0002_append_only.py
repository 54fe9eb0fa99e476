"""Append-only triggers on regulated tables; the audit chain's head row.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from cellchain.audit.rules.hash_chain import GENESIS_HASH
from cellchain.audit import append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("audit_entries", "signatures", "passages", "batch_steps", "batch_step_verifications",
                      "qc_results", "specifications", "custody_events", "bedside_checks")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in append_only.create_sql(dialect, table):
            op.execute(statement)
    op.execute(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DELETE FROM audit_head")
    for table in APPEND_ONLY_TABLES:
        for statement in append_only.drop_sql(dialect, table):
            op.execute(statement)
