"""The label printer registry (``printers``) and the print jobs sent to them (``print_jobs``).

New tables only; nothing existing changes. A label applied by scan is recorded in ``label_prints``' existing
status columns, and the scan in its audit entry.

Revision ID: 0026_printers
Revises: 0024_user_language
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0026_printers"
down_revision = "0024_user_language"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "printers",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("name", 60),
        _text("place", 100),
        _text("kind", 3),
        _text("address", 200),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("label_sizes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _utc("created_at", False),
        sa.CheckConstraint("kind IN ('zpl', 'pdf')", name="ck_printers_kind"),
        sa.CheckConstraint("dpi IN (203, 300, 600)", name="ck_printers_dpi"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("printer_id", sa.Integer(), nullable=False),
        _text("label_kind", 20),
        _text("target", 20),
        _text("item_key", 40),
        sa.Column("label_ids", sa.JSON(), nullable=False),
        _text("fmt", 3),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        _text("status", 8),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _utc("created_at", False),
        _utc("sent_at", True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="ck_print_jobs_status"),
        sa.ForeignKeyConstraint(["printer_id"], ["printers.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_print_jobs_printer_id", "print_jobs", ["printer_id"], unique=False)
    op.create_index("ix_print_jobs_created", "print_jobs", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_print_jobs_created", table_name="print_jobs")
    op.drop_index("ix_print_jobs_printer_id", table_name="print_jobs")
    op.drop_table("print_jobs")
    op.drop_table("printers")
