"""Adverse events, the versions of their assessment, and serious-event reports to the sponsor.

New tables only; nothing existing changes. The versions and the reports are append-only (what was signed
and sent stays as it was: docs/rules.md, "Audit trail").

Revision ID: 0016_adverse_events
Revises: 0015_separated_duties
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.audit import append_only

revision = "0016_adverse_events"
down_revision = "0015_separated_duties"
branch_labels = None
depends_on = None

APPEND_ONLY = ("adverse_event_versions", "sae_reports")


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("infusion_id", sa.Integer(), nullable=True),
        _text("status", 10),
        _text("source", 10),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("term", 200),
        _text("category", 30),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("onset_on", sa.Date(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("seriousness", sa.JSON(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("special_interest", sa.Boolean(), nullable=False),
        _text("causality", 20, True),
        _text("expectedness", 20, True),
        _text("action_taken", 20, True),
        _text("outcome", 30, True),
        sa.Column("biopsy_proven", sa.Boolean(), nullable=True),
        sa.Column("rejection_treatment", sa.Text(), nullable=True),
        _utc("aware_at", False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        _utc("recorded_at", False),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        _utc("confirmed_at", True),
        sa.Column("confirm_signature_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 5", name="ck_adverse_events_grade"),
        sa.CheckConstraint("status IN ('draft', 'confirmed')", name="ck_adverse_events_status"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.ForeignKeyConstraint(["infusion_id"], ["infusions.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["confirmed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["confirm_signature_id"], ["signatures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_adverse_events_subject_id", "adverse_events", ["subject_id"], unique=False)
    op.create_index("ix_adverse_events_infusion_id", "adverse_events", ["infusion_id"], unique=False)
    op.create_index("ix_adverse_events_serious", "adverse_events", ["serious", "status"], unique=False)
    op.create_table(
        "adverse_event_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("status", 10),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=False),
        _utc("changed_at", False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["adverse_events.id"]),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "version", name="uq_adverse_event_versions"),
    )
    op.create_index("ix_adverse_event_versions_event_id", "adverse_event_versions", ["event_id"], unique=False)
    op.create_table(
        "sae_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_version", sa.Integer(), nullable=False),
        _text("kind", 10),
        _utc("due_at", False),
        _utc("sent_at", False),
        _text("sent_to", 200),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('initial', 'follow_up')", name="ck_sae_reports_kind"),
        sa.ForeignKeyConstraint(["event_id"], ["adverse_events.id"]),
        sa.ForeignKeyConstraint(["signature_id"], ["signatures.id"]),
        sa.ForeignKeyConstraint(["signed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sae_reports_event_id", "sae_reports", ["event_id"], unique=False)
    op.create_index("uq_sae_reports_initial", "sae_reports", ["event_id"], unique=True,
                    sqlite_where=sa.text("kind = 'initial'"), postgresql_where=sa.text("kind = 'initial'"))
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only.create_sql(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only.drop_sql(dialect, table):
            op.execute(statement)
    op.drop_index("uq_sae_reports_initial", table_name="sae_reports")
    op.drop_index("ix_sae_reports_event_id", table_name="sae_reports")
    op.drop_table("sae_reports")
    op.drop_index("ix_adverse_event_versions_event_id", table_name="adverse_event_versions")
    op.drop_table("adverse_event_versions")
    op.drop_index("ix_adverse_events_serious", table_name="adverse_events")
    op.drop_index("ix_adverse_events_infusion_id", table_name="adverse_events")
    op.drop_index("ix_adverse_events_subject_id", table_name="adverse_events")
    op.drop_table("adverse_events")
