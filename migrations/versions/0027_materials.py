"""Materials: the catalogue, the lots received (quarantine, released or rejected with an e-signature), their
certificates of analysis, each use at a batch step or a placebo fill; a hold may name a material lot.

New tables only. Bags filled before this revision keep their anticoagulant and saline lot numbers as the
text they were typed as, with no material lot behind them (docs/rules.md, "Materials": nothing is invented
for them); bags filled from now on carry the supplier's lot number of a released material lot, and the
material-use rows link the fill to that lot. The regulated tables get their row-change triggers here, and
the uses are append-only.

Revision ID: 0027_materials
Revises: 0028_equipment
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.audit import append_only, row_changes

revision = "0027_materials"
down_revision = "0028_equipment"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("name", 120), _text("supplier", 120), _text("catalogue_number", 40), _text("gtin", 14, True),
        _text("kind", 20), _text("storage", 80),
        sa.Column("human_animal_origin", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _utc("created_at", False),
        sa.CheckConstraint("kind IN ('medium', 'platelet_lysate', 'serum', 'enzyme', 'dmso', 'anticoagulant', "
                           "'saline', 'bag', 'other')", name="ck_materials_kind"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gtin"),
        sa.UniqueConstraint("supplier", "catalogue_number", name="uq_materials_catalogue"),
    )
    op.create_table(
        "material_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("code", 12), sa.Column("material_id", sa.Integer(), nullable=False), _text("supplier_lot", 20),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("quantity_received", sa.Float(), nullable=False),
        sa.Column("quantity_left", sa.Float(), nullable=False), _text("unit", 10),
        sa.Column("origin", sa.Text(), nullable=True), sa.Column("donor_testing", sa.Text(), nullable=True),
        _text("status", 12), sa.Column("received_by", sa.Integer(), nullable=False), _utc("received_at", False),
        sa.Column("decided_by", sa.Integer(), nullable=True), _utc("decided_at", True),
        sa.Column("decision_signature_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('quarantine', 'released', 'rejected')", name="ck_material_lots_status"),
        sa.CheckConstraint("quantity_received > 0 AND quantity_left >= 0", name="ck_material_lots_quantity"),
        sa.ForeignKeyConstraint(["material_id"], ["materials.id"]),
        sa.ForeignKeyConstraint(["received_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decision_signature_id"], ["signatures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("material_id", "supplier_lot", name="uq_material_lots_supplier_lot"),
    )
    op.create_index("ix_material_lots_material_id", "material_lots", ["material_id"], unique=False)
    op.create_index("ix_material_lots_status", "material_lots", ["status"], unique=False)
    op.create_index("ix_material_lots_supplier_lot", "material_lots", ["supplier_lot"], unique=False)
    op.create_table(
        "material_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_lot_id", sa.Integer(), nullable=False), _text("filename", 120), _text("sha256", 64),
        sa.Column("size", sa.Integer(), nullable=False), sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False), _utc("uploaded_at", False),
        sa.ForeignKeyConstraint(["material_lot_id"], ["material_lots.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_material_certificates_material_lot_id", "material_certificates", ["material_lot_id"],
                    unique=False)
    op.create_table(
        "material_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_lot_id", sa.Integer(), nullable=False), sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.Integer(), nullable=True), _text("din", 13, True), _text("role", 14),
        sa.Column("quantity", sa.Float(), nullable=False), _text("unit", 10), _text("status_at_use", 12),
        _utc("used_at", False), sa.Column("recorded_by", sa.Integer(), nullable=False), _utc("recorded_at", False),
        sa.CheckConstraint("role IN ('step', 'anticoagulant', 'saline')", name="ck_material_uses_role"),
        sa.CheckConstraint("quantity > 0", name="ck_material_uses_quantity"),
        sa.CheckConstraint("lot_id IS NOT NULL OR din IS NOT NULL", name="ck_material_uses_target"),
        sa.ForeignKeyConstraint(["material_lot_id"], ["material_lots.id"]),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"]),
        sa.ForeignKeyConstraint(["step_id"], ["batch_steps.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_material_uses_lot", "material_uses", ["lot_id"], unique=False)
    op.create_index("ix_material_uses_step", "material_uses", ["step_id"], unique=False)
    op.create_index("ix_material_uses_material_lot", "material_uses", ["material_lot_id"], unique=False)
    dialect = op.get_bind().dialect.name
    for table in ("materials", "material_lots", "material_uses"):
        for statement in row_changes.table_sql(dialect, table):
            op.execute(statement)
    for statement in append_only.create_sql(dialect, "material_uses"):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("materials", "material_lots", "material_uses"):
        for statement in row_changes.drop_table_sql(dialect, table):
            op.execute(statement)
    for statement in append_only.drop_sql(dialect, "material_uses"):
        op.execute(statement)
    for table in ("material_uses", "material_certificates", "material_lots", "materials"):
        op.drop_table(table)
