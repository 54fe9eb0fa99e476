"""Notices: what the software tells a person who must act (a hold on a released lot), in their inbox
and, when the site configures SMTP, by e-mail after the transaction that raised it commits."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
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
    # Why the e-mail could not be sent (logged too); the inbox item stands either way.
    mail_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
