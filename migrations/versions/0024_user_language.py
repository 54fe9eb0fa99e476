"""Each person's language for the pages: ``users.language`` ("en", "zh"; none: the site's default).

A nullable column added; no row changes.

Revision ID: 0024_user_language
Revises: 0019_row_change_log
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024_user_language"
down_revision = "0019_row_change_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would rename onto a table the row-change triggers name.
    op.drop_column("users", "language")
