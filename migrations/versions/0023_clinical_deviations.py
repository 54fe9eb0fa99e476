"""The register of clinical protocol deviations (a subject's missed or out-of-window visit, a dose outside
tolerance, a wrong product, a partial infusion), apart from the lots' manufacturing deviations.

A new table only; a visit marked missed is stored in the visits' existing ``status`` column (its reason is in
the audit trail and the deviation), so nothing existing changes.

Revision ID: 0023_clinical_deviations
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0023_clinical_deviations"
down_revision = "0021_donor_results"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "clinical_deviations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("infusion_id", sa.Integer(), nullable=True),
        sa.Column("bag_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        _utc("opened_at", False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        _utc("decided_at", True),
        sa.Column("decision_signature_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        _utc("closed_at", True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('missed_visit', 'out_of_window', 'dose_outside_tolerance', 'wrong_product', "
                           "'partial_infusion', 'other')", name="ck_clinical_deviations_kind"),
        sa.CheckConstraint("status IN ('open', 'approved', 'rejected', 'closed')",
                           name="ck_clinical_deviations_status"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"]),
        sa.ForeignKeyConstraint(["infusion_id"], ["infusions.id"]),
        sa.ForeignKeyConstraint(["bag_id"], ["bags.id"]),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decision_signature_id"], ["signatures.id"]),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clinical_deviations_subject_id", "clinical_deviations", ["subject_id"], unique=False)
    op.create_index("ix_clinical_deviations_status", "clinical_deviations", ["status", "id"], unique=False)
    op.create_index("ix_clinical_deviations_visit", "clinical_deviations", ["visit_id", "kind", "status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_clinical_deviations_visit", table_name="clinical_deviations")
    op.drop_index("ix_clinical_deviations_status", table_name="clinical_deviations")
    op.drop_index("ix_clinical_deviations_subject_id", table_name="clinical_deviations")
    op.drop_table("clinical_deviations")
