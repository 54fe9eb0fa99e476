"""The instrument registry: each instrument, its service history, and which batch step used it.

A storage unit is one of the registry's instruments (``storage_unit_id``), the same record storage keeps its
racks and readings under: it is registered with the unit and a step names it by the unit's code. Due dates
are site dates; each record also keeps the instant its cover ends (the end of that day, site time), so the
check at a step compares instants and needs no zone (docs/rules.md, "Equipment").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


class Instrument(SQLModel, table=True):
    """One instrument as the registry knows it now (its history is ``InstrumentEvent``)."""

    __tablename__ = "instruments"
    __table_args__ = (
        CheckConstraint("status IN ('in_service', 'out_of_service')", name="ck_instruments_status"),
        CheckConstraint("kind IN ('biosafety_cabinet', 'incubator', 'centrifuge', 'cell_counter', "
                        "'controlled_rate_freezer', 'storage_unit', 'other')", name="ck_instruments_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=30)
    place: str = Field(max_length=120)
    status: str = Field(default="in_service", max_length=20)
    status_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    calibration_due: date | None = None
    calibration_valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    maintenance_due: date | None = None
    maintenance_valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    storage_unit_id: int | None = Field(default=None, foreign_key="storage_units.id", unique=True)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class InstrumentEvent(SQLModel, table=True):
    """One entry of an instrument's service history: its registration, a calibration or maintenance done,
    taken out of or returned to service (the return signed by QA)."""

    __tablename__ = "instrument_events"
    __table_args__ = (
        CheckConstraint("kind IN ('register', 'calibration', 'maintenance', 'out_of_service', "
                        "'return_to_service')", name="ck_instrument_events_kind"),
        Index("ix_instrument_events_instrument", "instrument_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instruments.id")
    kind: str = Field(max_length=20)
    done_on: date | None = None
    valid_from: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    next_due: date | None = None
    valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    service: str | None = Field(default=None, max_length=20)  # a registration's due dates: which service
    out_of_tolerance: bool = Field(default=False)
    done_by: str | None = Field(default=None, max_length=120)
    certificate_ref: str | None = Field(default=None, max_length=120)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    effective_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class InstrumentUse(SQLModel, table=True):
    """An instrument used at a batch step (scanned when the step was recorded)."""

    __tablename__ = "instrument_uses"
    __table_args__ = (UniqueConstraint("step_id", "instrument_id", name="uq_instrument_uses_step"),
                      Index("ix_instrument_uses_instrument", "instrument_id"))

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="batch_steps.id")
    instrument_id: int = Field(foreign_key="instruments.id")
    used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: int = Field(foreign_key="users.id")


class ThawInstrumentUse(SQLModel, table=True):
    """An instrument used to thaw a bank vial (a water bath or dry thawing device, scanned at the thaw): a thaw is
    the vial's record, not a batch step of a lot, so its instruments are kept by the vial."""

    __tablename__ = "thaw_instrument_uses"
    __table_args__ = (UniqueConstraint("vial_id", "instrument_id", name="uq_thaw_instrument_uses_vial"),
                      Index("ix_thaw_instrument_uses_instrument", "instrument_id"))

    id: int | None = Field(default=None, primary_key=True)
    vial_id: int = Field(foreign_key="vials.id")
    instrument_id: int = Field(foreign_key="instruments.id")
    used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: int = Field(foreign_key="users.id")
