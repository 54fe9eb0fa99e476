"""The subject's lifecycle: a stored state with its end (withdrawal or death, signed), cancelled visits, and
the bags a withdrawal sends back to QA.

Existing subjects are carried forward from their data: not eligible -> screen_failed; eligible, not randomized
-> eligible; randomized -> randomized; with an infusion -> on_treatment; their last infusion visit done ->
treatment_completed; their last follow-up visit done -> study_completed (docs/rules.md, "Trial: the
subject's lifecycle"). Nobody was withdrawn or died before this revision: the software kept no such record.

Revision ID: 0020_subject_lifecycle
Revises: 0016_adverse_events
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types

revision = "0020_subject_lifecycle"
down_revision = "0017_cord_lot_marker"
branch_labels = None
depends_on = None

STATES = ("screened", "screen_failed", "eligible", "randomized", "on_treatment", "treatment_completed",
          "study_completed", "withdrawn", "died")
OPEN = "status = 'awaiting_decision'"


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False, **kwargs) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable, **kwargs)


def _last_done(kind: str) -> str:
    """The subject's last visit of ``kind`` (highest week) is done."""
    return (f"EXISTS (SELECT 1 FROM visits v WHERE v.subject_id = subjects.id AND v.kind = '{kind}' "
            f"AND v.status = 'done' AND v.week = (SELECT MAX(w.week) FROM visits w "
            f"WHERE w.subject_id = subjects.id AND w.kind = '{kind}'))")


def upgrade() -> None:
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(_text("status", 20, server_default="screened"))
        batch.add_column(_utc("ended_at", True))
        batch.add_column(_text("end_reason", 30, True))
        batch.add_column(_text("end_note", 500, True))
        batch.add_column(sa.Column("ended_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("end_signature_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_subjects_ended_by_users", "users", ["ended_by"], ["id"])
        batch.create_foreign_key("fk_subjects_end_signature_id_signatures", "signatures", ["end_signature_id"],
                                 ["id"])
    op.execute("UPDATE subjects SET status = CASE WHEN eligible THEN 'eligible' ELSE 'screen_failed' END")
    op.execute("UPDATE subjects SET status = 'randomized' WHERE arm IS NOT NULL")
    op.execute("UPDATE subjects SET status = 'on_treatment' "
               "WHERE id IN (SELECT subject_id FROM infusions)")
    op.execute(f"UPDATE subjects SET status = 'treatment_completed' WHERE status = 'on_treatment' "
               f"AND {_last_done('infusion')}")
    op.execute(f"UPDATE subjects SET status = 'study_completed' "
               f"WHERE status IN ('on_treatment', 'treatment_completed') AND {_last_done('follow_up')}")
    with op.batch_alter_table("subjects") as batch:
        batch.alter_column("status", server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                           existing_nullable=False)
        batch.create_check_constraint("ck_subjects_status", f"status IN ({', '.join(repr(s) for s in STATES)})")
    op.create_table(
        "bag_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bag_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        _text("reason", 500),
        sa.Column("custody_event_id", sa.Integer(), nullable=True),
        _text("status", 20),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        _utc("opened_at", False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        _utc("decided_at", True),
        _text("decision_reason", 500, True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('awaiting_decision', 'restocked', 'discarded')", name="ck_bag_returns_status"),
        sa.ForeignKeyConstraint(["bag_id"], ["bags.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"]),
        sa.ForeignKeyConstraint(["custody_event_id"], ["custody_events.id"]),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["signature_id"], ["signatures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bag_returns_bag_id", "bag_returns", ["bag_id"])
    op.create_index("uq_bag_returns_open_bag", "bag_returns", ["bag_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("uq_bag_returns_open_bag", table_name="bag_returns")
    op.drop_index("ix_bag_returns_bag_id", table_name="bag_returns")
    op.drop_table("bag_returns")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_constraint("ck_subjects_status", type_="check")
        batch.drop_constraint("fk_subjects_end_signature_id_signatures", type_="foreignkey")
        batch.drop_constraint("fk_subjects_ended_by_users", type_="foreignkey")
        for name in ("end_signature_id", "ended_by", "end_note", "end_reason", "ended_at", "status"):
            batch.drop_column(name)
