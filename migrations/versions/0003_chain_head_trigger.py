"""The database moves the audit chain's head, and refuses an entry that does not extend it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from cellchain.audit import models as chain_head

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in chain_head.create_sql(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in chain_head.drop_sql(op.get_bind().dialect.name):
        op.execute(statement)
