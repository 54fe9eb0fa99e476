"""Page forms' one-time submission ids: a form sent twice is recorded once.

Each row is the id a rendered page form carried, who sent it, to which form, when, and the page its first
post led to; the unique id is what refuses the second write (docs/rules.md, "Page forms").

Revision ID: 0011_form_submissions
Revises: 0010_partial_infusion
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0011_form_submissions"
down_revision = "0010_partial_infusion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("submitted_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result_location", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_form_submissions_user_id", "form_submissions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_form_submissions_user_id", table_name="form_submissions")
    op.drop_table("form_submissions")
