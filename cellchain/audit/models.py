"""The audit trail and electronic signatures: append-only tables (triggers refuse UPDATE and DELETE).

The database keeps the audit chain's head itself (migration 0003).

A trigger on ``audit_entries`` refuses an entry that does not extend the recorded head (the next
number, linked to the head's hash) and moves the head in the same statement. So an entry written by
hand, or by a bug, cannot fork or skip the chain, and the application's append is one INSERT after
reading the locked head, not an INSERT and an UPDATE (the bedside check writes one entry per scan,
while a nurse waits). A BEFORE trigger on both databases: it runs per row, at once, also within a multi-row insert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_record", "record_type", "record_id"),)

    # The sequence number is the primary key: two writers can never fork the chain at one place.
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    recorded_at: str = Field(max_length=32, index=True)  # canonical UTC text, hashed as stored
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    actor: str = Field(max_length=64)
    record_type: str = Field(max_length=40)
    record_id: str = Field(max_length=64)
    action: str = Field(max_length=40)
    old_values: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_values: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # The keyed seal over ``hash`` and the id of the key that made it (audit/rules/seals.py, migration 0014).
    key_id: str | None = Field(default=None, max_length=16)
    seal: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the newest entry's number and hash. Locking it serialises writers of the chain."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)


class AuditTypeCount(SQLModel, table=True):
    """How many entries each record type has, kept by the database on every insert (``count_sql``,
    migration 0012): the auditor's dashboard reads these few rows instead of counting a million entries.
    Entries are never updated or deleted (append-only), so a count only grows."""

    __tablename__ = "audit_type_counts"

    record_type: str = Field(max_length=40, primary_key=True)
    entries: int = Field(default=0)


class Signature(SQLModel, table=True):
    """An e-signature (21 CFR 11.50, 11.70): who, when, what it means, bound to the hash of what was signed."""

    __tablename__ = "signatures"
    __table_args__ = (Index("ix_signatures_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    signer_username: str = Field(max_length=64)
    signer_name: str = Field(max_length=200)
    meaning: str = Field(max_length=32)
    signed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    record_type: str = Field(max_length=40)
    record_id: str = Field(max_length=64)
    record_hash: str = Field(max_length=64)


def create_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER audit_entries_extend_head BEFORE INSERT ON audit_entries BEGIN "
            "SELECT RAISE(ABORT, 'an audit entry must extend the chain head (next seq, previous hash)') "
            "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash); "
            "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION cellchain_audit_extend_head() RETURNS trigger AS $$ BEGIN "
            "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash "
            "WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash; "
            "IF NOT FOUND THEN RAISE EXCEPTION 'an audit entry must extend the chain head (next seq, previous hash)' "
            "USING ERRCODE = 'integrity_constraint_violation'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_entries_extend_head BEFORE INSERT ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_audit_extend_head()",
        ]
    raise NotImplementedError(f"the chain-head trigger for {dialect}")


def count_sql(dialect: str) -> list[str]:
    """The trigger that counts each new entry under its record type (``AuditTypeCount``)."""
    upsert = ("INSERT INTO audit_type_counts (record_type, entries) VALUES (NEW.record_type, 1) "
              "ON CONFLICT (record_type) DO UPDATE SET entries = audit_type_counts.entries + 1")
    if dialect == "sqlite":
        return [f"CREATE TRIGGER audit_entries_count_type AFTER INSERT ON audit_entries BEGIN {upsert}; END"]
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION cellchain_audit_count_type() RETURNS trigger AS $$ BEGIN {upsert}; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_entries_count_type AFTER INSERT ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_audit_count_type()",
        ]
    raise NotImplementedError(f"the entry-count trigger for {dialect}")


def drop_count_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_entries_count_type"]
    return ["DROP TRIGGER IF EXISTS audit_entries_count_type ON audit_entries",
            "DROP FUNCTION IF EXISTS cellchain_audit_count_type()"]


def drop_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_entries_extend_head"]
    return ["DROP TRIGGER IF EXISTS audit_entries_extend_head ON audit_entries",
            "DROP FUNCTION IF EXISTS cellchain_audit_extend_head()"]


class RowChange(SQLModel, table=True):
    """One row of a regulated table inserted, updated or deleted by anyone but the application, written by
    the database's own triggers (migration 0019, ``audit/row_changes.py``); append-only like the trail.

    The application's connections mark themselves, so its own writes (each one audited) are not logged
    here: the log holds only changes made beside the application, and the bedside check pays nothing
    for it."""

    __tablename__ = "row_changes"

    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=40)
    row_key: str | None = Field(default=None, max_length=64)  # none for a TRUNCATE (PostgreSQL)
    operation: str = Field(max_length=8)  # INSERT, UPDATE, DELETE or TRUNCATE
    changed_at: str = Field(max_length=32, index=True)  # UTC text, written by the database's clock
    db_user: str | None = Field(default=None, max_length=64)  # the database login (PostgreSQL)
    db_txn: str | None = Field(default=None, max_length=20)  # the database's transaction id (PostgreSQL)


class RowChangeReview(SQLModel, table=True):
    """QA's review of the outside changes up to one in the row-change log: who, when, what they found.
    Append-only; a change with a review is no longer shown as waiting (``audit/row_changes.py:review``)."""

    __tablename__ = "row_change_reviews"

    id: int | None = Field(default=None, primary_key=True)
    # each change is reviewed once: the review of a run of changes names each of them
    row_change_id: int = Field(foreign_key="row_changes.id", unique=True)
    reviewed_by: int = Field(foreign_key="users.id")
    reviewed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
