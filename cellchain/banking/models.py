"""Cell banks and their vials (tiered banking, ICH Q5D).

A bank is made from ONE lot (its cells cryopreserved at a chosen passage): a master cell bank (MCB)
from a lot started straight from the cord, a working cell bank (WCB) from a lot started from a thawed
MCB vial. Each vial is its own row, a labelled and scannable container with a chain of custody
(``ward/rules/custody_states.py``, item kind ``vial``). The bank's release is its lot's release.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow

BANK_LEVELS = ("MCB", "WCB")
VIAL_STATES = ("frozen", "thawed", "discarded")


class CellBank(SQLModel, table=True):
    __tablename__ = "cell_banks"
    __table_args__ = (
        CheckConstraint(f"level IN {BANK_LEVELS!r}", name="ck_cell_banks_level"),
        CheckConstraint("vial_count > 0 AND cells_per_vial > 0", name="ck_cell_banks_counts_positive"),
        CheckConstraint("passage >= 0 AND cumulative_doublings >= 0", name="ck_cell_banks_age"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_code: str = Field(max_length=24, unique=True, index=True)  # MCB-<DIN>, WCB-<DIN>-<nn>
    lot_id: int = Field(foreign_key="lots.id", unique=True)
    level: str = Field(max_length=3)
    din: str = Field(max_length=13, index=True)  # the cord of origin
    vial_count: int
    cells_per_vial: int = Field(sa_type=BigInteger)
    cryoprotectant: str = Field(max_length=60)
    frozen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    passage: int  # the passage the lot had reached when its cells were frozen
    cumulative_doublings: float  # from the cord, at freezing
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Vial(SQLModel, table=True):
    __tablename__ = "vials"
    __table_args__ = (
        UniqueConstraint("bank_id", "number", name="uq_vials_bank_number"),
        CheckConstraint(f"state IN {VIAL_STATES!r}", name="ck_vials_state"),
        CheckConstraint("post_thaw_viability_pct IS NULL OR (post_thaw_viability_pct >= 0 "
                        "AND post_thaw_viability_pct <= 100)", name="ck_vials_viability"),
        Index("ix_vials_bank_state", "bank_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="cell_banks.id")
    number: int
    vial_code: str = Field(max_length=32, unique=True, index=True)  # <bank code>-V<nnn>
    state: str = Field(default="frozen", max_length=10)
    custody_state: str | None = Field(default=None, max_length=20)  # None until "frozen"
    thawed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    thawed_by: int | None = Field(default=None, foreign_key="users.id")
    post_thaw_viability_pct: float | None = None
    started_lot_id: int | None = Field(default=None, foreign_key="lots.id", unique=True)
