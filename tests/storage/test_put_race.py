"""Two lab technicians putting two different bags into one position at the same moment, on PostgreSQL:
exactly one wins, the other is refused with a 409 naming ``storage_position_taken``.

The check before the write cannot see a put that has not committed yet; the partial unique index over the
current placements is what decides, and the put turns its refusal into the named one. On SQLite every
writer queues for the write lock at BEGIN, so the race cannot happen there and these tests are skipped.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from cellchain.core import db
from cellchain.core.errors import Refused
from cellchain.manufacturing.models import Bag
from cellchain.storage.models import Placement, StorageBox
from tests.conftest import PASSWORD
from tests.factories import storage
from tests.factories.lab import in_db
from tests.factories.ward import bag_2d


def _scene(app):
    with in_db(app) as session:
        place = storage.site(session)
        first, second = storage.bag(session), storage.bag(session)
        return place.box.id, first.id, second.id, bag_2d(first), bag_2d(second)


def test_a_put_waiting_on_another_uncommitted_put_to_the_same_position_is_refused_by_name(app, is_postgres):
    if not is_postgres:
        pytest.skip("the race needs PostgreSQL's concurrent transactions (set TEST_DATABASE_URL)")
    box_id, first, second, *_ = _scene(app)
    outcome: dict[str, object] = {}

    def second_put() -> None:
        with app.app_context():
            session = db.session()
            try:
                storage.put(session, session.get(Bag, second), session.get(StorageBox, box_id), 1, 1)
                db.commit()
                outcome["second"] = "stored"
            except Refused as refusal:
                db.rollback()
                outcome["second"] = [r.code for r in refusal.reasons]

    with app.app_context():
        session = db.session()
        storage.put(session, session.get(Bag, first), session.get(StorageBox, box_id), 1, 1)  # not committed
        racer = threading.Thread(target=second_put)
        racer.start()
        racer.join(timeout=2)
        assert racer.is_alive(), "the second put should wait for the first to commit"
        db.commit()
    racer.join(timeout=30)
    assert outcome["second"] == ["storage_position_taken"]
    with app.app_context():
        assert db.session().exec(select(func.count()).select_from(Placement)).one() == 1


def test_two_simultaneous_api_puts_into_one_position_give_one_201_and_one_409(app, is_postgres):
    if not is_postgres:
        pytest.skip("the race needs PostgreSQL's concurrent transactions (set TEST_DATABASE_URL)")
    *_, first_scan, second_scan = _scene(app)
    clients = [app.test_client() for _ in range(2)]
    tokens = [c.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).get_json()["token"]
              for c, name in zip(clients, ("lab", "lab2"), strict=True)]
    barrier = threading.Barrier(2)
    answers: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def put(client, token: str, scan: str) -> None:
        barrier.wait()
        answer = client.post("/api/v1/storage/put", json={"container": scan, "target": "&cBX-0001-B2"},
                             headers={"Authorization": f"Bearer {token}"})
        with lock:
            answers.append((answer.status_code, [r["code"] for r in answer.get_json().get("reasons", [])]))

    threads = [threading.Thread(target=put, args=args)
               for args in zip(clients, tokens, (first_scan, second_scan), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [(201, []), (409, ["storage_position_taken"])]
    with app.app_context():
        assert db.session().exec(select(func.count()).select_from(Placement)).one() == 1
