"""Release that fits a fresh product: sample stage and time on every QC result, results recorded after
release, holds on released lots, the in-app inbox, and users' e-mail addresses.

Existing results are carried forward as final-product samples taken when they were tested (or, with
no test time, when they were recorded), none of them after release (a released lot took no result
before this revision). qc_results is append-only: its triggers are dropped for the backfill and made
again at the end.

Revision ID: 0007_release_stages
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.audit import append_only

revision = "0007_release_stages"
down_revision = "0006_cell_banks"
branch_labels = None
depends_on = None

_FIRST_PER_TEST = "uq_qc_results_first_per_test"


def _qc_results_columns() -> None:
    dialect = op.get_bind().dialect.name
    for statement in append_only.drop_sql(dialect, "qc_results"):
        op.execute(statement)
    # The partial unique index is made again by hand: a batch copy on SQLite must not lose its WHERE.
    op.drop_index(_FIRST_PER_TEST, table_name="qc_results")
    with op.batch_alter_table("qc_results") as batch:
        batch.add_column(sa.Column("sample_stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch.add_column(sa.Column("sampled_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("after_release", sa.Boolean(), nullable=True))
    results = sa.table("qc_results", sa.column("sample_stage"), sa.column("sampled_at"), sa.column("after_release"),
                       sa.column("tested_at"), sa.column("recorded_at"))
    op.execute(results.update().values(sample_stage="final_product",
                                       sampled_at=sa.func.coalesce(results.c.tested_at, results.c.recorded_at),
                                       after_release=sa.false()))
    with op.batch_alter_table("qc_results") as batch:
        batch.alter_column("sample_stage", existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False)
        batch.alter_column("sampled_at", existing_type=cellchain.core.types.UTCDateTime(timezone=True),
                           nullable=False)
        batch.alter_column("after_release", existing_type=sa.Boolean(), nullable=False)
    op.create_index(_FIRST_PER_TEST, "qc_results", ["lot_id", "test_code"], unique=True,
                    sqlite_where=sa.text("repeat_of_id IS NULL"), postgresql_where=sa.text("repeat_of_id IS NULL"))
    for statement in append_only.create_sql(dialect, "qc_results"):
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    _qc_results_columns()
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("qc_result_id", sa.Integer(), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("raised_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=False),
        sa.Column("lifted_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.Column("lift_signature_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"]),
        sa.ForeignKeyConstraint(["qc_result_id"], ["qc_results.id"]),
        sa.ForeignKeyConstraint(["raised_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["lifted_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["lift_signature_id"], ["signatures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_holds_lot_id", "holds", ["lot_id"], unique=False)
    op.create_index("uq_holds_open_per_lot", "holds", ["lot_id"], unique=True,
                    sqlite_where=sa.text("lifted_at IS NULL"), postgresql_where=sa.text("lifted_at IS NULL"))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifications_recipient_read", "notifications", ["recipient_id", "read_at"], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_notifications_recipient_read", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("uq_holds_open_per_lot", table_name="holds")
    op.drop_index("ix_holds_lot_id", table_name="holds")
    op.drop_table("holds")
    for statement in append_only.drop_sql(dialect, "qc_results"):
        op.execute(statement)
    op.drop_index(_FIRST_PER_TEST, table_name="qc_results")
    with op.batch_alter_table("qc_results") as batch:
        batch.drop_column("after_release")
        batch.drop_column("sampled_at")
        batch.drop_column("sample_stage")
    op.create_index(_FIRST_PER_TEST, "qc_results", ["lot_id", "test_code"], unique=True,
                    sqlite_where=sa.text("repeat_of_id IS NULL"), postgresql_where=sa.text("repeat_of_id IS NULL"))
    for statement in append_only.create_sql(dialect, "qc_results"):
        op.execute(statement)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")

