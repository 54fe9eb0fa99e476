"""The instruments a vial's thaw used (cellchain/equipment, ``ThawInstrumentUse``): a water bath or dry thawing
device scanned at the thaw, as a batch step's instruments are (docs/rules.md, "Equipment").

A new table only, so no existing table is rebuilt; it gets its row-change triggers (audit/row_changes.py).
Thaws recorded before this revision keep no instruments.

Revision ID: 0031_thaw_instruments
Revises: 0030_print_records_regulated
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cellchain.core.types
from cellchain.audit import row_changes

revision = "0031_thaw_instruments"
down_revision = "0030_print_records_regulated"
branch_labels = None
depends_on = None

TABLE = "thaw_instrument_uses"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vial_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("used_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vial_id"], ["vials.id"]),
        sa.ForeignKeyConstraint(["instrument_id"], ["instruments.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vial_id", "instrument_id", name="uq_thaw_instrument_uses_vial"),
    )
    op.create_index("ix_thaw_instrument_uses_instrument", TABLE, ["instrument_id"], unique=False)
    for statement in row_changes.table_sql(op.get_bind().dialect.name, TABLE):
        op.execute(statement)


def downgrade() -> None:
    for statement in row_changes.drop_table_sql(op.get_bind().dialect.name, TABLE):
        op.execute(statement)
    op.drop_index("ix_thaw_instrument_uses_instrument", table_name=TABLE)
    op.drop_table(TABLE)
