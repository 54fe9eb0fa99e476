"""Holds on any item: a collection, a cell bank, a lot or a bag, placed by QA with a reason and an
e-signature, and recalls (a hold whose look-back was sent).

Existing holds were all on lots: each is carried forward as a hold of kind ``lot`` on its lot, with its
lot's cord. The one-open-hold-per-lot index becomes one open hold per item.

Revision ID: 0022_item_holds
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_item_holds"
down_revision = "0020_subject_lifecycle"
branch_labels = None
depends_on = None

_OPEN = sa.text("lifted_at IS NULL")


def upgrade() -> None:
    op.drop_index("uq_holds_open_per_lot", table_name="holds")
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("item_kind", sa.String(length=12), nullable=False, server_default="lot"))
        batch.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("collection_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recall", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("raise_signature_id", sa.Integer(), nullable=True))
        batch.alter_column("lot_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("qc_result_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key("fk_holds_collection_id", "collections", ["collection_id"], ["id"])
        batch.create_foreign_key("fk_holds_raise_signature_id", "signatures", ["raise_signature_id"], ["id"])
    op.execute("UPDATE holds SET item_kind = 'lot', item_id = lot_id, "
               "collection_id = (SELECT lots.collection_id FROM lots WHERE lots.id = holds.lot_id)")
    with op.batch_alter_table("holds") as batch:
        batch.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("uq_holds_open_per_item", "holds", ["item_kind", "item_id"], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_index("ix_holds_open_per_cord", "holds", ["collection_id"], sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    op.drop_index("ix_holds_open_per_cord", table_name="holds")
    op.drop_index("uq_holds_open_per_item", table_name="holds")
    op.execute("DELETE FROM holds WHERE item_kind <> 'lot'")
    with op.batch_alter_table("holds") as batch:
        batch.drop_constraint("fk_holds_raise_signature_id", type_="foreignkey")
        batch.drop_constraint("fk_holds_collection_id", type_="foreignkey")
        batch.drop_column("raise_signature_id")
        batch.drop_column("recall")
        batch.drop_column("collection_id")
        batch.drop_column("item_id")
        batch.drop_column("item_kind")
    op.create_index("uq_holds_open_per_lot", "holds", ["lot_id"], unique=True, sqlite_where=_OPEN,
                    postgresql_where=_OPEN)
