"""Indexes for the summaries counted in SQL: bag accountability's totals count bags by custody state and
expiry from an index alone, and find the bags returned from the ward without reading every custody event;
the labels still to account for are read a page at a time in print order; the audit entries are counted per
record type as they are written (``audit_type_counts``, kept by a trigger; counted once here for the entries
already written), so the auditor's dashboard reads a few rows, not every entry.

Revision ID: 0012_list_indexes
Revises: 0011_form_submissions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cellchain.audit import models as audit_models

revision = "0012_list_indexes"
down_revision = "0011_form_submissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit_type_counts",
                    sa.Column("record_type", sa.String(length=40), nullable=False),
                    sa.Column("entries", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("record_type"))
    op.execute("INSERT INTO audit_type_counts (record_type, entries) "
               "SELECT record_type, COUNT(*) FROM audit_entries GROUP BY record_type")
    for statement in audit_models.count_sql(op.get_bind().dialect.name):
        op.execute(statement)
    op.create_index("ix_bags_custody_expiry", "bags", ["custody_state", "expires_at"])
    op.create_index("ix_custody_events_event", "custody_events", ["event", "item_type", "item_id"])
    op.create_index("ix_label_prints_status", "label_prints", ["status", "printed_at", "id"])


def downgrade() -> None:
    for statement in audit_models.drop_count_sql(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("audit_type_counts")
    op.drop_index("ix_label_prints_status", table_name="label_prints")
    op.drop_index("ix_custody_events_event", table_name="custody_events")
    op.drop_index("ix_bags_custody_expiry", table_name="bags")
