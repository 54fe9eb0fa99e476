"""The trial: the concealed allocation list, subjects, their visits, and bag allocations."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow
from cellchain.trial.rules.lifecycle import STATES as SUBJECT_STATES


class RandomizationList(SQLModel, table=True):
    """Generated in advance from a recorded seed; its hash is recorded when made. Never shown."""

    __tablename__ = "randomization_lists"

    id: int | None = Field(default=None, primary_key=True)
    seed: str = Field(max_length=64)
    entries: list[str] = Field(sa_column=Column(JSON, nullable=False))
    block_sizes: list[int] = Field(sa_column=Column(JSON, nullable=False))
    extensions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    list_hash: str = Field(max_length=64)
    next_position: int = Field(default=1)  # 1-based; locked while a subject is randomized
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def used(self) -> int:
        """How many positions subjects have taken (what may be shown; the entries never are)."""
        return self.next_position - 1


class SubjectSequence(SQLModel, table=True):
    """The last subject number issued; its one row is locked while a subject is registered."""

    __tablename__ = "subject_sequences"

    id: int = Field(default=1, primary_key=True)
    last_number: int = Field(default=0)


class Subject(SQLModel, table=True):
    __tablename__ = "subjects"
    __table_args__ = (
        CheckConstraint("arm IS NULL OR arm IN ('A', 'B')", name="ck_subjects_arm"),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in SUBJECT_STATES)})", name="ck_subjects_status"),
        Index("uq_subjects_chain_of_identity", "chain_of_identity", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_code: str = Field(max_length=20, unique=True, index=True)  # SUBJ-0001: the wristband's identifier
    screening_number: str = Field(max_length=30, unique=True)
    birth_date: date
    sex: str = Field(max_length=10)
    day0: date
    weight_kg: float
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    eligible: bool
    eligibility_reasons: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    arm: str | None = Field(default=None, max_length=1)
    randomization_position: int | None = Field(default=None, unique=True)
    randomized_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    randomized_by: int | None = Field(default=None, foreign_key="users.id")
    # ISBT 128 chain-of-identity identifier (DS 040), issued at randomization: CH + FIN + yy + 6 + K
    chain_of_identity: str | None = Field(default=None, max_length=16)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # where the subject stands in the trial (rules/lifecycle.py STATES); moved only by the lifecycle's steps
    status: str = Field(default="screened", max_length=20)
    # a withdrawal or death: when it happened, the reason's code, the investigator's words and signature
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    end_reason: str | None = Field(default=None, max_length=30)
    end_note: str | None = Field(default=None, max_length=500)
    ended_by: int | None = Field(default=None, foreign_key="users.id")
    end_signature_id: int | None = Field(default=None, foreign_key="signatures.id")


class Visit(SQLModel, table=True):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_subject", "subject_id", "target_date"),
        UniqueConstraint("subject_id", "week", "kind", name="uq_visits_subject_week_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subjects.id")
    week: int
    kind: str = Field(max_length=10)  # infusion | follow_up
    target_date: date
    window_start: date
    window_end: date
    # planned | done | cancelled (a withdrawal or death ends it); missed is computed (visits.status_of)
    status: str = Field(default="planned", max_length=12)
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # an infusion visit's planned date and time, inside its window; None: not planned yet
    planned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # an infusion visit's weight, entered by the coordinator before allocation: the dose is checked against it
    weight_kg: float | None = None
    weight_recorded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    weight_recorded_by: int | None = Field(default=None, foreign_key="users.id")


class Allocation(SQLModel, table=True):
    """One bag to one infusion visit; both sides unique, so neither can be allocated twice."""

    __tablename__ = "allocations"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", unique=True)
    bag_id: int = Field(foreign_key="bags.id", unique=True)
    subject_id: int = Field(foreign_key="subjects.id", index=True)
    weight_kg: float
    required_cells: int | None = None  # None for placebo
    allocated_by: int = Field(foreign_key="users.id")
    allocated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class BagReturn(SQLModel, table=True):
    """A bag taken off a cancelled visit of a withdrawn or dead subject, back at the lab for QA's decision:
    re-released to stock or discarded (docs/rules.md, "Trial: the subject's lifecycle")."""

    __tablename__ = "bag_returns"
    __table_args__ = (
        CheckConstraint("status IN ('awaiting_decision', 'restocked', 'discarded')", name="ck_bag_returns_status"),
        # one open return per bag: a second withdrawal cannot queue the same bag twice
        Index("uq_bag_returns_open_bag", "bag_id", unique=True, sqlite_where=text("status = 'awaiting_decision'"),
              postgresql_where=text("status = 'awaiting_decision'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    bag_id: int = Field(foreign_key="bags.id", index=True)
    subject_id: int = Field(foreign_key="subjects.id")
    visit_id: int = Field(foreign_key="visits.id")
    reason: str = Field(max_length=500)
    custody_event_id: int | None = Field(default=None, foreign_key="custody_events.id")
    status: str = Field(default="awaiting_decision", max_length=20)
    opened_by: int = Field(foreign_key="users.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decision_reason: str | None = Field(default=None, max_length=500)
    signature_id: int | None = Field(default=None, foreign_key="signatures.id")
