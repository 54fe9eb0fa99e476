"""Rule 6 under real concurrency: 8 starts of one bag on 4 gunicorn workers against PostgreSQL.

Only a real multi-process server shows that the row lock holds across processes and connections; the
Flask test client runs requests one at a time. On SQLite the test is skipped: SQLite serialises every
writer (BEGIN IMMEDIATE), and a hospital runs PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from cellchain.core import db
from cellchain.ward.models import BedsideCheck, Infusion
from tests.conftest import signature
from tests.factories import ward
from tests.live_server import call, serving

STARTS = 8
WORKERS = 4


def _fire(port: int, tokens: list[str], body: dict) -> list[int]:
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []
    lock = threading.Lock()

    def one(token: str) -> None:
        barrier.wait()
        status, _ = call(port, "POST", "/api/v1/infusions", body, token, timeout=60)
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
    log = tmp_path / "gunicorn.log"
    with serving(database_url, log, workers=WORKERS, env={"CELLCHAIN_SITE_TIMEZONE": ward.TZ.key}) as server:
        statuses = _fire(server.port, [server.token("nurse") for _ in range(STARTS)], body)
    assert statuses == [201] + [409] * (STARTS - 1), log.read_text()
    with app.app_context():
        session = db.session()
        assert session.exec(select(func.count()).select_from(Infusion)).one() == 1
        attempts = list(session.exec(select(BedsideCheck).where(BedsideCheck.purpose == "start")))
        assert sorted(a.ok for a in attempts) == [False] * (STARTS - 1) + [True]
