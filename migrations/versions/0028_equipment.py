"""The instrument registry (cellchain/equipment): instruments, their service history and the instruments each
batch step used; every existing storage unit becomes an instrument of the registry (kind ``storage_unit``,
its code and name), the same record storage keeps.

New tables only, so no existing table is rebuilt; each gets its row-change triggers (audit/row_changes.py).

Revision ID: 0028_equipment
Revises: 0025_chain_of_identity
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.audit import row_changes

revision = "0028_equipment"
down_revision = "0025_chain_of_identity"
branch_labels = None
depends_on = None

TABLES = ("instruments", "instrument_events", "instrument_uses")


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("code", 16, False),
        _text("name", 120, False),
        _text("kind", 30, False),
        _text("place", 120, False),
        _text("status", 20, False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("calibration_due", sa.Date(), nullable=True),
        _utc("calibration_valid_until", True),
        sa.Column("maintenance_due", sa.Date(), nullable=True),
        _utc("maintenance_valid_until", True),
        sa.Column("storage_unit_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _utc("created_at", False),
        sa.CheckConstraint("status IN ('in_service', 'out_of_service')", name="ck_instruments_status"),
        sa.CheckConstraint("kind IN ('biosafety_cabinet', 'incubator', 'centrifuge', 'cell_counter', "
                           "'controlled_rate_freezer', 'storage_unit', 'other')", name="ck_instruments_kind"),
        sa.ForeignKeyConstraint(["storage_unit_id"], ["storage_units.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("storage_unit_id"),
    )
    op.create_table(
        "instrument_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        _text("kind", 20, False),
        sa.Column("done_on", sa.Date(), nullable=True),
        _utc("valid_from", True),
        sa.Column("next_due", sa.Date(), nullable=True),
        _utc("valid_until", True),
        _text("service", 20, True),
        sa.Column("out_of_tolerance", sa.Boolean(), nullable=False),
        _text("done_by", 120, True),
        _text("certificate_ref", 120, True),
        sa.Column("reason", sa.Text(), nullable=True),
        _utc("effective_at", False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        _utc("recorded_at", False),
        sa.CheckConstraint("kind IN ('register', 'calibration', 'maintenance', 'out_of_service', "
                           "'return_to_service')", name="ck_instrument_events_kind"),
        sa.ForeignKeyConstraint(["instrument_id"], ["instruments.id"]),
        sa.ForeignKeyConstraint(["signature_id"], ["signatures.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_instrument_events_instrument", "instrument_events", ["instrument_id", "id"], unique=False)
    op.create_table(
        "instrument_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        _utc("used_at", False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["step_id"], ["batch_steps.id"]),
        sa.ForeignKeyConstraint(["instrument_id"], ["instruments.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("step_id", "instrument_id", name="uq_instrument_uses_step"),
    )
    op.create_index("ix_instrument_uses_instrument", "instrument_uses", ["instrument_id"], unique=False)
    # Every storage unit is an instrument of the registry: no calibration or maintenance due until one is recorded.
    op.execute("INSERT INTO instruments (code, name, kind, place, status, storage_unit_id, created_by, created_at) "
               "SELECT code, name, 'storage_unit', name, 'in_service', id, created_by, created_at FROM storage_units")
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in row_changes.table_sql(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in row_changes.drop_table_sql(dialect, table):
            op.execute(statement)
    op.drop_index("ix_instrument_uses_instrument", table_name="instrument_uses")
    op.drop_table("instrument_uses")
    op.drop_index("ix_instrument_events_instrument", table_name="instrument_events")
    op.drop_table("instrument_events")
    op.drop_table("instruments")
