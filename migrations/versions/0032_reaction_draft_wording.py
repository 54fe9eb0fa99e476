"""An adverse event drafted from a bedside reaction keeps its description's code and values
(core/words/sentences.py ``reaction_draft``; docs/architecture.md, "Languages"), so the investigator reads
the nurse's sentence in their own language.

Nullable columns added, nothing rewritten: an event drafted before this revision has no code and reads as the
sentence it stored, in the language of the nurse who recorded the reaction. The row-change triggers are on
the table, not its columns, so they stay as they are.

Revision ID: 0032_reaction_draft_wording
Revises: 0031_thaw_instruments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_reaction_draft_wording"
down_revision = "0031_thaw_instruments"
branch_labels = None
depends_on = None

TABLE = "adverse_events"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("description_code", sa.String(length=40), nullable=True))
    op.add_column(TABLE, sa.Column("description_values", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, PostgreSQL): no table is rebuilt, so its row-change
    # triggers stay.
    op.drop_column(TABLE, "description_values")
    op.drop_column(TABLE, "description_code")
