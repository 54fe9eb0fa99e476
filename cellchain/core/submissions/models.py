"""The used submission ids of page forms: one row per form post that wrote, in the write's own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


class FormSubmission(SQLModel, table=True):
    """A page form's one-time id, who sent it, to which form, when, and the page its post led to.

    The unique ``submission_id`` is what stops a second post of the same form (a double tap, the back
    button, a re-sent request, two posts racing on two workers) from writing again: the row commits with
    the write or not at all, so the id is used exactly when the write happened.
    """

    __tablename__ = "form_submissions"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    endpoint: str = Field(max_length=120)
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Where the first post led (the page that shows what it recorded); NULL only while its write runs.
    result_location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
