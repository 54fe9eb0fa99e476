"""The label records become regulated tables (audit/rules/regulated.py): ``label_prints``, ``printers`` and
``print_jobs`` get their row-change triggers (audit/row_changes.py), and a print job keeps when it last
entered the queue (``print_jobs.queued_at``: a job is committed queued before it is sent, and one left queued
longer than a send may take is sent again; docs/architecture.md, "Label printers").

A nullable column added and filled from each job's creation time; no other row changes.

Revision ID: 0030_print_records_regulated
Revises: 0029_clinical_wording
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cellchain.core.types
from cellchain.audit import row_changes

revision = "0030_print_records_regulated"
down_revision = "0029_clinical_wording"
branch_labels = None
depends_on = None

TABLES = ("label_prints", "printers", "print_jobs")


def upgrade() -> None:
    op.add_column("print_jobs", sa.Column("queued_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE print_jobs SET queued_at = created_at")
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        # 0019 makes the triggers of every regulated table that exists when it runs, so a database made from
        # empty has label_prints' already and one made before has none: both end with one set.
        for statement in row_changes.drop_table_sql(dialect, table) + row_changes.table_sql(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in row_changes.drop_table_sql(dialect, table):
            op.execute(statement)
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would rename onto a table the row-change triggers name.
    op.drop_column("print_jobs", "queued_at")
