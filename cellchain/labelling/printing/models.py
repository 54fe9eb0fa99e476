"""The printer registry and the print jobs sent to its printers.

A printer is a Zebra (ZPL over raw TCP, port 9100) or an IPP/CUPS printer taking PDF; it prints at one
resolution and takes the label sizes listed. A print job is one document sent to one printer: the labels
it carries are ``LabelPrint`` rows, recorded before the send; the job keeps the document itself, so a
retry sends the very bytes that failed. A job is recorded ``queued`` and committed before it is sent, then
``sent`` or ``failed`` (docs/architecture.md, "Label printers"); ``queued_at`` is when it last entered the queue.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow

PRINTER_KINDS = ("zpl", "pdf")
RESOLUTIONS = (203, 300, 600)
JOB_STATUSES = ("queued", "sent", "failed")


class Printer(SQLModel, table=True):
    __tablename__ = "printers"
    __table_args__ = (
        CheckConstraint(f"kind IN {PRINTER_KINDS!r}", name="ck_printers_kind"),
        CheckConstraint(f"dpi IN {RESOLUTIONS!r}", name="ck_printers_dpi"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    place: str = Field(max_length=100)
    kind: str = Field(max_length=3)  # zpl | pdf
    address: str = Field(max_length=200)  # host:port (ZPL) or ipp://host:631/printers/name (PDF)
    dpi: int = Field(default=203)
    label_sizes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # "101.6x101.6" mm
    active: bool = Field(default=True)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PrintJob(SQLModel, table=True):
    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="ck_print_jobs_status"),
        Index("ix_print_jobs_created", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    printer_id: int = Field(foreign_key="printers.id", index=True)
    label_kind: str = Field(max_length=20)
    target: str = Field(max_length=20)  # the print page's target (bag, lot, qc, ...)
    item_key: str = Field(max_length=40)  # its key
    label_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fmt: str = Field(max_length=3)
    dpi: int
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="queued", max_length=8)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = Field(default=0)  # sends started, counted as each starts
    queued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    def state(self) -> dict[str, Any]:
        """The job's values as its audit entries record them (reconciled: audit/rules/regulated.py)."""
        return {"printer_id": self.printer_id, "label_kind": self.label_kind, "target": self.target,
                "item_key": self.item_key, "label_ids": list(self.label_ids), "fmt": self.fmt, "dpi": self.dpi,
                "status": self.status, "error": self.error, "attempts": self.attempts, "queued_at": self.queued_at,
                "sent_at": self.sent_at}
