"""An infusion visit's planned date and time (UTC), set inside its window and rescheduled with a reason.

Visits planned before this revision keep no time (NULL): allocation then asks the bag to be in date
until the window closes, as it did, until the coordinator plans the infusion.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cellchain.core.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("visits", sa.Column("planned_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("planned_at")
