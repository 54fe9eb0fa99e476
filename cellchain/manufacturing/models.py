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

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
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
    __table_args__ = (
        Index("ix_collections_awaiting_lot", "collected_at", sqlite_where=text("lot_started_at IS NULL"),
              postgresql_where=text("lot_started_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    din: str = Field(max_length=13, unique=True, index=True)
    donor_code: str = Field(max_length=40, index=True)
    collected_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    site: str = Field(max_length=120)
    consent_obtained: bool
    screening: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    specimen_collected_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    medical_history_ok: bool = Field(default=True)
    eligibility: str = Field(max_length=12)  # pending | eligible | ineligible
    eligibility_reasons: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The investigator's signed determination of a cord registered with results pending (docs/rules.md,
    # "Manufacturing: donor results"); NULL for a cord decided at registration from complete results.
    determination_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    custody_state: str | None = Field(default=None, max_length=20)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # When the cord's first lot started; NULL while the cord waits for one (the lab's home lists those from a
    # partial index). The database keeps it: a trigger on every new lot (``lot_marker_sql``, migration 0017),
    # so no way of writing a lot can leave a cord listed as waiting. The application never writes it.
    lot_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


def lot_marker_sql(dialect: str) -> list[str]:
    """The trigger that marks a cord when its first lot is inserted (``Collection.lot_started_at``)."""
    mark = ("UPDATE collections SET lot_started_at = NEW.created_at "
            "WHERE id = NEW.collection_id AND lot_started_at IS NULL")
    if dialect == "sqlite":
        return [f"CREATE TRIGGER lots_mark_collection AFTER INSERT ON lots BEGIN {mark}; END"]
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION cellchain_lot_marks_collection() RETURNS trigger AS $$ BEGIN {mark}; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER lots_mark_collection AFTER INSERT ON lots "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_lot_marks_collection()",
        ]
    raise NotImplementedError(f"the lot-marker trigger for {dialect}")


def drop_lot_marker_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS lots_mark_collection"]
    return ["DROP TRIGGER IF EXISTS lots_mark_collection ON lots",
            "DROP FUNCTION IF EXISTS cellchain_lot_marks_collection()"]


DONOR_RESULT_VALUES = ("negative", "positive", "indeterminate")


class DonorResult(SQLModel, table=True):
    """One maternal screening result of a cord, entered when it arrives (21 CFR 1271.80, 1271.85).

    Append-only: a repeat or follow-up test is another row; the cord's ``screening`` holds the standing
    result of each test (the worst, ``rules.donor.merged``) for the readers (labels, batch record).
    """

    __tablename__ = "donor_results"
    __table_args__ = (
        CheckConstraint(f"result IN {DONOR_RESULT_VALUES!r}", name="ck_donor_results_result"),
    )

    id: int | None = Field(default=None, primary_key=True)
    collection_id: int = Field(foreign_key="collections.id", index=True)
    test: str = Field(max_length=20)
    result: str = Field(max_length=15)
    # When the laboratory reported it and which laboratory; both unknown for results given at registration
    # before this record existed (back-filled) or sent without them.
    result_date: date | None = Field(default=None)
    laboratory: str = Field(default="", max_length=120)
    late: bool = Field(default=False)  # entered after the cord was registered
    entered_by: int = Field(foreign_key="users.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


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
        # The lots released lately (the QC work list keeps them for the tests read after release), found without
        # reading every lot ever released (0017).
        Index("ix_lots_status_decided", "status", "decided_at"),
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
        # The bags not yet expired, with what the counts ask of them, read from the index alone: accountability's
        # totals and the expiry alerts count the unexpired bags and take the rest from ``BagTally`` (0017).
        Index("ix_bags_expiry", "expires_at", "custody_state", "quality_status"),
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


class BagTally(SQLModel, table=True):
    """How many bags stand in each custody state ('' before the fill) and quality status, kept by the database:
    triggers on ``bags`` (``bag_tally_sql``, migration 0017) count every insert, change of either state and
    delete in the same transaction, so the tally always equals a recount of ``bags``. The application only
    reads it: bag accountability's totals and the expired-stock alert add it up instead of reading every bag
    ever made."""

    __tablename__ = "bag_tallies"

    custody_state: str = Field(max_length=20, primary_key=True)
    quality_status: str = Field(max_length=12, primary_key=True)
    bags: int = Field(default=0)


_TALLY_ADD = ("INSERT INTO bag_tallies (custody_state, quality_status, bags) VALUES "
              "(COALESCE(NEW.custody_state, ''), NEW.quality_status, 1) "
              "ON CONFLICT (custody_state, quality_status) DO UPDATE SET bags = bag_tallies.bags + 1")
_TALLY_TAKE = ("UPDATE bag_tallies SET bags = bags - 1 "
               "WHERE custody_state = COALESCE(OLD.custody_state, '') AND quality_status = OLD.quality_status")


def bag_tally_sql(dialect: str) -> list[str]:
    """The triggers that keep ``bag_tallies`` (``BagTally``) equal to a count of ``bags``."""
    if dialect == "sqlite":
        changed = "OLD.custody_state IS NOT NEW.custody_state OR OLD.quality_status IS NOT NEW.quality_status"
        return [
            f"CREATE TRIGGER bags_tally_insert AFTER INSERT ON bags BEGIN {_TALLY_ADD}; END",
            f"CREATE TRIGGER bags_tally_update AFTER UPDATE OF custody_state, quality_status ON bags "
            f"WHEN {changed} BEGIN {_TALLY_TAKE}; {_TALLY_ADD}; END",
            f"CREATE TRIGGER bags_tally_delete AFTER DELETE ON bags BEGIN {_TALLY_TAKE}; END",
        ]
    if dialect == "postgresql":
        # A tally row is a row every bag writer changes. Each writer takes the audit chain's head first, which
        # every regulated write takes anyway (audit/trail.py), so two transactions never hold the head and a
        # tally row in opposite order and wait on each other for ever.
        return [
            "CREATE OR REPLACE FUNCTION cellchain_bag_tally() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND OLD.custody_state IS NOT DISTINCT FROM NEW.custody_state "
            "AND OLD.quality_status IS NOT DISTINCT FROM NEW.quality_status THEN RETURN NULL; END IF; "
            "PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE; "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_TALLY_TAKE}; END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {_TALLY_ADD}; END IF; "
            "RETURN NULL; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER bags_tally AFTER INSERT OR DELETE OR UPDATE OF custody_state, quality_status ON bags "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_bag_tally()",
        ]
    raise NotImplementedError(f"the bag-tally triggers for {dialect}")


def drop_bag_tally_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS bags_tally_{kind}" for kind in ("insert", "update", "delete")]
    return ["DROP TRIGGER IF EXISTS bags_tally ON bags", "DROP FUNCTION IF EXISTS cellchain_bag_tally()"]


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
