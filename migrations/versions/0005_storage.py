"""Storage: units, racks or shelves, boxes, placements (one container per position, one position per container,
held by partial unique indexes over the current placements) and each unit's temperature readings; an
excursion is found either at a hand-over (custody event) or by a storage reading, exactly one of the two.

Existing excursions all came from hand-overs: they keep their custody event and get no reading.

Revision ID: 0005_storage
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0005_storage"
down_revision = "0004"
branch_labels = None
depends_on = None

CURRENT = sa.text("taken_at IS NULL")


def _when() -> sa.types.TypeEngine:
    return cellchain.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "storage_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("low_c", sa.Float(), nullable=False),
        sa.Column("high_c", sa.Float(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("low_c < high_c", name="ck_storage_units_range"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "storage_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["storage_units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_storage_locations_unit_id", "storage_locations", ["unit_id"])
    op.create_table(
        "storage_boxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("rows BETWEEN 1 AND 26 AND columns BETWEEN 1 AND 26", name="ck_storage_boxes_size"),
        sa.ForeignKeyConstraint(["location_id"], ["storage_locations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_storage_boxes_location_id", "storage_boxes", ["location_id"])
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_type", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.Integer(), nullable=False),
        sa.Column("placed_at", _when(), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=False),
        sa.Column("put_event_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", _when(), nullable=True),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.Column("take_event_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("taken_at IS NULL OR taken_at >= placed_at", name="ck_placements_interval"),
        sa.ForeignKeyConstraint(["box_id"], ["storage_boxes.id"]),
        sa.ForeignKeyConstraint(["placed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["put_event_id"], ["custody_events.id"]),
        sa.ForeignKeyConstraint(["taken_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["take_event_id"], ["custody_events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_placements_position_current", "placements", ["box_id", "row", "column"], unique=True,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)
    op.create_index("uq_placements_item_current", "placements", ["item_type", "item_id"], unique=True,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)
    op.create_index("ix_placements_item", "placements", ["item_type", "item_id", "placed_at"])
    op.create_index("ix_placements_box", "placements", ["box_id", "taken_at"])
    op.create_table(
        "storage_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", _when(), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=False),
        sa.Column("low_c", sa.Float(), nullable=False),
        sa.Column("high_c", sa.Float(), nullable=False),
        sa.Column("excursion", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["storage_units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_storage_readings_unit_time", "storage_readings", ["unit_id", "measured_at"], unique=True)
    with op.batch_alter_table("excursions") as batch:
        batch.alter_column("custody_event_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("storage_reading_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_excursions_storage_reading_id_storage_readings", "storage_readings",
                                 ["storage_reading_id"], ["id"])
        batch.create_index("ix_excursions_storage_reading_id", ["storage_reading_id"])
        batch.create_check_constraint("ck_excursions_one_source",
                                      "(custody_event_id IS NULL) <> (storage_reading_id IS NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM excursions WHERE storage_reading_id IS NOT NULL")
    with op.batch_alter_table("excursions") as batch:
        batch.drop_constraint("ck_excursions_one_source", type_="check")
        batch.drop_index("ix_excursions_storage_reading_id")
        batch.drop_constraint("fk_excursions_storage_reading_id_storage_readings", type_="foreignkey")
        batch.drop_column("storage_reading_id")
        batch.alter_column("custody_event_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("storage_readings")
    op.drop_table("placements")
    op.drop_table("storage_boxes")
    op.drop_table("storage_locations")
    op.drop_table("storage_units")
