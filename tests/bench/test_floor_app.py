"""The bench's driver-path endpoints (bench/floor_app.py) must do the bedside check's real work, or the
bench's claim that they bound what any implementation could reach means nothing. Both must read the
token live and refuse a stranger. Both must write one attempt and one audit entry that extends the chain.
``/check`` must also judge as the product does: all pass for a ready bedside, and the wrong patient
refused by name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cellchain.audit import trail
from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.ward.models import BedsideCheck
from cellchain.ward.rules import bedside_checks
from tests.factories import ward

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import floor_app  # bench/ is not a package: imported from its folder


@pytest.fixture
def driver(database_url: str):
    app = floor_app.create_app(database_url)
    yield app.test_client()
    app.extensions[floor_app.ENGINE].dispose()


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        session = db.session()
        return (session.scalar(select(func.count()).select_from(BedsideCheck)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _bedside(app, **kwargs) -> dict[str, str]:
    with app.app_context():
        scene = ward.bedside_ready(db.session(), **kwargs)
        found = {"wristband": scene.wristband, "bag": scene.bag_scan, "subject": scene.subject.subject_code,
                 "bag_code": scene.bag.bag_code}
        db.commit()
    return found


def _last_entry(app) -> AuditEntry:
    with app.app_context():
        assert trail.verify_chain(db.session()).ok
        return db.session().scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()


@pytest.mark.parametrize("path", ["/floor", "/check"])
def test_driver_path_records_one_attempt_and_one_chained_audit_entry(app, api, driver, path):
    body, headers = _bedside(app), api.headers("nurse")  # the token's own audit entry comes first
    before = _counts(app)
    response = driver.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.data
    answer = response.get_json()
    assert answer["ok"] is True
    assert [c["name"] for c in answer["checks"]] == list(bedside_checks.CHECK_NAMES)
    assert _counts(app) == (before[0] + 1, before[1] + 1)
    entry = _last_entry(app)
    assert (entry.record_type, entry.record_id, entry.actor) == ("bedside_check", str(answer["bedside_check_id"]),
                                                                 "nurse")


def test_driver_check_refuses_the_wrong_patient_as_the_product_does(app, api, driver):
    first, second = _bedside(app), _bedside(app)
    response = driver.post("/check", json={"wristband": second["wristband"], "bag": first["bag"]},
                           headers=api.headers("nurse"))
    assert response.status_code == 200
    failed = {c["name"]: c["detail"] for c in response.get_json()["checks"] if not c["ok"]}
    assert "WRONG PATIENT" in failed["right_subject"]


@pytest.mark.parametrize("path", ["/floor", "/check"])
def test_driver_path_refuses_an_unknown_token_and_writes_nothing(app, driver, path):
    body = _bedside(app)
    before = _counts(app)
    response = driver.post(path, json=body, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert _counts(app) == before
