"""The one place audit entries are written, and the chain verified.

Every service that changes a regulated record calls :func:`record` inside the same transaction as the
change, so the entry and the change are committed together or not at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import and_, false, func, insert, or_
from sqlmodel import Session, select

from cellchain.audit import checkpoints, keyring
from cellchain.audit import context as audit_context
from cellchain.audit.models import AuditEntry, AuditHead
from cellchain.audit.rules.hash_chain import HASHED_FIELDS, ChainReport, entry_hash, verify_rows
from cellchain.audit.rules.seals import seal
from cellchain.core import db
from cellchain.core.canonical import canonical_json, format_utc
from cellchain.core.types import utcnow
from cellchain.people.rules.roles import Actor

SYSTEM_ACTOR = "system"


def _json(values: dict[str, Any] | None) -> str | None:
    return None if values is None else canonical_json(values)


class Link(NamedTuple):
    """Where an appended entry sits in the chain."""

    seq: int
    hash: str


# Every audited write reads the head and appends one row: Core statements built once (only SQL with
# parameters; each call still locks and reads the head as it is now). The insert's trigger checks that
# the entry extends the head and moves the head (migration 0003), so there is no UPDATE here.
_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_APPEND = insert(AuditEntry.__table__)


def record(session: Session, *, actor: Actor | None, record_type: str, record_id: Any, action: str,
           old: dict[str, Any] | None = None, new: dict[str, Any] | None = None,
           reason: str | None = None, at: datetime | None = None) -> Link:
    """Append one entry to the chain. ``actor`` None means the system itself (a CLI or migration).

    The head stays locked until the transaction ends (PostgreSQL's row lock; on SQLite the write
    lock every transaction takes at BEGIN IMMEDIATE), so entries are numbered in commit order.
    """
    session.flush()  # the change this entry describes is written first
    connection = session.connection()
    head_seq, head_hash = connection.execute(_HEAD).one()
    entry = {"seq": head_seq + 1, "recorded_at": format_utc(at or utcnow()),
             "actor_id": actor.id if actor else None, "actor": actor.username if actor else SYSTEM_ACTOR,
             "record_type": record_type, "record_id": str(record_id), "action": action,
             "old_values": _json(old), "new_values": _json(new), "reason": reason or None, "prev_hash": head_hash}
    entry["hash"] = entry_hash(**{name: entry[name] for name in (*HASHED_FIELDS, "prev_hash")})
    bound = audit_context.of(session)  # handed in at create_app; else the Flask app of this context
    keys = keyring.for_app(bound)  # read from a file outside the database, never a statement
    entry["key_id"], entry["seal"] = keys.active_id, seal(keys.active_secret, entry["hash"])
    connection.execute(_APPEND, entry)
    if isinstance(session, Session):  # bench/floor_app.py's driver session has no commit events
        checkpoints.after_commit(session, entry["seq"], entry["hash"], bound)
    return Link(entry["seq"], entry["hash"])


VERIFIED_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash", "key_id", "seal")


def verify_chain(session: Session, *, incremental: bool = False) -> ChainReport:
    """Walk the chain in order straight from the database cursor, without building ORM objects: links,
    hashes, seals (with the keyring's keys) and the signed checkpoints outside the database.

    ``incremental`` starts at the newest checkpoint's entry (which must still have its hash) instead
    of entry 1: what was written since is checked in full, what came before is vouched for by the
    checkpoint's hash, which covers it through the chain. An entry edited in place before the
    checkpoint, without re-hashing, is found only by the whole walk (docs/security.md).
    """
    holder = audit_context.of(session) or current_app
    config = holder.config
    keys = keyring.for_app(holder).secrets
    logged, log_problems = checkpoints.read_all(config["AUDIT_CHECKPOINT_DIR"])
    valid = []
    for checkpoint in logged:
        if checkpoint.is_signed_by(keys):
            valid.append(checkpoint)
        else:
            log_problems.append(f"the checkpoint naming entry {checkpoint.seq} at {checkpoint.at} is not signed "
                                "by a key of the keyring")
    newest = max(valid, key=lambda c: c.seq, default=None)
    start = newest.seq if incremental and newest is not None and newest.seq > 0 else 1
    present = select(AuditEntry.seq).where(AuditEntry.seq == start)
    if start > 1 and session.connection().execute(present).first() is None:
        start = 1  # the checkpoint's own entry is gone: only the whole walk says what else is
    # The driver's own cursor, iterated: plain tuples, no Row objects, no lists of a batch built.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        head_row = cursor.fetchone()
        anchors = {c.seq: (c.hash, c.at) for c in valid if c.seq >= start}
        # Built from the constant column names above, never from input: no SQL injection here.
        query = " ".join(("SELECT", ", ".join(VERIFIED_COLUMNS), "FROM audit_entries",
                          f"WHERE seq >= {int(start)}" if start > 1 else "", "ORDER BY seq"))
        cursor.execute(query)
        report = verify_rows(cursor, head=tuple(head_row) if head_row else None, keys=keys,
                             anchors=anchors, start=start, log_problems=log_problems)
    finally:
        cursor.close()
    return dataclasses.replace(report, checkpoint=newest.as_dict() if newest else None, checkpoints=len(valid))


@dataclass(frozen=True)
class AuditFilter:
    record_type: str | None = None
    record_id: str | None = None
    actor: str | None = None
    since: str | None = None  # canonical UTC text bounds, inclusive
    until: str | None = None
    # (record_type, record ids) pairs: the entries of any of them (a record and its children, found by a code)
    records: tuple[tuple[str, tuple[str, ...]], ...] | None = None


def _filtered(statement, flt: AuditFilter):
    if flt.record_type:
        statement = statement.where(AuditEntry.record_type == flt.record_type)
    if flt.record_id:
        statement = statement.where(AuditEntry.record_id == flt.record_id)
    if flt.actor:
        statement = statement.where(AuditEntry.actor == flt.actor)
    if flt.since:
        statement = statement.where(AuditEntry.recorded_at >= flt.since)
    if flt.until:
        statement = statement.where(AuditEntry.recorded_at <= flt.until)
    if flt.records is not None:
        statement = statement.where(or_(false(), *(and_(AuditEntry.record_type == record_type,
                                                         AuditEntry.record_id.in_(ids))
                                                    for record_type, ids in flt.records)))
    return statement


def search(session: Session, flt: AuditFilter, *, limit: int | None = 200, offset: int = 0) -> list[AuditEntry]:
    statement = _filtered(select(AuditEntry), flt).order_by(AuditEntry.seq.desc()).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def count(session: Session, flt: AuditFilter) -> int:
    if flt == AuditFilter():  # every entry: the chain head holds the newest number (entries run 1, 2 ... n)
        head = session.get(AuditHead, 1)
        return head.seq if head is not None else 0
    return session.exec(_filtered(select(func.count()).select_from(AuditEntry), flt)).one()


def page_of(session: Session, flt: AuditFilter, page: db.PageRequest) -> db.Page:
    """One page of the trail, newest first (keyset on the entry's number): as fast on page 2,000 as on
    page 1, and an entry written while someone reads is never shown twice."""
    return db.keyset(session, _filtered(select(AuditEntry), flt), (AuditEntry.seq,), page, descending=True)


def history(session: Session, record_type: str, record_id: Any) -> list[AuditEntry]:
    """A record's entries, oldest first: what a batch record or certificate shows as 'changed since entry'."""
    statement = (select(AuditEntry).where(AuditEntry.record_type == record_type,
                                          AuditEntry.record_id == str(record_id)).order_by(AuditEntry.seq))
    return list(session.exec(statement))
