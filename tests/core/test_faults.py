"""Faults: a server killed in the middle of a fill, and PostgreSQL going away.

A fill of 50 bags is one transaction (bags, audit entries, custody events, the batch step, the lot's
status): a server killed with SIGKILL while it runs must leave all 50 bags or none, an audit chain
that verifies, and a database the next server fills normally. The kill is made to land mid-fill
without any hook in the application: on PostgreSQL the test holds the audit chain's head row, so the
fill stops at its first audit entry with its first bag written; on SQLite the test's own copy of the
database gets a trigger that makes every bag insert slow, and the kill comes while the fill holds the
write lock. When PostgreSQL stops answering, requests get a clean 503 with ``{error}`` and nothing
half-written, and succeed again once it is back: the app talks to PostgreSQL through a TCP forwarder
the test cuts and restores (the machine's PostgreSQL itself is never restarted). The 10-minute soak
is bench/bench_soak.py.
"""

from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from cellchain import create_app
from cellchain.audit import trail
from cellchain.core import db
from cellchain.manufacturing.models import Bag, BatchStep, Lot
from tests.conftest import FAST_HASH, PASSWORD, _seed
from tests.factories import lab, materials, ward
from tests.live_server import Server, call, free_port, serving

PG_URL = os.environ.get("TEST_DATABASE_URL")
FILL = {"count": 50, "volume_ml": 5, "total_cells": 5_000_000, "anticoagulant": "heparin",
        "anticoagulant_lot": "HEP2611"}


# --- a fill on a real server (tests/live_server.py) -----------------------------------------------------

def _fill_in_background(server: Server, token: str, lot_number: str) -> tuple[threading.Thread, list]:
    answers: list = []

    def send() -> None:
        try:
            answers.append(call(server.port, "POST", f"/api/v1/lots/{lot_number}/bags", FILL, token, timeout=60))
        except (OSError, http.client.HTTPException) as error:  # the server died under the request
            answers.append(error)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, answers


def _until(condition, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.02)


# --- what the database holds afterwards ---------------------------------------------------------------------

def ready_lot(app) -> str:
    """A formulated lot (3e8 cells in 300 ml) waiting for its fill, and the released heparin lot ``FILL`` names."""
    with lab.in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        return lab.formulated_lot(session).lot_number


@dataclass(frozen=True)
class Outcome:
    bags: int
    lot_status: str
    fill_steps: int
    chain_ok: bool


def outcome(database_url: str, lot_number: str) -> Outcome:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PASSWORD_HASH_METHOD": FAST_HASH})
    try:
        with app.app_context():
            session = db.session()
            lot = session.exec(select(Lot).where(Lot.lot_number == lot_number)).one()
            bags = session.exec(select(func.count()).select_from(Bag).where(Bag.lot_id == lot.id)).one()
            steps = session.exec(select(func.count()).select_from(BatchStep)
                                 .where(BatchStep.lot_id == lot.id, BatchStep.step_key == "fill")).one()
            return Outcome(bags, lot.status, steps, trail.verify_chain(session).ok)
    finally:
        app.extensions[db.EXTENSION].dispose()


def assert_all_or_none(result: Outcome) -> None:
    assert result.chain_ok
    assert (result.bags, result.lot_status, result.fill_steps) in ((0, "in_process", 0), (50, "awaiting_release", 1))


def refill_works(database_url: str, lot_number: str, log: Path, before: Outcome) -> None:
    """The next server fills the lot normally (or refuses a second fill if the first had committed)."""
    with serving(database_url, log, up_within=30) as server:
        status, body = call(server.port, "POST", f"/api/v1/lots/{lot_number}/bags", FILL, server.token("lab"))
    assert status == (201 if before.bags == 0 else 409), body
    after = outcome(database_url, lot_number)
    assert after.chain_ok and after.bags == 50 and after.lot_status == "awaiting_release"


# --- (a) SIGKILL in the middle of a fill of 50 bags ---------------------------------------------------------

def _slow_bag_inserts(path: Path) -> None:
    """In this test's own database only: each bag insert counts 9 million row pairs (~50 ms), so a fill of
    50 bags runs for seconds and a kill lands inside it. The application is not touched."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE fault_ballast (x INTEGER)")
        conn.executemany("INSERT INTO fault_ballast VALUES (?)", [(n,) for n in range(3000)])
        conn.execute("CREATE TRIGGER fault_slow_bag AFTER INSERT ON bags BEGIN "
                     "SELECT count(*) FROM fault_ballast AS a, fault_ballast AS b; END")


def _drop_slow_bag_inserts(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER fault_slow_bag")


def _sqlite_write_lock_held(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def test_a_server_killed_mid_fill_leaves_all_bags_or_none_on_sqlite(tmp_path):
    path = tmp_path / "faults.sqlite"
    url = f"sqlite:///{path}"
    _seed(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": FAST_HASH})
    lot_number = ready_lot(app)
    app.extensions[db.EXTENSION].dispose()
    _slow_bag_inserts(path)
    with serving(url, tmp_path / "gunicorn.log", up_within=30) as server:
        token = server.token("lab")
        sender, answers = _fill_in_background(server, token, lot_number)
        _until(lambda: _sqlite_write_lock_held(path), "the fill holds the write lock")
        time.sleep(0.5)  # well inside the fill: 50 slow inserts take seconds
        assert _sqlite_write_lock_held(path) and not answers, "the fill should still be running"
        server.kill()
    sender.join(timeout=10)
    assert answers and not isinstance(answers[0], tuple), f"the fill answered before the kill: {answers}"
    _drop_slow_bag_inserts(path)
    before = outcome(url, lot_number)
    assert_all_or_none(before)
    refill_works(url, lot_number, tmp_path / "gunicorn.log", before)


def _fill_waits_with_a_bag_written(engine, database: str) -> bool:
    """The server's transaction has written (it has a transaction id) and waits on a lock: the audit head the
    test holds, taken by the first audit entry or by the bag tally's trigger on the first bag's insert."""
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock' "
            "AND backend_xid IS NOT NULL AND (query ILIKE '%audit_head%' OR query ILIKE '%INSERT INTO bags%')"),
            {"db": database}).scalar_one())


def test_a_server_killed_mid_fill_leaves_all_bags_or_none_on_postgresql(app, database_url, tmp_path):
    if not PG_URL:
        pytest.skip("the PostgreSQL variant needs TEST_DATABASE_URL")
    lot_number = ready_lot(app)
    engine, database = app.extensions[db.EXTENSION], make_url(database_url).database
    with serving(database_url, tmp_path / "gunicorn.log", up_within=30) as server:
        token = server.token("lab")
        with engine.connect() as holder:
            holder.begin()
            holder.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            sender, answers = _fill_in_background(server, token, lot_number)
            _until(lambda: _fill_waits_with_a_bag_written(engine, database), "the fill waits mid-transaction")
            server.kill()
            holder.rollback()
    sender.join(timeout=10)
    assert answers and not isinstance(answers[0], tuple), f"the fill answered before the kill: {answers}"
    _until(lambda: not _fill_waits_with_a_bag_written(engine, database), "the orphaned transaction ends")
    before = outcome(database_url, lot_number)
    assert_all_or_none(before)
    assert before.bags == 0  # it never reached its commit
    refill_works(database_url, lot_number, tmp_path / "gunicorn.log", before)


# --- (b) PostgreSQL unavailable during requests -------------------------------------------------------------

class CuttableProxy:
    """A TCP forwarder to PostgreSQL: ``cut`` drops every connection and refuses new ones, ``restore``
    forwards again, as PostgreSQL does when it goes down and comes back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.05)
        self._listener, self._stop = listener, threading.Event()
        threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True).start()

    def cut(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            dropped, self._open = self._open, set()
        for sock in dropped:
            self._drop(sock)

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(sink)

    @staticmethod
    def _drop(sock: socket.socket) -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def test_postgresql_going_away_gives_a_clean_503_and_requests_succeed_once_it_is_back(app, api, database_url):
    if not PG_URL:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    url = make_url(database_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = create_app({"TESTING": True, "DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port)
                          .render_as_string(hide_password=False), "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": FAST_HASH})
    client = proxied.test_client()
    headers = {"Authorization": f"Bearer {api.token('nurse')}"}
    check = {"wristband": scene.wristband, "bag": scene.bag_scan}
    try:
        assert client.get(f"/api/v1/bags/{scene.bag.bag_code}", headers=headers).status_code == 200
        proxy.cut()
        for response in (client.get(f"/api/v1/bags/{scene.bag.bag_code}", headers=headers),
                         client.post("/api/v1/infusions/verify", json=check, headers=headers),
                         client.post("/api/v1/auth/token", json={"username": "nurse", "password": PASSWORD})):
            assert response.status_code == 503, response.get_data(as_text=True)
            assert response.is_json and set(response.get_json()) == {"error"}
        with app.app_context():  # straight to PostgreSQL: the refused check wrote nothing
            assert trail.verify_chain(db.session()).ok
        proxy.restore()
        assert client.get(f"/api/v1/bags/{scene.bag.bag_code}", headers=headers).status_code == 200
        verified = client.post("/api/v1/infusions/verify", json=check, headers=headers)
        assert verified.status_code == 200 and verified.get_json()["ok"] is True
        assert client.post("/api/v1/auth/token", json={"username": "nurse", "password": PASSWORD}).status_code == 201
    finally:
        proxied.extensions[db.EXTENSION].dispose()
        proxy.cut()
