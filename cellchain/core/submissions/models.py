"""The used submission ids of page forms and the idempotency keys of API writes: one row per request that
wrote, in the write's own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
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


class IdempotencyKey(SQLModel, table=True):
    """An API write's ``Idempotency-Key``: who sent it, to which method and path, a keyed digest of the
    request, and the answer it got (docs/security.md, "Idempotent API writes").

    A sibling of ``form_submissions`` rather than a use of it: a key is the client's own text (up to 200
    characters), unique per account rather than across all, and its repeat is answered with the stored
    answer itself (status, body, Location) where a page form's repeat is sent to a page. The row commits
    with the write or not at all, so a key is used exactly when the write happened.
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key", name="uq_api_idempotency_keys_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    idempotency_key: str = Field(max_length=200)
    request_line: str = Field(sa_column=Column(Text, nullable=False))  # "POST /api/v1/lots/L1/bags"
    # HMAC-SHA256 (the site's secret) of method, path, query and body: a body may hold an e-signature's
    # password, which a bare hash would let anyone holding the table guess at offline.
    request_digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    # The answer; NULL status only while the first request runs (never seen by another transaction).
    status: int | None = Field(default=None)
    content_type: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_disposition: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
