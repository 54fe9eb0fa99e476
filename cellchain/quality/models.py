"""QC specifications (versioned), results (append-only) and deviations."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, select, text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow
from cellchain.core.words import sentences


class Specification(SQLModel, table=True):
    """A release specification version; a new version applies to new lots only."""

    __tablename__ = "specifications"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=20, unique=True)
    product: str = Field(default="ucmsc", max_length=20)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # spec_limits.spec_to_dict
    effective_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="users.id")


class QcResult(SQLModel, table=True):
    __tablename__ = "qc_results"
    __table_args__ = (
        Index("ix_qc_results_lot_test", "lot_id", "test_code"),
        # One first result per lot and test; every later result is a repeat of an earlier one ...
        Index("uq_qc_results_first_per_test", "lot_id", "test_code", unique=True,
              sqlite_where=text("repeat_of_id IS NULL"), postgresql_where=text("repeat_of_id IS NULL")),
        # ... and a result is repeated at most once, so the repeats of a test form one line, never a fork.
        UniqueConstraint("repeat_of_id", name="uq_qc_results_repeat_of"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lots.id")
    test_code: str = Field(max_length=30)
    value: str = Field(max_length=60)  # as entered, normalised
    within_spec: bool
    limit_text: str = Field(max_length=80)  # the limit as it read when judged
    unit: str = Field(default="", max_length=30)
    method: str = Field(default="", max_length=120)
    spec_version: str = Field(max_length=20)
    tested_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    repeat_of_id: int | None = Field(default=None, foreign_key="qc_results.id")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Where and when the sample was taken (spec_limits.SAMPLE_STAGES): a sterility culture sampled at
    # fill says something else than one sampled in process (Ph. Eur. 2.6.27).
    sample_stage: str = Field(default="final_product", max_length=20)
    sampled_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Recorded after the lot's release (a sterility culture read on day 14): not part of what QA signed.
    after_release: bool = Field(default=False)


HOLD_ITEM_KINDS = ("collection", "bank", "lot", "bag", "material_lot")


class Hold(SQLModel, table=True):
    """A collection, cell bank, lot or bag stopped, with everything derived from it (docs/rules.md,
    "Quality: holds").

    Raised by a result after release (``qc_result_id``) or placed by QA with a reason and an e-signature
    (``raise_signature_id``); a recall is a hold whose look-back was sent. Lifted only with a QA
    e-signature and a reason. At most one hold of an item is open at a time (the partial unique index).
    ``collection_id`` is the held item's cord: every item descends from one cord, so "could any hold reach
    this bag" is one indexed probe of the cord's open holds before any walk of the genealogy.
    """

    __tablename__ = "holds"
    __table_args__ = (
        Index("uq_holds_open_per_item", "item_kind", "item_id", unique=True,
              sqlite_where=text("lifted_at IS NULL"), postgresql_where=text("lifted_at IS NULL")),
        Index("ix_holds_open_per_cord", "collection_id",
              sqlite_where=text("lifted_at IS NULL"), postgresql_where=text("lifted_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(default="lot", max_length=12)  # HOLD_ITEM_KINDS
    item_id: int
    collection_id: int | None = Field(default=None, foreign_key="collections.id")  # None: a placebo bag
    lot_id: int | None = Field(default=None, foreign_key="lots.id", index=True)  # a lot hold's lot
    qc_result_id: int | None = Field(default=None, foreign_key="qc_results.id")
    # What the hold says wherever a bag it reaches is refused: the result that caused it, or QA's reason.
    # A cause the software wrote keeps its code and values beside the words of the person whose record
    # raised it, and reads in each reader's language (``cause_text``; core/words/sentences.py).
    cause: str = Field(max_length=300)
    cause_code: str | None = Field(default=None, max_length=40)
    cause_values: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    recall: bool = Field(default=False)
    raise_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    raised_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    raised_by: int = Field(foreign_key="users.id")
    lifted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    lifted_by: int | None = Field(default=None, foreign_key="users.id")
    lift_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    lift_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    @property
    def cause_text(self) -> str:
        """The cause in the reader's language; QA's reason as typed."""
        return sentences.shown(self.cause_code, self.cause_values, self.cause)


@event.listens_for(Hold, "before_insert")
def _lot_hold_names_its_item(_mapper: Any, connection: Any, hold: Hold) -> None:
    """A hold made as lot holds always were, by its lot alone, is a hold of kind lot on that lot's cord."""
    if hold.item_id is None and hold.lot_id is not None:
        hold.item_kind, hold.item_id = "lot", hold.lot_id
    if hold.collection_id is None and hold.item_kind == "lot" and hold.item_id is not None:
        lots = SQLModel.metadata.tables["lots"]
        hold.collection_id = connection.execute(select(lots.c.collection_id).where(lots.c.id == hold.item_id)).scalar()


DEVIATION_STATUSES = ("open", "investigated", "decided", "closed")


class DeviationSequence(SQLModel, table=True):
    """The last deviation number issued per year (DEV-2026-0001); its row is locked while one is issued."""

    __tablename__ = "deviation_sequences"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    last_number: int = Field(default=0)


class Deviation(SQLModel, table=True):
    """Something outside its limits: an OOS result, a temperature excursion, a procedural lapse."""

    __tablename__ = "deviations"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # DEV-2026-0001
    lot_id: int | None = Field(default=None, foreign_key="lots.id", index=True)
    qc_result_id: int | None = Field(default=None, foreign_key="qc_results.id")
    excursion_id: int | None = Field(default=None, foreign_key="excursions.id")
    kind: str = Field(max_length=20)  # oos | excursion | procedural
    test_code: str | None = Field(default=None, max_length=30)
    # As worded for the person whose act opened it; an automatic one also keeps its code and values
    # (``description_text`` reads it in the reader's language).
    description: str = Field(sa_column=Column(Text, nullable=False))
    description_code: str | None = Field(default=None, max_length=40)
    description_values: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default="open", max_length=20, index=True)
    root_cause: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    impact: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decision: str | None = Field(default=None, max_length=10)  # accept | reject
    justification: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    opened_by: int | None = Field(default=None, foreign_key="users.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    closing_signature_id: int | None = Field(default=None, foreign_key="signatures.id")

    @property
    def description_text(self) -> str:
        """The description in the reader's language; as typed where a person wrote it."""
        return sentences.shown(self.description_code, self.description_values, self.description)
