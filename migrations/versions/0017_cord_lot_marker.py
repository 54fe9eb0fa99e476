"""Lists that stop growing with the site's history.

A cord says when its first lot started (``collections.lot_started_at``), so the lab's home reads only the
cords still waiting for a lot from a partial index instead of every cord ever received. A trigger on ``lots``
marks the cord as each lot is inserted; the cords that already have a lot are marked here from their
earliest lot.

The bags are tallied per custody state and quality status (``bag_tallies``), kept by triggers on ``bags`` and
counted here once for the bags already made; with an index on the expiry, bag accountability's totals and the
expired-stock alert count the bags not yet expired and take the rest from the tally. The QC work list finds
the lots released lately by status and decision time.

On SQLite a later migration that rebuilds ``lots`` or ``bags`` in batch mode drops their triggers with the old
table: it must create them again (``lot_marker_sql``, ``bag_tally_sql``).

Revision ID: 0017_cord_lot_marker
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
from cellchain.manufacturing import models as manufacturing

revision = "0017_cord_lot_marker"
down_revision = "0018_idempotency"
branch_labels = None
depends_on = None

AWAITING = "lot_started_at IS NULL"


def upgrade() -> None:
    # A nullable column needs no table rebuild on SQLite (ALTER TABLE ADD COLUMN).
    op.add_column("collections", sa.Column("lot_started_at", cellchain.core.types.UTCDateTime(timezone=True),
                                           nullable=True))
    op.execute("UPDATE collections SET lot_started_at = (SELECT MIN(lots.created_at) FROM lots "
               "WHERE lots.collection_id = collections.id) "
               "WHERE EXISTS (SELECT 1 FROM lots WHERE lots.collection_id = collections.id)")
    for statement in manufacturing.lot_marker_sql(op.get_bind().dialect.name):
        op.execute(statement)
    op.create_index("ix_collections_awaiting_lot", "collections", ["collected_at"],
                    sqlite_where=sa.text(AWAITING), postgresql_where=sa.text(AWAITING))
    op.create_table("bag_tallies",
                    sa.Column("custody_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
                    sa.Column("quality_status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
                    sa.Column("bags", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("custody_state", "quality_status"))
    op.execute("INSERT INTO bag_tallies (custody_state, quality_status, bags) "
               "SELECT COALESCE(custody_state, ''), quality_status, COUNT(*) FROM bags "
               "GROUP BY COALESCE(custody_state, ''), quality_status")
    for statement in manufacturing.bag_tally_sql(op.get_bind().dialect.name):
        op.execute(statement)
    op.create_index("ix_bags_expiry", "bags", ["expires_at", "custody_state", "quality_status"])
    op.create_index("ix_lots_status_decided", "lots", ["status", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_lots_status_decided", table_name="lots")
    op.drop_index("ix_bags_expiry", table_name="bags")
    for statement in manufacturing.drop_bag_tally_sql(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("bag_tallies")
    op.drop_index("ix_collections_awaiting_lot", table_name="collections")
    for statement in manufacturing.drop_lot_marker_sql(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("lot_started_at")
