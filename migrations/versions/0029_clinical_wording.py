"""Sentences the system writes into a record keep their code and values: clinical and manufacturing
deviations' descriptions, holds' causes (core/words/sentences.py; docs/architecture.md, "Languages").

Nullable columns added, nothing rewritten: a row written before this revision has no code and reads as the
sentence it stored, in the language it was worded in then; rows from now on are worded in each reader's
language. The row-change triggers are on the tables, not their columns, so they stay as they are.

Revision ID: 0029_clinical_wording
Revises: 0027_materials
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_clinical_wording"
down_revision = "0027_materials"
branch_labels = None
depends_on = None

WORDED = (("clinical_deviations", "description"), ("deviations", "description"), ("holds", "cause"))


def upgrade() -> None:
    for table, column in WORDED:
        op.add_column(table, sa.Column(f"{column}_code", sa.String(length=40), nullable=True))
        op.add_column(table, sa.Column(f"{column}_values", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, PostgreSQL): no table is rebuilt, so its row-change
    # triggers stay.
    for table, column in reversed(WORDED):
        op.drop_column(table, f"{column}_values")
        op.drop_column(table, f"{column}_code")
