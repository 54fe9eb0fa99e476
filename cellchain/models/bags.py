"""Final containers: UC-MSC bags from a lot, placebo bags of saline; and every label printed.

A bag's identity is DIN + product code + division (``bag_code``: ``A999926000001-D0001VA0``), the
minimum traceable identity ISBT 128 requires on every product.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.models.types import UTCDateTime, utcnow

BAG_KINDS = ("ucmsc", "placebo")
QUALITY_STATUSES = ("quarantine", "released", "rejected")


class Bag(SQLModel, table=True):
    __tablename__ = "bags"
    __table_args__ = (
        UniqueConstraint("din", "product_code", "division", name="uq_bags_identity"),
        CheckConstraint("volume_ml > 0", name="ck_bags_volume_positive"),
        CheckConstraint("total_cells IS NULL OR total_cells > 0", name="ck_bags_cells_positive"),
        CheckConstraint(f"kind IN {BAG_KINDS!r}", name="ck_bags_kind"),
        CheckConstraint(f"quality_status IN {QUALITY_STATUSES!r}", name="ck_bags_quality_status"),
        Index("ix_bags_lot", "lot_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bag_code: str = Field(max_length=32, unique=True, index=True)
    din: str = Field(max_length=13, index=True)
    product_code: str = Field(max_length=5)
    collection_type: str = Field(default="V", max_length=1)
    division: str = Field(max_length=2)
    kind: str = Field(max_length=10)
    lot_id: int | None = Field(default=None, foreign_key="lots.id")
    saline_lot: str | None = Field(default=None, max_length=18)
    volume_ml: float
    total_cells: int | None = Field(default=None, sa_type=BigInteger)  # per bag
    anticoagulant: str | None = Field(default=None, max_length=20)  # heparin | ACD-A
    anticoagulant_lot: str | None = Field(default=None, max_length=18)
    anticoagulant_volume_ml: float | None = None
    filled_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    quality_status: str = Field(default="quarantine", max_length=12, index=True)
    custody_state: str | None = Field(default=None, max_length=20, index=True)  # None until "filled"
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


LABEL_STATUSES = ("printed", "applied", "voided", "destroyed")


class LabelPrint(SQLModel, table=True):
    """Every label printed, for reconciliation (FACT-JACIE): applied, voided or destroyed."""

    __tablename__ = "label_prints"
    __table_args__ = (
        Index("ix_label_prints_item", "item_type", "item_id"),
        Index("ix_label_prints_label", "label_kind", "item_key"),
        CheckConstraint(f"status IN {LABEL_STATUSES!r}", name="ck_label_prints_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=20)  # collection | lot | qc_sample | bag | subject | shipment
    item_id: int
    # Which label of the item: the bag id, DIN, subject id, "<lot>-P2-V03" for a culture vessel,
    # "<lot>-Q03" for a QC tube, the shipment id. A second print of the same kind and key is a reprint.
    item_key: str = Field(default="", max_length=40)
    label_kind: str = Field(max_length=20)  # the template in labels/
    reprint: bool = Field(default=False)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_hash: str = Field(max_length=64)  # SHA-256 of the label's data as printed
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="printed", max_length=12)
    status_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status_by: int | None = Field(default=None, foreign_key="users.id")
    status_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    printed_by: int = Field(foreign_key="users.id")
    printed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
