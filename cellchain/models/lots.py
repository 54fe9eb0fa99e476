"""Lots (the cells grown from one cord), their passages and their batch record.

Passages and batch-record steps are append-only: a correction is a new row pointing at the row it
corrects (``corrects_id``) with a reason.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.models.types import UTCDateTime, utcnow

LOT_STATUSES = ("in_process", "awaiting_release", "released", "rejected")


class Lot(SQLModel, table=True):
    __tablename__ = "lots"
    __table_args__ = (CheckConstraint(f"status IN {LOT_STATUSES!r}", name="ck_lots_status"),)

    id: int | None = Field(default=None, primary_key=True)
    lot_number: str = Field(max_length=20, unique=True, index=True)
    collection_id: int = Field(foreign_key="collections.id", unique=True)
    status: str = Field(default="in_process", max_length=20, index=True)
    spec_version: str = Field(max_length=20)  # the QC specification in force when the lot started
    # Cell counts pass 2^31 in a large lot: BIGINT on PostgreSQL (SQLite's INTEGER is 64-bit anyway).
    harvested_cells: int | None = Field(default=None, sa_type=BigInteger)
    harvested_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    formulated_cells_per_ml: float | None = None
    formulated_volume_ml: float | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decision_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Passage(SQLModel, table=True):
    __tablename__ = "passages"
    __table_args__ = (
        CheckConstraint("seeded_cells > 0 AND harvested_cells > 0", name="ck_passages_counts_positive"),
        CheckConstraint("viability_pct >= 0 AND viability_pct <= 100", name="ck_passages_viability"),
        Index("ix_passages_lot_number", "lot_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lots.id")
    number: int
    seeded_cells: int = Field(sa_type=BigInteger)
    harvested_cells: int = Field(sa_type=BigInteger)
    viability_pct: float
    seeded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    harvested_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    population_doublings: float
    cumulative_doublings: float
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    corrects_id: int | None = Field(default=None, foreign_key="passages.id")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class BatchStep(SQLModel, table=True):
    """One SOP step done for a lot (``step_key`` like ``fill`` or ``passage:2``), by whom, when."""

    __tablename__ = "batch_steps"
    __table_args__ = (Index("ix_batch_steps_lot_key", "lot_id", "step_key"),)

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lots.id")
    step_key: str = Field(max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    performed_by: int = Field(foreign_key="users.id")
    performed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    corrects_id: int | None = Field(default=None, foreign_key="batch_steps.id")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class BatchStepVerification(SQLModel, table=True):
    """A second person's e-signed check of a step (never the performer)."""

    __tablename__ = "batch_step_verifications"

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="batch_steps.id", unique=True)
    verified_by: int = Field(foreign_key="users.id")
    signature_id: int = Field(foreign_key="signatures.id")
    verified_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
