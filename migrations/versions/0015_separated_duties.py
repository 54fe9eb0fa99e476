"""Role grants signed by a second administrator (separated duties for accounts).

A grant asked for by one administrator waits here, pending, until a different administrator approves it
with an e-signature; only then do the account's roles change. Accounts existing before this revision keep
their roles: the rules apply when roles next change.

Revision ID: 0015_separated_duties
Revises: 0014_keyed_audit
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0015_separated_duties"
down_revision = "0014_keyed_audit"
branch_labels = None
depends_on = None


def _when() -> sa.types.TypeEngine:
    return cellchain.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("previous_roles", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", _when(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _when(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["signature_id"], ["signatures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_role_grants_user_id", "role_grants", ["user_id"])
    op.create_index("ix_role_grants_status", "role_grants", ["status"])


def downgrade() -> None:
    op.drop_index("ix_role_grants_status", table_name="role_grants")
    op.drop_index("ix_role_grants_user_id", table_name="role_grants")
    op.drop_table("role_grants")
