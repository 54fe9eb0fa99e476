"""Storage units, their racks or shelves, boxes of rows x columns, placements, and each unit's temperature readings.

A position holds one container and a container is in one position: both are held by the database, by two
partial unique indexes over the current placements (``taken_at IS NULL``), so two lab technicians putting
at the same moment cannot both win (docs/rules.md, "Storage").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow

CURRENT = text("taken_at IS NULL")


class StorageUnit(SQLModel, table=True):
    """An LN2 tank (vapour phase), a -80 C freezer, a 2-8 C refrigerator or a room, with its allowed range."""

    __tablename__ = "storage_units"
    __table_args__ = (CheckConstraint("low_c < high_c", name="ck_storage_units_range"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20)  # ln2_vapour | freezer_minus80 | refrigerator | room
    low_c: float
    high_c: float
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class StorageLocation(SQLModel, table=True):
    """A rack (in a tank or freezer) or a shelf (in a refrigerator or room) of one unit."""

    __tablename__ = "storage_locations"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="storage_units.id", index=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=10)  # rack | shelf
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class StorageBox(SQLModel, table=True):
    """A box of ``rows`` x ``columns`` positions (rows lettered A.., columns numbered 1..) on a rack or shelf."""

    __tablename__ = "storage_boxes"
    __table_args__ = (CheckConstraint("rows BETWEEN 1 AND 26 AND columns BETWEEN 1 AND 26",
                                      name="ck_storage_boxes_size"),)

    id: int | None = Field(default=None, primary_key=True)
    location_id: int = Field(foreign_key="storage_locations.id", index=True)
    code: str = Field(max_length=24, unique=True)
    name: str = Field(max_length=120)
    rows: int
    columns: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Placement(SQLModel, table=True):
    """A container in one position from ``placed_at`` until ``taken_at`` (NULL while it is still there).

    Containers are (item_type, item_id) as custody events name them. The put and take custody events are kept,
    so the placement history is the storage part of the chain of custody.
    """

    __tablename__ = "placements"
    __table_args__ = (
        Index("uq_placements_position_current", "box_id", "row", "column", unique=True,
              sqlite_where=CURRENT, postgresql_where=CURRENT),
        Index("uq_placements_item_current", "item_type", "item_id", unique=True,
              sqlite_where=CURRENT, postgresql_where=CURRENT),
        Index("ix_placements_item", "item_type", "item_id", "placed_at"),
        Index("ix_placements_box", "box_id", "taken_at"),
        CheckConstraint("taken_at IS NULL OR taken_at >= placed_at", name="ck_placements_interval"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)
    item_id: int
    box_id: int = Field(foreign_key="storage_boxes.id")
    row: int
    column: int
    placed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    placed_by: int = Field(foreign_key="users.id")
    put_event_id: int = Field(foreign_key="custody_events.id")
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    taken_by: int | None = Field(default=None, foreign_key="users.id")
    take_event_id: int | None = Field(default=None, foreign_key="custody_events.id")


class TemperatureReading(SQLModel, table=True):
    """One temperature of a unit, entered or imported from its logger; outside the unit's range it is an
    excursion for every item in the unit at that time."""

    __tablename__ = "storage_readings"
    __table_args__ = (Index("uq_storage_readings_unit_time", "unit_id", "measured_at", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="storage_units.id")
    measured_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    temperature_c: float
    low_c: float
    high_c: float
    excursion: bool = Field(default=False)
    source: str = Field(max_length=120)  # "entered" or "logger file <name>"
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
