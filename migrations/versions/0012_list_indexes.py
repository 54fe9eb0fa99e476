"""Indexes for the summaries counted in SQL: bag accountability's totals count bags by custody state and
expiry from an index alone, and find the bags returned from the ward without reading every custody event;
the labels still to account for are read a page at a time in print order.

Revision ID: 0012_list_indexes
Revises: 0010_partial_infusion
"""

from __future__ import annotations

from alembic import op

revision = "0012_list_indexes"
down_revision = "0010_partial_infusion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bags_custody_expiry", "bags", ["custody_state", "expires_at"])
    op.create_index("ix_custody_events_event", "custody_events", ["event", "item_type", "item_id"])
    op.create_index("ix_label_prints_status", "label_prints", ["status", "printed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_label_prints_status", table_name="label_prints")
    op.drop_index("ix_custody_events_event", table_name="custody_events")
    op.drop_index("ix_bags_custody_expiry", table_name="bags")
