"""The row-change log: ``row_changes`` (append-only) and the triggers on every regulated table that write
to it what was inserted, updated or deleted outside the application (audit/row_changes.py); QA's reviews of
those changes, ``row_change_reviews`` (append-only).

New table and triggers only; no row changes. A table added to ``audit/rules/regulated.py`` later gets its
triggers in a migration of its own.

Revision ID: 0019_row_change_log
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.audit import append_only, row_changes

revision = "0019_row_change_log"
down_revision = "0023_clinical_deviations"
branch_labels = None
depends_on = None


def _text(name: str, length: int, nullable: bool) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "row_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("table_name", 40, False),
        _text("row_key", 64, True),
        _text("operation", 8, False),
        _text("changed_at", 32, False),
        _text("db_user", 64, True),
        _text("db_txn", 20, True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_row_changes_changed_at", "row_changes", ["changed_at"], unique=False)
    op.create_table(
        "row_change_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_change_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["row_change_id"], ["row_changes.id"]),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("row_change_id"),
    )
    dialect = op.get_bind().dialect.name
    # The tables that exist now: a regulated table a later migration creates gets its triggers there (0028).
    existing = sa.inspect(op.get_bind()).get_table_names()
    for statement in row_changes.create_sql(dialect, existing) + append_only.create_sql(dialect, "row_change_reviews"):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in append_only.drop_sql(dialect, "row_change_reviews") + row_changes.drop_sql(dialect):
        op.execute(statement)
    op.drop_table("row_change_reviews")
    op.drop_index("ix_row_changes_changed_at", table_name="row_changes")
    op.drop_table("row_changes")
