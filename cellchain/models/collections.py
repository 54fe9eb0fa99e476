"""Cord collections and the DIN sequence they draw from.

No ``from __future__ import annotations`` in model modules (SQLModel resolves annotations eagerly).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.models.types import UTCDateTime, utcnow


class DinSequence(SQLModel, table=True):
    """The last sequence number issued per facility and year; its row is locked while a DIN is issued."""

    __tablename__ = "din_sequences"
    __table_args__ = (UniqueConstraint("fin", "year", name="uq_din_sequences_fin_year"),)

    id: int | None = Field(default=None, primary_key=True)
    fin: str = Field(max_length=5)
    year: int
    last_sequence: int = Field(default=0)


class Collection(SQLModel, table=True):
    """One umbilical cord. Identified by its DIN; the donor (mother) only by a code, never a name."""

    __tablename__ = "collections"

    id: int | None = Field(default=None, primary_key=True)
    din: str = Field(max_length=13, unique=True, index=True)
    donor_code: str = Field(max_length=40, index=True)
    collected_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    site: str = Field(max_length=120)
    consent_obtained: bool
    screening: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    specimen_collected_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    medical_history_ok: bool = Field(default=True)
    eligibility: str = Field(max_length=12)  # eligible | ineligible
    eligibility_reasons: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    custody_state: str | None = Field(default=None, max_length=20)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
