"""Custody events (append-only) and temperature excursions awaiting a QA decision.

The bedside: every verification attempt (append-only) and the infusion itself (one per bag).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


class CustodyEvent(SQLModel, table=True):
    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_item", "item_type", "item_id", "occurred_at"),
                      Index("ix_custody_events_event", "event", "item_type", "item_id"))  # bags returned (0012)

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)  # collection | lot | bag
    item_id: int
    event: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    location: str = Field(max_length=120)
    handed_over_by: str | None = Field(default=None, max_length=120)  # from whom / where
    received_by: str | None = Field(default=None, max_length=120)  # to whom
    temperature_c: float | None = None
    condition: str = Field(default="intact", max_length=120)
    excursion: bool = Field(default=False)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Excursion(SQLModel, table=True):
    """A temperature outside the item's range: it blocks use until QA decides (accept or discard).

    Found at a hand-over (``custody_event_id``, the event that recorded the temperature) or by a reading of
    the storage unit the item was in (``storage_reading_id``): exactly one of the two.
    """

    __tablename__ = "excursions"
    __table_args__ = (Index("ix_excursions_item", "item_type", "item_id"),
                      CheckConstraint("(custody_event_id IS NULL) <> (storage_reading_id IS NULL)",
                                      name="ck_excursions_one_source"))

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)
    item_id: int
    custody_event_id: int | None = Field(default=None, foreign_key="custody_events.id", unique=True)
    storage_reading_id: int | None = Field(default=None, foreign_key="storage_readings.id", index=True)
    temperature_c: float
    low_c: float
    high_c: float
    status: str = Field(default="open", max_length=10)  # open | accepted | rejected
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class BedsideCheck(SQLModel, table=True):
    """One attempt to match a bag to a wristband, with every check and its result, passed or not."""

    __tablename__ = "bedside_checks"

    id: int | None = Field(default=None, primary_key=True)
    wristband_scan: str = Field(max_length=200)
    bag_scan: str = Field(sa_column=Column(Text, nullable=False))
    subject_id: int | None = Field(default=None, foreign_key="subjects.id", index=True)
    bag_id: int | None = Field(default=None, foreign_key="bags.id", index=True)
    ok: bool
    checks: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(default="verify", max_length=10)  # verify | start
    checked_by: int = Field(foreign_key="users.id")
    checked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Infusion(SQLModel, table=True):
    __tablename__ = "infusions"
    __table_args__ = (CheckConstraint("volume_ml IS NULL OR volume_ml >= 0", name="ck_infusions_volume"),)

    id: int | None = Field(default=None, primary_key=True)
    bag_id: int = Field(foreign_key="bags.id", unique=True)  # a bag is infused at most once
    subject_id: int = Field(foreign_key="subjects.id", index=True)
    visit_id: int = Field(foreign_key="visits.id", unique=True)
    bedside_check_id: int = Field(foreign_key="bedside_checks.id")
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    started_by: int = Field(foreign_key="users.id")
    verifier_id: int = Field(foreign_key="users.id")
    verifier_signature_id: int = Field(foreign_key="signatures.id")
    status: str = Field(default="started", max_length=12)  # started | completed
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    volume_ml: float | None = None
    vital_signs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ultrasound_monitored: bool | None = None
    completed_by: int | None = Field(default=None, foreign_key="users.id")
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Why less than the bag's volume was given (docs/rules.md, "Partial infusions"); NULL for a whole bag.
    partial_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    @property
    def partial(self) -> bool:
        """Less than the bag's volume was given (the completion kept a reason for it)."""
        return self.partial_reason is not None
