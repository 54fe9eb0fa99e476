"""Cord collections and the DIN sequence they draw from.

No ``from __future__ import annotations`` in model modules (SQLModel resolves annotations eagerly).

Lots (the cells grown from one cord), their passages and their batch record.

Passages and batch-record steps are append-only: a correction is a new row pointing at the row it
corrects (``corrects_id``) with a reason.

Final containers: UC-MSC bags from a lot, placebo bags of saline; and every label printed.

A bag's identity is DIN + product code + division (``bag_code``: ``A999926000001-D0001VA0``), the
minimum traceable identity ISBT 128 requires on every product.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


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


LOT_STATUSES = ("in_process", "awaiting_release", "released", "rejected")
LOT_PURPOSES = ("bank", "dosing")
"""``bank``: the lot's cells are cryopreserved into one cell bank; ``dosing``: they are filled into bags."""


class Lot(SQLModel, table=True):
    """The unit of expansion, QC and release. Started from a cord (lot number = the cord's DIN) or from a
    thawed bank vial (``<DIN>-L<nn>``, ``source_vial_id`` set); ``collection_id`` and ``din`` always name
    the cord of origin, so every container made from it carries that DIN (docs/identifiers.md)."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint(f"status IN {LOT_STATUSES!r}", name="ck_lots_status"),
        CheckConstraint(f"purpose IN {LOT_PURPOSES!r}", name="ck_lots_purpose"),
        CheckConstraint("first_passage >= 0 AND starting_doublings >= 0", name="ck_lots_continuation"),
        UniqueConstraint("source_vial_id", name="uq_lots_source_vial_id"),  # a vial starts one lot
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_number: str = Field(max_length=20, unique=True, index=True)
    collection_id: int = Field(foreign_key="collections.id", index=True)
    din: str = Field(max_length=13, index=True)
    purpose: str = Field(default="dosing", max_length=10)
    # The vial this lot was thawed from; NULL: started straight from the cord. The vials table refers
    # back to lots (its bank's lot, the lot a thaw started), so this key is added after both tables exist.
    source_vial_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("vials.id", use_alter=True, name="fk_lots_source_vial_id"), nullable=True))
    # Passage numbers and population doublings continue from the bank a vial came from (ICH Q5D: cell age
    # is counted from the cord): the first passage this lot may record, and the doublings already done.
    first_passage: int = Field(default=0)
    starting_doublings: float = Field(default=0.0)
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

    @property
    def formulated_cells(self) -> float | None:
        """Cells formulated (concentration times volume); ``None`` until the formulation is recorded."""
        if self.formulated_cells_per_ml is None or self.formulated_volume_ml is None:
            return None
        return self.formulated_cells_per_ml * self.formulated_volume_ml


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


BAG_KINDS = ("ucmsc", "placebo")
QUALITY_STATUSES = ("quarantine", "released", "rejected")


PRESERVATIONS = ("fresh", "cryopreserved")


class Bag(SQLModel, table=True):
    __tablename__ = "bags"
    __table_args__ = (
        UniqueConstraint("din", "product_code", "division", name="uq_bags_identity"),
        CheckConstraint("volume_ml > 0", name="ck_bags_volume_positive"),
        CheckConstraint("total_cells IS NULL OR total_cells > 0", name="ck_bags_cells_positive"),
        CheckConstraint(f"kind IN {BAG_KINDS!r}", name="ck_bags_kind"),
        CheckConstraint(f"quality_status IN {QUALITY_STATUSES!r}", name="ck_bags_quality_status"),
        CheckConstraint(f"preservation IN {PRESERVATIONS!r}", name="ck_bags_preservation"),
        CheckConstraint("preservation = 'cryopreserved' OR (frozen_at IS NULL AND thawed_at IS NULL)",
                        name="ck_bags_only_frozen_thaw"),
        CheckConstraint("(for_subject_id IS NULL) = (for_visit_id IS NULL)", name="ck_bags_named_for_visit"),
        Index("ix_bags_lot", "lot_id"),
        Index("ix_bags_for_visit", "for_visit_id"),
        Index("ix_bags_custody_expiry", "custody_state", "expires_at"),  # accountability's totals (0012)
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
    # fresh: expires PRODUCT_SHELF_LIFE_HOURS after the fill; cryopreserved: FROZEN_SHELF_LIFE_DAYS after
    # freezing (frozen_expires_at), then, once thawed, THAWED_SHELF_LIFE_HOURS after the thaw, never later
    # than the frozen expiry; ``expires_at`` always holds the expiry that applies now (docs/rules.md,
    # "Frozen bags and the thaw").
    preservation: str = Field(default="fresh", max_length=14)
    frozen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    frozen_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    thawed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    thawed_by: int | None = Field(default=None, foreign_key="users.id")
    # A bag made for one subject's infusion visit (its volume gives that subject's dose): reserved for it.
    for_subject_id: int | None = Field(default=None, foreign_key="subjects.id")
    for_visit_id: int | None = Field(default=None, foreign_key="visits.id")
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


LABEL_STATUSES = ("printed", "applied", "voided", "destroyed")


class LabelPrint(SQLModel, table=True):
    """Every label printed, for reconciliation (FACT-JACIE): applied, voided or destroyed."""

    __tablename__ = "label_prints"
    __table_args__ = (
        Index("ix_label_prints_item", "item_type", "item_id"),
        Index("ix_label_prints_label", "label_kind", "item_key"),
        Index("ix_label_prints_status", "status", "printed_at", "id"),  # the outstanding labels, a page at a time
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
