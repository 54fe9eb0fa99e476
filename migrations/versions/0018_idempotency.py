"""Idempotency keys of API writes: a retried write is answered as the first time and writes nothing more.

New table only; nothing existing changes. Each row is a key an account sent with an API write, the method
and path, a keyed digest of the request and the answer it got (docs/security.md, "Idempotent API writes").

Revision ID: 0018_idempotency
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0018_idempotency"
down_revision = "0016_adverse_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_line", sa.Text(), nullable=False),
        sa.Column("request_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", cellchain.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("content_disposition", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_api_idempotency_keys_user_key"),
    )
    op.create_index("ix_api_idempotency_keys_created_at", "api_idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_api_idempotency_keys_created_at", table_name="api_idempotency_keys")
    op.drop_table("api_idempotency_keys")
