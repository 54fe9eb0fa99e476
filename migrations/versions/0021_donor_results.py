"""Maternal screening results as records of their own, the investigator's signed determination of a cord
registered with results pending, and the outbox of e-mails (a donor result's hold is a hold on the
collection, migration 0022).

Carried forward: every cord's screening becomes one result row per test, entered by whoever registered
the cord at its registration time (report day and laboratory unknown); a cord keeps its eligibility
(``eligible`` or ``ineligible``: none was pending before). A notice whose mail failed and was never sent
becomes a failed outbox mail due now, so ``flask send-mail`` sends it; the rest were mailed or never had
to be. Holds gain the donor result that caused them; their QC result becomes optional.

Revision ID: 0021_donor_results
Revises: 0016_adverse_events
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cellchain.core.types
import cellchain.manufacturing.models as manufacturing

revision = "0021_donor_results"
down_revision = "0022_item_holds"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, cellchain.core.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "donor_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        _text("test", 20),
        _text("result", 15),
        sa.Column("result_date", sa.Date(), nullable=True),
        _text("laboratory", 120),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=False),
        _utc("entered_at", False),
        sa.CheckConstraint("result IN ('negative', 'positive', 'indeterminate')", name="ck_donor_results_result"),
        sa.ForeignKeyConstraint(["collection_id"], ["collections.id"]),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_donor_results_collection_id", "donor_results", ["collection_id"], unique=False)
    # SQLite rebuilds `collections` for the foreign key, and a rename onto a table a trigger names fails:
    # the lot marker (migration 0017) is dropped around the rebuild and made again.
    dialect = op.get_bind().dialect.name
    for statement in manufacturing.drop_lot_marker_sql(dialect):
        op.execute(statement)
    with op.batch_alter_table("collections") as batch:
        batch.add_column(sa.Column("determination_signature_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_collections_determination_signature_id", "signatures",
                                 ["determination_signature_id"], ["id"])
    for statement in manufacturing.lot_marker_sql(dialect):
        op.execute(statement)
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        _text("to_address", 320),
        _text("subject", 200),
        sa.Column("body", sa.Text(), nullable=False),
        _text("status", 10),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _utc("next_attempt_at", False),
        _utc("created_at", False),
        _utc("sent_at", True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="ck_mail_outbox_status"),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mail_outbox_notification_id", "mail_outbox", ["notification_id"], unique=False)
    op.create_index("ix_mail_outbox_status_next", "mail_outbox", ["status", "next_attempt_at"], unique=False)
    _carry_forward()


def _carry_forward() -> None:
    bind = op.get_bind()
    results = sa.table("donor_results", sa.column("collection_id"), sa.column("test"), sa.column("result"),
                       sa.column("laboratory"), sa.column("late"), sa.column("entered_by"),
                       sa.column("entered_at", cellchain.core.types.UTCDateTime(timezone=True)))
    rows = []
    cords = bind.execute(sa.text("SELECT id, screening, created_by, created_at FROM collections ORDER BY id"))
    for cord_id, screening, created_by, created_at in cords:
        values = json.loads(screening) if isinstance(screening, str) else (screening or {})
        rows += [{"collection_id": cord_id, "test": test, "result": result, "laboratory": "", "late": False,
                  "entered_by": created_by, "entered_at": _utc_value(created_at)} for test, result in values.items()]
    if rows:
        bind.execute(results.insert(), rows)
    outbox = sa.table("mail_outbox", sa.column("notification_id"), sa.column("to_address"), sa.column("subject"),
                      sa.column("body"), sa.column("status"), sa.column("attempts"), sa.column("last_error"),
                      sa.column("next_attempt_at", cellchain.core.types.UTCDateTime(timezone=True)),
                      sa.column("created_at", cellchain.core.types.UTCDateTime(timezone=True)))
    unsent = bind.execute(sa.text(
        "SELECT n.id, u.email, n.subject, n.body, n.link, n.mail_error, n.created_at FROM notifications n "
        "JOIN users u ON u.id = n.recipient_id WHERE n.mailed_at IS NULL AND n.mail_error IS NOT NULL "
        "AND u.email IS NOT NULL ORDER BY n.id")).all()
    mails = [{"notification_id": notice_id, "to_address": email, "subject": subject,
              "body": f"{body}{f'{chr(10) * 2}Open it in cellchain at {link}' if link else ''}\n",
              "status": "failed", "attempts": 1, "last_error": error,
              "next_attempt_at": _utc_value(created), "created_at": _utc_value(created)}
             for notice_id, email, subject, body, link, error, created in unsent]
    if mails:
        bind.execute(outbox.insert(), mails)


def _utc_value(value: object) -> object:
    """SQLite hands a stored time back as text; the column type reads it again."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_status_next", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_notification_id", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    dialect = op.get_bind().dialect.name
    for statement in manufacturing.drop_lot_marker_sql(dialect):
        op.execute(statement)
    with op.batch_alter_table("collections") as batch:
        batch.drop_constraint("fk_collections_determination_signature_id", type_="foreignkey")
        batch.drop_column("determination_signature_id")
    for statement in manufacturing.lot_marker_sql(dialect):
        op.execute(statement)
    op.execute("UPDATE collections SET eligibility = 'ineligible' WHERE eligibility = 'pending'")
    op.drop_index("ix_donor_results_collection_id", table_name="donor_results")
    op.drop_table("donor_results")
