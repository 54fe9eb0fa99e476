"""Claiming a page form's one-time submission id, and finding what its first post led to.

A post claims its id before it writes: the claim is an insert into ``form_submissions`` (unique id) in the
request's own transaction, so it commits with the write or rolls back with a refusal. A second post of the
same id finds the first one's row and is sent to the page the first post led to; it writes nothing. Two
posts racing on PostgreSQL: the second insert waits on the first transaction's unique index entry, fails
once the first commits, and then reads the committed row (READ COMMITTED). On SQLite one writer at a time
(``core/db.py``) means the second simply reads the row.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.core.errors import Reason, Refused
from cellchain.core.submissions.models import FormSubmission
from cellchain.core.types import utcnow

# What ``new_id`` makes (24 random bytes, URL-safe base64: 32 characters), with room for other clients.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_id() -> str:
    """A fresh id for one rendered form; unguessable, so no one can spend another person's id."""
    return secrets.token_urlsafe(24)


class SubmissionRefused(Refused):
    """The id cannot be honoured (another form's, or its first post still running): the error page says so."""


@dataclass(frozen=True)
class Earlier:
    """The first post of this id: where it led and when it was sent."""

    location: str
    submitted_at: datetime


def _find(session: Session, submission_id: str) -> FormSubmission | None:
    statement = select(FormSubmission).where(FormSubmission.submission_id == submission_id)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _earlier(row: FormSubmission, *, user_id: int, endpoint: str) -> Earlier:
    if row.user_id != user_id or row.endpoint != endpoint:
        # Each rendered form gets its own id: the same id from another form or person is not a repeat.
        raise SubmissionRefused([Reason("submission_reused")])
    if not row.result_location:
        raise SubmissionRefused([Reason("submission_in_progress")])
    return Earlier(row.result_location, row.submitted_at)


def claim(session: Session, *, submission_id: str, user_id: int, endpoint: str) -> FormSubmission | Earlier:
    """This post's claim on its id (flushed, in the request's transaction), or the first post of the id."""
    found = _find(session, submission_id)
    if found is not None:
        return _earlier(found, user_id=user_id, endpoint=endpoint)
    row = FormSubmission(submission_id=submission_id, user_id=user_id, endpoint=endpoint[:120],
                         submitted_at=utcnow())
    try:
        with session.begin_nested():  # a savepoint: losing the race leaves the request's transaction usable
            session.add(row)
    except IntegrityError:
        found = _find(session, submission_id)
        if found is None:  # the unique index refused it, yet no row is there: nothing to show but the conflict
            raise
        return _earlier(found, user_id=user_id, endpoint=endpoint)
    return row


def settle(session: Session, row: FormSubmission, location: str) -> None:
    """Keep where the post led, for a second post of the same id."""
    row.result_location = location
    session.flush()


def release(session: Session, row: FormSubmission) -> None:
    """Give the id back: the post showed a page (a preview, a question back) and wrote nothing."""
    session.delete(row)
    session.flush()
