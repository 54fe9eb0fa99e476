"""The audit trail and electronic signatures: append-only tables (triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.models.types import UTCDateTime


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


class AuditHead(SQLModel, table=True):
    """One row: the newest entry's number and hash. Locking it serialises writers of the chain."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)


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
