"""The database: one engine per app, one session per request, one commit at the edge.

Services only ``flush``; the request commits once when it succeeds and rolls back otherwise, so a
refused request never leaves half a record behind. Security events that must survive a refusal (a
wrong signature password, a failed login, a bedside attempt that was refused) are written through
:func:`defer`, which commits on its own after the request.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import and_, event, func, or_, select
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from cellchain.core.errors import NotFound

EXTENSION = "cellchain.core.db"
SQLITE_BUSY_TIMEOUT_S = 30
log = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` spellings and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while one writer writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    _sqlite_mark_app(dbapi_connection)


# The application's own connections mark themselves, so the row-change log (migration 0019,
# audit/row_changes.py) keeps only what was changed beside the application: its own writes are audited.
# SQLite: a TEMP trigger lives on this connection only; it drops the log's row before it is inserted
# (RAISE(IGNORE) skips that one insert, the change itself stands). A plain sqlite3 client has no such
# trigger, so its change is logged. Made once per connection, when the log's table exists.
ROW_CHANGES_TABLE = "row_changes"
SQLITE_APP_MARK = ("CREATE TEMP TRIGGER IF NOT EXISTS cellchain_app_writes BEFORE INSERT ON main.row_changes "
                   "BEGIN SELECT RAISE(IGNORE); END")
# PostgreSQL: a setting of this session, read by the log's trigger with current_setting(..., true); set
# once per connection and committed, so the pool's rollback of each request keeps it.
PG_APP_SETTING = "cellchain.app"


def _sqlite_mark_app(dbapi_connection) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (ROW_CHANGES_TABLE,))
        if cursor.fetchone() is not None:
            cursor.execute(SQLITE_APP_MARK)
    finally:
        cursor.close()


def _postgres_mark_app(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT set_config(%s, 'on', false)", (PG_APP_SETTING,))
    finally:
        cursor.close()
    dbapi_connection.commit()


def _sqlite_begin_immediate(conn) -> None:
    # Take SQLite's write lock when the transaction starts, not when it first writes: two requests
    # that both read the audit chain head and then write would otherwise fail with SQLITE_BUSY at
    # the upgrade. This is how the chain head is serialised on SQLite.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class WriterQueue:
    """The threads of one process queue for SQLite's single writer, first come first served.

    Every SQLite transaction takes the write lock at BEGIN IMMEDIATE. A thread that finds it taken
    waits in SQLite's busy handler, which sleeps in growing steps (1, 2, 5 ... 100 ms) however soon the
    lock frees, so under a threaded server a 3 ms wait becomes 50-150 ms at the 95th percentile
    (bench/bench_bedside.py). Here a thread joins this queue when it gets a connection from the pool and
    leaves it when the connection returns (after its commit or rollback); the next in line is woken
    the moment the holder is done, in arrival order, so no request starves behind luckier ones. Other
    processes still meet SQLite's busy handler. A thread that asks for a second connection
    while holding one waits no longer than the busy timeout, then goes on without the queue (SQLite's
    busy handler decides), so nothing waits on itself forever.
    """

    FLAG = "cellchain.writer_queue"

    def __init__(self, timeout_s: float) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False
        self._timeout_s = timeout_s

    def _acquire(self) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=self._timeout_s):
            return True  # handed over by the holder
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return False
        return True  # handed over between the timeout and the mutex

    def _release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # the queue stays held, by the next in line
            else:
                self._held = False

    def checkout(self, _dbapi_connection, record, _proxy) -> None:
        if self._acquire():
            record.record_info[self.FLAG] = True
        else:
            log.warning("SQLite writer queue: waited %s s; going on without it", self._timeout_s)

    def checkin(self, _dbapi_connection, record) -> None:
        if record is not None and record.record_info.pop(self.FLAG, False):
            self._release()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo,
                               connect_args={"check_same_thread": False, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        queue = WriterQueue(SQLITE_BUSY_TIMEOUT_S)
        event.listen(engine, "checkout", queue.checkout)
        event.listen(engine, "checkin", queue.checkin)
        return engine
    # No ping before each checkout: it would be one more round trip on every request. A connection
    # that died with its server fails its request with a clean 503, and SQLAlchemy then replaces every
    # pooled connection of that process, so the next request reconnects (tests/core/test_faults.py).
    engine = create_engine(url, echo=echo, pool_size=5, max_overflow=10)
    event.listen(engine, "connect", _postgres_mark_app)
    return engine


def engine() -> Engine:
    return current_app.extensions[EXTENSION]


def session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def commit() -> None:
    """Commit the request's work; called once at the edge (after_request, a CLI command)."""
    if "db_session" in g:
        g.db_session.commit()


def rollback() -> None:
    if "db_session" in g:
        g.db_session.rollback()


def defer(write: Callable[[Session], None]) -> None:
    """Run ``write`` in a transaction of its own once the request's transaction has ended.

    For records that must survive a refusal: a failed login, a wrong signature password, a refused
    bedside attempt. Running them after the request's transaction (not beside it) matters: the request
    may hold SQLite's write lock or the audit head's row lock, and a second transaction in the same
    thread would wait on itself.
    """
    g.setdefault("deferred_writes", []).append(write)


def _run_deferred(writes: list[Callable[[Session], None]]) -> None:
    for write in writes:
        try:
            with Session(engine(), expire_on_commit=False) as own:
                write(own)
                own.commit()
        except Exception:  # a lost security record is logged loudly, never silently dropped
            log.exception("a deferred audit write failed")


def _close(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()  # rolls back whatever was not committed; loaded objects stay readable
    _run_deferred(g.pop("deferred_writes", []))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = make_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
    app.teardown_appcontext(_close)


def one(session: Session, statement: Any, missing: str, *, for_update: bool = False) -> Any:
    """The record ``statement`` selects, or NotFound(missing). ``for_update`` holds its row until the
    transaction ends and re-reads it, so a check judges what the previous writer committed."""
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(missing)
    return row


# --- lists, a page at a time ----------------------------------------------------------------------------
# A list grows with the site (10,000 lots, 30,000 bags): every list is read a page at a time, keyset on
# its ordering key(s), never OFFSET, whose cost grows with the page number and which skips or repeats a
# row when rows are inserted between two pages (docs/architecture.md, "Lists").

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: at most ``limit`` rows whose key comes after ``after`` (None: the first page)."""

    limit: int = PAGE_SIZE
    after: tuple | None = None


FIRST_PAGE = PageRequest()


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, and the key the next page starts after (None: this is the last)."""

    rows: list
    next_key: tuple | None


def _after(keys: Sequence[Any], values: Sequence[Any], descending: bool) -> Any:
    """``(k1, k2, ...) > (v1, v2, ...)`` spelled out, which both SQLite and PostgreSQL plan on an index."""
    condition = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        beyond = key < value if descending else key > value
        condition = beyond if condition is None else or_(beyond, and_(key == value, condition))
    return condition


def keyset(session: Session, statement: Any, keys: Sequence[Any], page: PageRequest, *,
           descending: bool = False) -> Page:
    """One page of ``statement`` ordered by ``keys`` (which together must be unique and never null).

    The statement's own ORDER BY is replaced. Rows come back as the statement selects them (one entity,
    or a tuple); one statement whatever the page or the size of the table."""
    width = len(statement.column_descriptions)
    ordered = statement.order_by(None).order_by(*(k.desc() if descending else k for k in keys))
    if page.after is not None:
        ordered = ordered.where(_after(keys, page.after, descending))
    found = session.execute(ordered.add_columns(*keys).limit(page.limit + 1)).all()
    rows = [row[0] if width == 1 else tuple(row[:width]) for row in found[:page.limit]]
    more = len(found) > page.limit
    return Page(rows, tuple(found[page.limit - 1][width:]) if more else None)


def count(session: Session, statement: Any) -> int:
    """How many rows ``statement`` selects, counted by the database (a panel's "12 bags" never loads 12 rows)."""
    return session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
