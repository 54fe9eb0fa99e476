"""Adverse events, each version of their assessment, and the reports of serious ones to the sponsor.

An adverse event belongs to a subject and may name the infusion it followed. Its assessment changes over
time (a draft from a bedside reaction, the investigator's assessment, later amendments): every change is a
new ``AdverseEventVersion`` row beside its audit entry, and both that table and the SAE reports are
append-only (migration 0016), so what was signed and sent stays readable. docs/rules.md, "Safety".
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow
from cellchain.core.words import sentences

EVENT_STATUSES = ("draft", "confirmed")


class AdverseEvent(SQLModel, table=True):
    __tablename__ = "adverse_events"
    __table_args__ = (
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 5", name="ck_adverse_events_grade"),
        CheckConstraint("status IN ('draft', 'confirmed')", name="ck_adverse_events_status"),
        Index("ix_adverse_events_serious", "serious", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subjects.id", index=True)
    infusion_id: int | None = Field(default=None, foreign_key="infusions.id", index=True)
    status: str = Field(default="draft", max_length=10)
    source: str = Field(default="recorded", max_length=10)  # recorded | reaction (drafted at an infusion's end)
    version: int = Field(default=1)
    term: str = Field(max_length=200)
    category: str = Field(max_length=30)
    # As typed, or as worded for the nurse whose reaction drafted it (what the trail and the investigator's
    # signature bind); a draft's sentence also keeps its code and values and reads in each reader's language
    # (``description_text``; core/words/sentences.py). An amended description is typed and drops them.
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description_code: str | None = Field(default=None, max_length=40)
    description_values: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    onset_on: date | None = None
    resolved_on: date | None = None
    grade: int | None = None
    seriousness: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    serious: bool = Field(default=False)  # any ICH E2A criterion met; kept beside the list for the clock's query
    special_interest: bool = Field(default=False)
    causality: str | None = Field(default=None, max_length=20)
    expectedness: str | None = Field(default=None, max_length=20)
    action_taken: str | None = Field(default=None, max_length=20)
    outcome: str | None = Field(default=None, max_length=30)
    biopsy_proven: bool | None = None
    rejection_treatment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # When the site learned of the event: the SAE reporting clock starts here (safety/rules/clock.py).
    aware_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_by: int | None = Field(default=None, foreign_key="users.id")
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    confirm_signature_id: int | None = Field(default=None, foreign_key="signatures.id")

    @property
    def description_text(self) -> str | None:
        """The description in the reader's language; as typed where a person wrote it."""
        if self.description is None:
            return None
        return sentences.shown(self.description_code, self.description_values, self.description)


class AdverseEventVersion(SQLModel, table=True):
    """One version of an event's assessment as it was saved (append-only)."""

    __tablename__ = "adverse_event_versions"
    __table_args__ = (UniqueConstraint("event_id", "version", name="uq_adverse_event_versions"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="adverse_events.id", index=True)
    version: int
    status: str = Field(max_length=10)
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_by: int = Field(foreign_key="users.id")
    changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SaeReport(SQLModel, table=True):
    """A report of a serious adverse event to the sponsor, signed by the investigator (append-only).

    The first is the initial report the 24-hour clock asks for; later ones are follow-ups."""

    __tablename__ = "sae_reports"
    __table_args__ = (
        CheckConstraint("kind IN ('initial', 'follow_up')", name="ck_sae_reports_kind"),
        # One initial report per event, even when two investigators sign at once.
        Index("uq_sae_reports_initial", "event_id", unique=True,
              sqlite_where=text("kind = 'initial'"), postgresql_where=text("kind = 'initial'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="adverse_events.id", index=True)
    event_version: int
    kind: str = Field(max_length=10)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_to: str = Field(max_length=200)
    late: bool
    signature_id: int = Field(foreign_key="signatures.id")
    signed_by: int = Field(foreign_key="users.id")


CLINICAL_DEVIATION_KINDS = ("missed_visit", "out_of_window", "dose_outside_tolerance", "wrong_product",
                            "partial_infusion", "other")
CLINICAL_DEVIATION_STATUSES = ("open", "approved", "rejected", "closed")


class ClinicalDeviation(SQLModel, table=True):
    """A clinical protocol deviation of one subject (docs/rules.md, "Clinical protocol deviations").

    Apart from the manufacturing deviations of ``quality`` (a lot's process): this is what happened to a subject
    against the protocol (a visit missed or out of its window, a dose outside tolerance, a wrong product, a
    partial infusion). Opened by the system where it sees one (``automatic``, with the person whose act it
    saw) or by hand; the investigator approves or rejects it with an e-signature, then it is closed. An
    approved ``out_of_window`` deviation of an infusion visit allows that one infusion: the infusion it
    allowed is written into ``infusion_id`` when it starts."""

    __tablename__ = "clinical_deviations"
    __table_args__ = (
        CheckConstraint("kind IN ('missed_visit', 'out_of_window', 'dose_outside_tolerance', 'wrong_product', "
                        "'partial_infusion', 'other')", name="ck_clinical_deviations_kind"),
        CheckConstraint("status IN ('open', 'approved', 'rejected', 'closed')", name="ck_clinical_deviations_status"),
        Index("ix_clinical_deviations_status", "status", "id"),
        Index("ix_clinical_deviations_visit", "visit_id", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subjects.id", index=True)
    visit_id: int | None = Field(default=None, foreign_key="visits.id")
    infusion_id: int | None = Field(default=None, foreign_key="infusions.id")
    bag_id: int | None = Field(default=None, foreign_key="bags.id")
    kind: str = Field(max_length=30)
    # As worded for the person whose act opened it (what the trail and a signature bind); a description the
    # system wrote also keeps its code and values, and reads in each reader's language (core/words/sentences.py).
    description: str = Field(sa_column=Column(Text, nullable=False))
    description_code: str | None = Field(default=None, max_length=40)
    description_values: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    automatic: bool = Field(default=False)  # opened by the system where it saw the deviation
    status: str = Field(default="open", max_length=10)
    opened_by: int = Field(foreign_key="users.id")  # the person whose act opened it, or who opened it by hand
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decision_signature_id: int | None = Field(default=None, foreign_key="signatures.id")
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closed_by: int | None = Field(default=None, foreign_key="users.id")
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    closing_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    @property
    def description_text(self) -> str:
        """The description in the reader's language; as typed where a person wrote it."""
        return sentences.shown(self.description_code, self.description_values, self.description)
