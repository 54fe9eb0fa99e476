"""Notices: what the software tells a person who must act (a hold on a released lot), in their inbox
and, when the site configures SMTP, by e-mail after the transaction that raised it commits."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_read", "recipient_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="users.id")
    kind: str = Field(max_length=30)  # e.g. lot_on_hold
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=300)  # a path inside the app, e.g. /qa/holds/3
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    mailed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Why the last e-mail attempt failed (the outbox row keeps every retry); the inbox item stands either way.
    mail_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


MAIL_STATUSES = ("queued", "sent", "failed")


class OutboxMail(SQLModel, table=True):
    """One e-mail to send, written in the transaction of the event it tells (docs/rules.md, "Notices").

    Sent after that transaction commits, and again by ``flask send-mail`` (or a retry on the outbox page)
    while it has not gone: a mail server that is down delays a mail, it never loses it.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(f"status IN {MAIL_STATUSES!r}", name="ck_mail_outbox_status"),
        Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(default=None, foreign_key="notifications.id", index=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="queued", max_length=10)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
