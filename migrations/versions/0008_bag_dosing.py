"""Frozen bags and their thaw, bags made for a named subject's visit, and the weight recorded per visit.

Bags filled before this revision were all fresh: they are carried forward as ``fresh`` with no freezing
or thaw times and no named subject. Visits keep no weight (NULL) until the coordinator records one.

Revision ID: 0008_bag_dosing
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cellchain.core.types

revision = "0008_bag_dosing"
down_revision = "0007_release_stages"
branch_labels = None
depends_on = None


def _moment(name: str) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("bags") as batch:
        # Added with a server default so existing rows become "fresh", then the default is dropped:
        # the application always states the preservation of a bag it fills.
        batch.add_column(sa.Column("preservation", sa.String(length=14), nullable=False, server_default="fresh"))
        batch.add_column(_moment("frozen_at"))
        batch.add_column(_moment("frozen_expires_at"))
        batch.add_column(_moment("thawed_at"))
        batch.add_column(sa.Column("thawed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("for_subject_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("for_visit_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("bags") as batch:
        batch.alter_column("preservation", server_default=None)
        batch.create_foreign_key("fk_bags_thawed_by_users", "users", ["thawed_by"], ["id"])
        batch.create_foreign_key("fk_bags_for_subject_id_subjects", "subjects", ["for_subject_id"], ["id"])
        batch.create_foreign_key("fk_bags_for_visit_id_visits", "visits", ["for_visit_id"], ["id"])
        batch.create_check_constraint("ck_bags_preservation", "preservation IN ('fresh', 'cryopreserved')")
        batch.create_check_constraint("ck_bags_only_frozen_thaw",
                                      "preservation = 'cryopreserved' OR (frozen_at IS NULL AND thawed_at IS NULL)")
        batch.create_check_constraint("ck_bags_named_for_visit", "(for_subject_id IS NULL) = (for_visit_id IS NULL)")
        batch.create_index("ix_bags_for_visit", ["for_visit_id"])
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("weight_kg", sa.Float(), nullable=True))
        batch.add_column(_moment("weight_recorded_at"))
        batch.add_column(sa.Column("weight_recorded_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_visits_weight_recorded_by_users", "users", ["weight_recorded_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_constraint("fk_visits_weight_recorded_by_users", type_="foreignkey")
        for name in ("weight_recorded_by", "weight_recorded_at", "weight_kg"):
            batch.drop_column(name)
    with op.batch_alter_table("bags") as batch:
        batch.drop_index("ix_bags_for_visit")
        for name in ("ck_bags_named_for_visit", "ck_bags_only_frozen_thaw", "ck_bags_preservation"):
            batch.drop_constraint(name, type_="check")
        for name in ("fk_bags_for_visit_id_visits", "fk_bags_for_subject_id_subjects", "fk_bags_thawed_by_users"):
            batch.drop_constraint(name, type_="foreignkey")
        for name in ("for_visit_id", "for_subject_id", "thawed_by", "thawed_at", "frozen_expires_at", "frozen_at",
                     "preservation"):
            batch.drop_column(name)
