"""Claiming an API write's ``Idempotency-Key``, and finding the answer its first request got.

The same ledger as the page forms' submission ids (``ledger.py``), keyed by the client's own text per
account. A request claims its key before the view runs: an insert into ``api_idempotency_keys`` (unique per
account and key) in a savepoint of the request's own transaction, so it commits with the write and its
answer, or rolls back with a refusal. A retry finds the committed row and is given its answer; two requests
racing on PostgreSQL: the second insert waits on the first transaction's unique index entry, fails once the
first commits, and reads the committed row (READ COMMITTED), so it too is given the first answer; if the
first was refused, its row never existed and the second runs as a first request. On SQLite one writer at a
time (``core/db.py``) means the second simply reads the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.core.errors import Reason, Refused
from cellchain.core.submissions.models import IdempotencyKey
from cellchain.core.types import utcnow

# 1 to 200 printable ASCII characters without spaces (a UUID, a ULID, a scanner's own counter): what an HTTP
# header carries unchanged through every proxy.
KEY_PATTERN = re.compile(r"[!-~]{1,200}")
KEY_RULE = "1 to 200 printable ASCII characters, no spaces"


class KeyReused(Refused):
    """The key was first sent with another request (another body, path or method): 422, nothing written."""

    status = 422


class KeyInFlight(Refused):
    """The key's first request has not finished: 409, nothing written; retry in a moment."""


@dataclass(frozen=True)
class Answer:
    """What the first request with the key was answered."""

    status: int
    content_type: str | None
    body: bytes
    location: str | None
    content_disposition: str | None


def _find(session: Session, *, user_id: int, key: str) -> IdempotencyKey | None:
    statement = select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                             IdempotencyKey.idempotency_key == key)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _earlier(row: IdempotencyKey, *, request_line: str, digest: str) -> Answer:
    if row.request_line != request_line or row.request_digest != digest:
        raise KeyReused([Reason("idempotency_key_reused", first=row.request_line)])
    if row.status is None:
        raise KeyInFlight([Reason("idempotency_key_in_flight")])
    return Answer(row.status, row.content_type, row.body or b"", row.location, row.content_disposition)


def purge(session: Session, *, hours: float, user_id: int | None = None) -> int:
    """Delete the keys older than ``hours`` (of one account, or of all); how many went."""
    statement = delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(hours=hours))
    if user_id is not None:
        statement = statement.where(IdempotencyKey.user_id == user_id)
    return session.connection().execute(statement).rowcount or 0


def claim(session: Session, *, user_id: int, key: str, request_line: str, digest: str,
          hours: float) -> IdempotencyKey | Answer:
    """This request's claim on its key (flushed, in the request's transaction), or the first request's answer.

    The account's keys older than ``hours`` go first: a key is honoured for that long, then it is free again.
    """
    purge(session, hours=hours, user_id=user_id)
    found = _find(session, user_id=user_id, key=key)
    if found is not None:
        return _earlier(found, request_line=request_line, digest=digest)
    row = IdempotencyKey(user_id=user_id, idempotency_key=key, request_line=request_line, request_digest=digest,
                         created_at=utcnow())
    try:
        with session.begin_nested():  # a savepoint: losing the race leaves the request's transaction usable
            session.add(row)
    except IntegrityError:
        found = _find(session, user_id=user_id, key=key)
        if found is None:  # refused by the unique index, yet no row to read: the conflict is all there is
            raise
        return _earlier(found, request_line=request_line, digest=digest)
    return row


def settle(session: Session, row: IdempotencyKey, answer: Answer) -> None:
    """Keep the answer with the key, in the transaction that commits the write."""
    row.status = answer.status
    row.content_type = answer.content_type
    row.body = answer.body
    row.location = answer.location
    row.content_disposition = answer.content_disposition
    session.add(row)
    session.flush()

