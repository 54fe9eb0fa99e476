"""Cell banks (MCB, WCB) and their vials; lots get a purpose, the vial they were thawed from, their cord's
DIN and where their passages and population doublings continue from.

A cord may now start several lots (one straight from the cord, more from thawed bank vials), so the
unique constraint on ``lots.collection_id`` goes. Existing lots were all started from their cord for
dosing: they are carried forward with purpose ``dosing``, their cord's DIN, first passage P0 and no
earlier doublings.

Revision ID: 0006_cell_banks
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0006_cell_banks"
down_revision = "0005_storage"
branch_labels = None
depends_on = None

# SQLite keeps 0001's unique constraint on lots.collection_id unnamed; this convention names it on reflection
# so that batch mode can drop it (PostgreSQL named it lots_collection_id_key).
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        "cell_banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("din", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column("vial_count", sa.Integer(), nullable=False),
        sa.Column("cells_per_vial", sa.BigInteger(), nullable=False),
        sa.Column("cryoprotectant", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("frozen_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("passage", sa.Integer(), nullable=False),
        sa.Column("cumulative_doublings", sa.Float(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('MCB', 'WCB')", name="ck_cell_banks_level"),
        sa.CheckConstraint("passage >= 0 AND cumulative_doublings >= 0", name="ck_cell_banks_age"),
        sa.CheckConstraint("vial_count > 0 AND cells_per_vial > 0", name="ck_cell_banks_counts_positive"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lot_id"),
    )
    with op.batch_alter_table("cell_banks") as batch:
        batch.create_index("ix_cell_banks_bank_code", ["bank_code"], unique=True)
        batch.create_index("ix_cell_banks_din", ["din"], unique=False)

    op.create_table(
        "vials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("vial_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("custody_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("thawed_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("thawed_by", sa.Integer(), nullable=True),
        sa.Column("post_thaw_viability_pct", sa.Float(), nullable=True),
        sa.Column("started_lot_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('frozen', 'thawed', 'discarded')", name="ck_vials_state"),
        sa.CheckConstraint("post_thaw_viability_pct IS NULL OR (post_thaw_viability_pct >= 0 "
                           "AND post_thaw_viability_pct <= 100)", name="ck_vials_viability"),
        sa.ForeignKeyConstraint(["bank_id"], ["cell_banks.id"]),
        sa.ForeignKeyConstraint(["started_lot_id"], ["lots.id"]),
        sa.ForeignKeyConstraint(["thawed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_id", "number", name="uq_vials_bank_number"),
        sa.UniqueConstraint("started_lot_id"),
    )
    with op.batch_alter_table("vials") as batch:
        batch.create_index("ix_vials_bank_state", ["bank_id", "state"], unique=False)
        batch.create_index("ix_vials_vial_code", ["vial_code"], unique=True)

    with op.batch_alter_table("lots") as batch:
        batch.add_column(sa.Column("din", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True))
        batch.add_column(sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                   server_default="dosing"))
        batch.add_column(sa.Column("source_vial_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_passage", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("starting_doublings", sa.Float(), nullable=False, server_default="0"))
    op.execute("UPDATE lots SET din = (SELECT collections.din FROM collections WHERE collections.id = lots.collection_id)")
    bind = op.get_bind()
    unique_name = "lots_collection_id_key" if bind.dialect.name == "postgresql" else "uq_lots_collection_id"
    with op.batch_alter_table("lots", naming_convention=_NAMES) as batch:
        batch.drop_constraint(unique_name, type_="unique")
        batch.alter_column("din", existing_type=sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False)
        batch.alter_column("purpose", server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(length=10))
        batch.alter_column("first_passage", server_default=None, existing_type=sa.Integer())
        batch.alter_column("starting_doublings", server_default=None, existing_type=sa.Float())
        batch.create_index("ix_lots_collection_id", ["collection_id"], unique=False)
        batch.create_index("ix_lots_din", ["din"], unique=False)
        batch.create_unique_constraint("uq_lots_source_vial_id", ["source_vial_id"])
        batch.create_check_constraint("ck_lots_purpose", "purpose IN ('bank', 'dosing')")
        batch.create_check_constraint("ck_lots_continuation", "first_passage >= 0 AND starting_doublings >= 0")
        batch.create_foreign_key("fk_lots_source_vial_id", "vials", ["source_vial_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("lots", naming_convention=_NAMES) as batch:
        batch.drop_constraint("fk_lots_source_vial_id", type_="foreignkey")
        batch.drop_constraint("uq_lots_source_vial_id", type_="unique")
        batch.drop_constraint("ck_lots_continuation", type_="check")
        batch.drop_constraint("ck_lots_purpose", type_="check")
        batch.drop_index("ix_lots_din")
        batch.drop_index("ix_lots_collection_id")
        batch.drop_column("starting_doublings")
        batch.drop_column("first_passage")
        batch.drop_column("source_vial_id")
        batch.drop_column("purpose")
        batch.drop_column("din")
        batch.create_unique_constraint("uq_lots_collection_id", ["collection_id"])
    op.drop_table("vials")
    op.drop_table("cell_banks")
