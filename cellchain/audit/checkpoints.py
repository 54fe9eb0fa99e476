"""Signed checkpoints of the audit chain's head, kept outside the database (docs/security.md, "Audit trail").

Each checkpoint is one line appended to ``<AUDIT_CHECKPOINT_DIR>/audit-checkpoints.jsonl`` (and to the
same file in ``AUDIT_CHECKPOINT_COPY_DIR`` when the site names one): the head's number, hash and time,
signed with the active audit key. The database login cannot write there, so a chain cut short (its head
moved back) or rebuilt is found: a checkpoint names an entry that is gone or differs.

Written after the commit of an audited transaction once the head has moved
``AUDIT_CHECKPOINT_EVERY_ENTRIES`` entries or the last checkpoint is older than
``AUDIT_CHECKPOINT_EVERY_SECONDS``; and by ``flask --app cellchain audit-checkpoint``. Several workers
append under an exclusive file lock and re-read the last line under it, so the log only moves forward.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from datetime import datetime
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session

from cellchain.audit import keyring
from cellchain.audit.rules.seals import Checkpoint, is_due, parse_line
from cellchain.core.canonical import format_utc
from cellchain.core.types import utcnow

log = logging.getLogger(__name__)
LOG_NAME = "audit-checkpoints.jsonl"
PENDING = "audit.head_moved"
LAST = "audit.last_checkpoint"
TAIL_BYTES = 4096  # one line is about 250 bytes
RETRY_AFTER = "audit.checkpoint_retry_after"
RETRY_SECONDS = 30


def log_path(directory: str | os.PathLike) -> Path:
    return Path(directory) / LOG_NAME


def read_all(directory: str | os.PathLike) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint in the log, oldest first, and what is wrong with any line that is not one."""
    path = log_path(directory)
    checkpoints, problems = [], []
    if not path.exists():
        return checkpoints, problems
    with path.open() as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            checkpoint = parse_line(line)
            if checkpoint is None:
                problems.append(f"checkpoint log line {number} is not a checkpoint")
            else:
                checkpoints.append(checkpoint)
    return checkpoints, problems


def last(directory: str | os.PathLike, keys: dict[str, bytes] | None = None) -> Checkpoint | None:
    """The newest checkpoint, read from the end of the log only (the log grows for years); with ``keys``,
    the newest one they signed (a line someone appended without the key never holds the log back)."""
    path = log_path(directory)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            lines = handle.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        checkpoint = parse_line(line)
        if checkpoint is not None and (keys is None or checkpoint.is_signed_by(keys)):
            return checkpoint
    return None


def _append(directory: str | os.PathLike, line: str) -> None:
    Path(directory).mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path(directory), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class _Locked:
    """An exclusive lock on the log, held while the last line is read again and the new one appended."""

    def __init__(self, directory: str | os.PathLike) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self._fd = os.open(Path(directory) / (LOG_NAME + ".lock"), os.O_RDWR | os.O_CREAT, 0o640)

    def __enter__(self) -> _Locked:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_exc) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _seconds_between(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def write(config, head_seq: int, head_hash: str, *, force: bool = False, app=None) -> Checkpoint | None:
    """Append a checkpoint of (``head_seq``, ``head_hash``), a committed entry, when one is due (always
    with ``force``, unless the log already holds this head or a newer one). Returns what was written."""
    directory = config["AUDIT_CHECKPOINT_DIR"]
    now = format_utc(utcnow())
    keys = keyring.for_app(app)
    with _Locked(directory):
        newest = last(directory, keys.secrets)
        if newest is not None and newest.seq >= head_seq:
            return None
        if not force and not is_due(newest, head_seq, now, every_entries=config["AUDIT_CHECKPOINT_EVERY_ENTRIES"],
                                    every_seconds=config["AUDIT_CHECKPOINT_EVERY_SECONDS"],
                                    seconds_between=_seconds_between):
            return None
        checkpoint = Checkpoint.signed(keys.active_secret, seq=head_seq, entry_hash=head_hash, at=now,
                                       key_id=keys.active_id)
        _append(directory, checkpoint.as_line())
    copy = config.get("AUDIT_CHECKPOINT_COPY_DIR")
    if copy:
        try:
            _append(copy, checkpoint.as_line())
        except OSError:  # the primary log holds it; the copy's gap is logged for the site to mend
            log.exception("the audit checkpoint could not be copied to %s", copy)
    return checkpoint


def _remembered(app) -> Checkpoint | None:
    return app.extensions.get(LAST)


def _after_commit(session: Session) -> None:
    if PENDING not in session.info:
        return
    moved = session.info.pop(PENDING)
    if moved is None:
        return
    seq, digest, app = moved
    if app is None:  # nothing handed in: the Flask app of this context, if there is one
        if not has_app_context():
            return
        app = current_app._get_current_object()
    config = app.config
    known = _remembered(app)
    if time.monotonic() < app.extensions.get(RETRY_AFTER, 0):
        return
    # Decided first on what this process last saw, without touching the file: most commits need none.
    if known is not None and not is_due(known, seq, format_utc(utcnow()),
                                        every_entries=config["AUDIT_CHECKPOINT_EVERY_ENTRIES"],
                                        every_seconds=config["AUDIT_CHECKPOINT_EVERY_SECONDS"],
                                        seconds_between=_seconds_between):
        return
    try:
        written = write(config, seq, digest, app=app)
        app.extensions[LAST] = written or last(config["AUDIT_CHECKPOINT_DIR"], keyring.for_app(app).secrets)
    except (OSError, keyring.KeyringError):  # the commit stands; a late checkpoint shows on the verify page
        log.exception("the audit checkpoint could not be written to %s", config["AUDIT_CHECKPOINT_DIR"])
        app.extensions[RETRY_AFTER] = time.monotonic() + RETRY_SECONDS  # not again on every commit


def _after_rollback(session: Session) -> None:
    if PENDING in session.info:
        session.info.pop(PENDING)


def after_commit(session: Session, seq: int, digest: str, app=None) -> None:
    """Consider a checkpoint of entry ``seq`` once (and only if) this session's transaction commits; ``app``
    is the ``audit.context.AuditContext`` (or Flask app) whose settings say where and when."""
    session.info[PENDING] = (seq, digest, app)


# Once for every session, not per session: listening on each new session costs more than the audited
# write itself (the bedside check writes one entry per scan while a nurse waits).
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
