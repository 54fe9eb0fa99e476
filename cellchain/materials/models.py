"""Materials behind every bag: the catalogue, the lots received, their certificates and each use at a step.

A received lot is in quarantine until QC or QA releases it with an e-signature, or rejects it
(``status``); ``quantity_left`` goes down with each use. A use names the lot it went into and the batch
step (or, for a placebo fill's saline, the placebo DIN), with the lot's status when it was used, so the
release check can say which material was not valid at the time (docs/rules.md, "Materials").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow

MATERIAL_KINDS = ("medium", "platelet_lysate", "serum", "enzyme", "dmso", "anticoagulant", "saline", "bag", "other")
MATERIAL_LOT_STATUSES = ("quarantine", "released", "rejected")
USE_ROLES = ("step", "anticoagulant", "saline")


class Material(SQLModel, table=True):
    """One catalogue entry: a supplier's product the lab uses (the GTIN its barcode carries, when it has one)."""

    __tablename__ = "materials"
    __table_args__ = (
        CheckConstraint(f"kind IN {MATERIAL_KINDS!r}", name="ck_materials_kind"),
        UniqueConstraint("supplier", "catalogue_number", name="uq_materials_catalogue"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    supplier: str = Field(max_length=120)
    catalogue_number: str = Field(max_length=40)
    gtin: str | None = Field(default=None, max_length=14, unique=True)
    kind: str = Field(max_length=20)
    storage: str = Field(max_length=80)  # "2-8 C", "-20 C", "15-25 C"
    human_animal_origin: bool = Field(default=False)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MaterialLot(SQLModel, table=True):
    """A lot of a material as received: the supplier's lot number as printed, its expiry and quantity."""

    __tablename__ = "material_lots"
    __table_args__ = (
        CheckConstraint(f"status IN {MATERIAL_LOT_STATUSES!r}", name="ck_material_lots_status"),
        CheckConstraint("quantity_received > 0 AND quantity_left >= 0", name="ck_material_lots_quantity"),
        UniqueConstraint("material_id", "supplier_lot", name="uq_material_lots_supplier_lot"),
        Index("ix_material_lots_supplier_lot", "supplier_lot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)  # ML-000001: this site's own label of the lot
    material_id: int = Field(foreign_key="materials.id", index=True)
    supplier_lot: str = Field(max_length=20)  # as printed: hyphens and all (GS1 AI 10 holds up to 20)
    expires_on: date
    quantity_received: float
    quantity_left: float
    unit: str = Field(max_length=10)
    # Human- or animal-origin material: where it comes from and the donors' testing (e.g. platelet lysate).
    origin: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    donor_testing: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="quarantine", max_length=12, index=True)
    received_by: int = Field(foreign_key="users.id")
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decision_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MaterialCertificate(SQLModel, table=True):
    """A certificate of analysis as uploaded (PDF), kept with the lot's record; its SHA-256 is audited."""

    __tablename__ = "material_certificates"

    id: int | None = Field(default=None, primary_key=True)
    material_lot_id: int = Field(foreign_key="material_lots.id", index=True)
    filename: str = Field(max_length=120)
    sha256: str = Field(max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: int = Field(foreign_key="users.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MaterialUse(SQLModel, table=True):
    """A quantity of a material lot used: at a batch step of a lot, or as the saline of a placebo fill."""

    __tablename__ = "material_uses"
    __table_args__ = (
        CheckConstraint(f"role IN {USE_ROLES!r}", name="ck_material_uses_role"),
        CheckConstraint("quantity > 0", name="ck_material_uses_quantity"),
        CheckConstraint("lot_id IS NOT NULL OR din IS NOT NULL", name="ck_material_uses_target"),
        Index("ix_material_uses_lot", "lot_id"),
        Index("ix_material_uses_step", "step_id"),
        Index("ix_material_uses_material_lot", "material_lot_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    material_lot_id: int = Field(foreign_key="material_lots.id")
    lot_id: int | None = Field(default=None, foreign_key="lots.id")
    step_id: int | None = Field(default=None, foreign_key="batch_steps.id")
    din: str | None = Field(default=None, max_length=13)  # a placebo fill's DIN (its saline)
    role: str = Field(default="step", max_length=14)
    quantity: float
    unit: str = Field(max_length=10)
    status_at_use: str = Field(max_length=12)  # the material lot's status when it was used
    used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
