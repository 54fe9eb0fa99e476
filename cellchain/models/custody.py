"""Custody events (append-only) and temperature excursions awaiting a QA decision."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.models.types import UTCDateTime, utcnow


class CustodyEvent(SQLModel, table=True):
    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_item", "item_type", "item_id", "occurred_at"),)

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
    """A temperature outside the item's range: it blocks use until QA decides (accept or discard)."""

    __tablename__ = "excursions"
    __table_args__ = (Index("ix_excursions_item", "item_type", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)
    item_id: int
    custody_event_id: int = Field(foreign_key="custody_events.id", unique=True)
    temperature_c: float
    low_c: float
    high_c: float
    status: str = Field(default="open", max_length=10)  # open | accepted | rejected
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
