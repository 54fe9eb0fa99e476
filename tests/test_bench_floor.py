"""The bench's floor (bench/floor_app.py) must do the bedside check's real database work, or the bench's
claim that it bounds what any implementation could reach means nothing: a token read that refuses a
stranger, the bedside read, one attempt and one audit entry that extends the chain, committed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cellchain import db
from cellchain.models.audit import AuditEntry
from cellchain.models.infusions import BedsideCheck
from cellchain.services import audit
from tests.factories import ward

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import floor_app  # bench/ is not a package: imported from its folder


@pytest.fixture
def floor(database_url: str):
    app = floor_app.create_app(database_url)
    yield app.test_client()
    app.extensions[floor_app.ENGINE].dispose()


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        session = db.session()
        return (session.scalar(select(func.count()).select_from(BedsideCheck)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _scene(app):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        found = {"wristband": scene.wristband, "bag": scene.bag_scan, "subject": scene.subject.subject_code,
                 "bag_code": scene.bag.bag_code}
        db.commit()
    return found


def test_floor_writes_one_attempt_and_one_audit_entry_that_extends_the_chain(app, api, floor):
    body, headers = _scene(app), api.headers("nurse")  # the token's own audit entry comes first
    before = _counts(app)
    response = floor.post("/floor", json=body, headers=headers)
    assert response.status_code == 200, response.data
    assert response.get_json()["ok"] is True
    assert response.get_json()["rows"] >= 1  # the bag's custody events came back with it
    assert _counts(app) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        assert audit.verify_chain(db.session()).ok
        entry = db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert (entry.record_type, entry.record_id, entry.actor) == (
            "bedside_check", str(response.get_json()["bedside_check_id"]), "nurse")


def test_floor_refuses_an_unknown_token_and_writes_nothing(app, floor):
    body = _scene(app)
    before = _counts(app)
    response = floor.post("/floor", json=body, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert _counts(app) == before
