"""Rule 6 under real concurrency: 8 starts of one bag on 4 gunicorn workers against PostgreSQL.

Only a real multi-process server shows that the row lock holds across processes and connections; the
Flask test client runs requests one at a time. On SQLite the test is skipped: SQLite serialises every
writer (BEGIN IMMEDIATE), and a hospital runs PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import func, select

from cellchain import ROOT, db
from cellchain.models.infusions import BedsideCheck, Infusion
from tests.conftest import FAST_HASH, PASSWORD, signature
from tests.factories import ward

STARTS = 8
WORKERS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _wait_until_up(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            status, _ = _request(port, "GET", "/api/v1/auth/me")
            if status == 401:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


def _start_server(database_url: str, port: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    assert gunicorn.exists(), f"gunicorn is not installed next to {sys.executable}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "race-test-secret",
           "CELLCHAIN_PASSWORD_HASH_METHOD": json.dumps(FAST_HASH),
           "CELLCHAIN_SITE_TIMEZONE": ward.TZ.key}
    with log.open("wb") as out:
        command = [str(gunicorn), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "cellchain:create_app()"]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _fire(port: int, tokens: list[str], body: dict) -> list[int]:
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []
    lock = threading.Lock()

    def one(token: str) -> None:
        barrier.wait()
        status, _ = _request(port, "POST", "/api/v1/infusions", body, token)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


def test_eight_concurrent_starts_of_one_bag_on_four_workers_give_exactly_one_infusion(
        app, database_url, is_postgres, tmp_path):
    if not is_postgres:
        pytest.skip("the race needs PostgreSQL and several server processes (set TEST_DATABASE_URL)")
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    body = {"wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
            "ultrasound_monitored": True}
    port, log = _free_port(), tmp_path / "gunicorn.log"
    server = _start_server(database_url, port, log)
    try:
        _wait_until_up(port, server, log)
        tokens = []
        for _ in range(STARTS):
            status, answer = _request(port, "POST", "/api/v1/auth/token", {"username": "nurse", "password": PASSWORD})
            assert status == 201, answer
            tokens.append(answer["token"])
        statuses = _fire(port, tokens, body)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert statuses == [201] + [409] * (STARTS - 1), log.read_text()
    with app.app_context():
        session = db.session()
        assert session.exec(select(func.count()).select_from(Infusion)).one() == 1
        attempts = list(session.exec(select(BedsideCheck).where(BedsideCheck.purpose == "start")))
        assert sorted(a.ok for a in attempts) == [False] * (STARTS - 1) + [True]
