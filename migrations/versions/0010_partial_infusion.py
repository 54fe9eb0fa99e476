"""Partial infusions carry their reason; failed logins are counted per account and address together.

Infusions completed before this revision keep no partial reason (NULL), as none was asked for. Failed
logins counted before it have no account: they are carried forward with an empty one, so they still
count toward the address-wide limit (and, like every failure, leave the window within
``LOGIN_THROTTLE_WINDOW_SECONDS``).

Revision ID: 0010_partial_infusion
Revises: 0008_bag_dosing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_partial_infusion"
down_revision = "0008_bag_dosing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("infusions") as batch:
        batch.add_column(sa.Column("partial_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("login_attempts") as batch:
        # The server default backfills the rows already counted, then goes: the application names the account.
        batch.add_column(sa.Column("account", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("login_attempts") as batch:
        batch.alter_column("account", server_default=None)
        batch.create_index("ix_login_attempts_address_account_at", ["address", "account", "attempted_at"])


def downgrade() -> None:
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_index("ix_login_attempts_address_account_at")
        batch.drop_column("account")
    with op.batch_alter_table("infusions") as batch:
        batch.drop_column("partial_reason")
