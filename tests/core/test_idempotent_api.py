"""An API write sent again with the same Idempotency-Key (a retry after a lost answer, a scanner station's
resend, two requests racing) is recorded once and answered as the first time (docs/security.md,
"Idempotent API writes")."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import func, select

import cellchain.tables as tables
from cellchain.core import db, migrate
from cellchain.core.submissions.models import IdempotencyKey
from cellchain.core.types import utcnow
from cellchain.manufacturing import bags as bag_operations
from cellchain.manufacturing.models import Bag
from cellchain.overview.openapi import build_spec
from tests.conftest import PASSWORD, ApiActions
from tests.factories import materials
from tests.factories.lab import formulated_lot, in_db
from tests.factories.security import audit_count

FILL = {"count": 2, "volume_ml": 70, "total_cells": 70_000_000, "anticoagulant": "heparin",
        "anticoagulant_lot": "HEP2611A", "anticoagulant_volume_ml": 5}


def ready_lot(app) -> str:
    """A formulated lot, and the released heparin lot ``FILL`` names."""
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        return formulated_lot(session).lot_number


def bags_of(app, lot_id: str) -> int:
    with in_db(app) as session:
        return session.exec(select(func.count()).select_from(Bag).where(Bag.din == lot_id)).one()


def keys_named(app, key: str) -> list[IdempotencyKey]:
    with in_db(app) as session:
        return list(session.exec(select(IdempotencyKey).where(IdempotencyKey.idempotency_key == key)).all())


def audit_entries(app) -> int:
    with app.app_context():
        return audit_count(db.session())


def keyed_post(client, api: ApiActions, url: str, *, as_: str, key: str, json: dict):
    return client.post(url, json=json, headers={**api.headers(as_), "Idempotency-Key": key})


def test_a_fill_retried_with_the_same_idempotency_key_fills_once(app, client, api):
    lot_id = ready_lot(app)
    url = f"/api/v1/lots/{lot_id}/bags"
    first = keyed_post(client, api, url, as_="lab", key="fill-7f3a", json=FILL)
    assert first.status_code == 201, first.get_json()
    entries = audit_entries(app)
    retry = keyed_post(client, api, url, as_="lab", key="fill-7f3a", json=FILL)
    assert retry.status_code == 201 and retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert retry.headers.get("Location") == first.headers.get("Location")
    assert bags_of(app, lot_id) == 2 and audit_entries(app) == entries
    [kept] = keys_named(app, "fill-7f3a")
    assert kept.request_line == f"POST {url}" and kept.status == 201
    assert PASSWORD not in kept.request_digest and len(kept.request_digest) == 64


def placebo_bags(app, saline_lot: str) -> int:
    with in_db(app) as session:
        return session.exec(select(func.count()).select_from(Bag).where(Bag.saline_lot == saline_lot)).one()


def test_a_write_without_a_key_is_recorded_each_time_it_is_sent(app, api):
    materials.saline(app, "NSNOKEY")
    for _ in range(2):
        response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NSNOKEY"})
        assert response.status_code == 201
    assert placebo_bags(app, "NSNOKEY") == 2


def test_the_same_key_with_another_body_or_path_is_refused_422_and_writes_nothing(app, client, api):
    materials.saline(app, "NSKEY1")
    lot_id = ready_lot(app)
    url = f"/api/v1/lots/{lot_id}/bags"
    assert keyed_post(client, api, url, as_="lab", key="k-reused", json=FILL).status_code == 201
    entries = audit_entries(app)
    other_body = keyed_post(client, api, url, as_="lab", key="k-reused", json={**FILL, "count": 1})
    assert other_body.status_code == 422
    [reason] = other_body.get_json()["reasons"]
    assert reason["code"] == "idempotency_key_reused" and reason["params"] == {"first": f"POST {url}"}
    other_path = keyed_post(client, api, "/api/v1/placebo-bags", as_="lab", key="k-reused",
                            json={"count": 1, "saline_lot": "NSKEY1"})
    assert other_path.status_code == 422 and other_path.get_json()["reasons"][0]["code"] == "idempotency_key_reused"
    assert bags_of(app, lot_id) == 2 and audit_entries(app) == entries
    assert placebo_bags(app, "NSKEY1") == 0


def test_another_accounts_key_is_not_theirs_their_request_is_recorded_as_their_own(app, client, api):
    materials.saline(app, "NSSHARED")
    body = {"count": 1, "saline_lot": "NSSHARED"}
    mine = keyed_post(client, api, "/api/v1/placebo-bags", as_="lab", key="shared-key-1", json=body)
    theirs = keyed_post(client, api, "/api/v1/placebo-bags", as_="lab2", key="shared-key-1", json=body)
    assert mine.status_code == 201 and theirs.status_code == 201, theirs.get_json()
    assert "Idempotent-Replayed" not in theirs.headers  # lab2 is not handed lab's answer
    assert theirs.get_json() != mine.get_json() and placebo_bags(app, "NSSHARED") == 2
    assert len({row.user_id for row in keys_named(app, "shared-key-1")}) == 2  # one key each


class AnswerLostAfterCommit:
    """The connection drops once the server has answered (and committed), before the client reads a byte."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app, self.dropped = wsgi_app, False

    def __call__(self, environ, start_response):
        if self.dropped:
            return self.wsgi_app(environ, start_response)
        self.dropped = True
        for _chunk in self.wsgi_app(environ, lambda *args, **kwargs: None):  # the whole request runs
            pass
        raise ConnectionResetError("connection reset by peer")


def test_a_fill_whose_answer_was_lost_after_the_commit_is_answered_on_retry_and_fills_once(app, api):
    lot_id = ready_lot(app)
    url = f"/api/v1/lots/{lot_id}/bags"
    headers = {**api.headers("lab"), "Idempotency-Key": "lost-answer-1"}
    dropping = AnswerLostAfterCommit(app.wsgi_app)
    app.wsgi_app = dropping
    client = app.test_client()
    with pytest.raises(ConnectionResetError):
        client.post(url, json=FILL, headers=headers)
    assert bags_of(app, lot_id) == 2  # the server committed the fill; the client never heard
    retry = client.post(url, json=FILL, headers=headers)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert [b["bag_id"] for b in retry.get_json()["bags"]] == [f"{lot_id}-D0001VA0", f"{lot_id}-D0001VB0"]
    assert bags_of(app, lot_id) == 2


def test_a_refused_write_leaves_its_key_unused_so_the_corrected_request_is_recorded(app, client, api):
    lot_id = ready_lot(app)
    url = f"/api/v1/lots/{lot_id}/bags"
    refused = keyed_post(client, api, url, as_="lab", key="fix-me", json={**FILL, "count": "two"})
    assert refused.status_code == 400 and keys_named(app, "fix-me") == []
    fixed = keyed_post(client, api, url, as_="lab", key="fix-me", json=FILL)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert bags_of(app, lot_id) == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "two words", "caf\u00e9"])
def test_a_key_that_is_not_1_to_200_printable_characters_is_a_400_naming_the_header(app, client, api, key):
    lot_id = ready_lot(app)
    refused = client.post(f"/api/v1/lots/{lot_id}/bags", json=FILL,
                          headers={**api.headers("lab"), "Idempotency-Key": key.encode().decode("latin-1")})
    assert refused.status_code == 400 and "Idempotency-Key" in refused.get_json()["fields"]
    assert bags_of(app, lot_id) == 0


def test_a_key_of_200_characters_is_taken(app, client, api):
    lot_id = ready_lot(app)
    key = "K" * 200
    assert keyed_post(client, api, f"/api/v1/lots/{lot_id}/bags", as_="lab", key=key, json=FILL).status_code == 201
    assert len(keys_named(app, key)) == 1


def test_a_key_older_than_the_kept_hours_is_purged_and_free_again(app, client, api):
    materials.saline(app, "NSOLDKEY")
    body = {"count": 1, "saline_lot": "NSOLDKEY"}
    assert keyed_post(client, api, "/api/v1/placebo-bags", as_="lab", key="old-key", json=body).status_code == 201
    with in_db(app) as session:
        row = session.exec(select(IdempotencyKey).where(IdempotencyKey.idempotency_key == "old-key")).one()
        row.created_at = utcnow() - timedelta(hours=app.config["IDEMPOTENCY_KEY_HOURS"], minutes=1)
        session.add(row)
        session.commit()
    again = keyed_post(client, api, "/api/v1/placebo-bags", as_="lab", key="old-key", json=body)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert placebo_bags(app, "NSOLDKEY") == 2 and len(keys_named(app, "old-key")) == 1


def test_the_purge_command_deletes_only_keys_older_than_the_kept_hours(app, client, api):
    materials.saline(app, "NSPURGE")
    for key in ("purge-old", "purge-new"):
        response = keyed_post(client, api, "/api/v1/placebo-bags", as_="lab", key=key,
                              json={"count": 1, "saline_lot": "NSPURGE"})
        assert response.status_code == 201
    with in_db(app) as session:
        row = session.exec(select(IdempotencyKey).where(IdempotencyKey.idempotency_key == "purge-old")).one()
        row.created_at = utcnow() - timedelta(hours=25)
        session.add(row)
        session.commit()
    result = app.test_cli_runner().invoke(args=["idempotency-purge"])
    assert result.exit_code == 0 and "Purged 1 " in result.output
    assert keys_named(app, "purge-old") == [] and len(keys_named(app, "purge-new")) == 1


def test_a_token_asked_for_with_a_key_is_never_kept_in_the_key_ledger(app, client, api):
    response = client.post("/api/v1/auth/token", json={"username": "lab", "password": PASSWORD},
                           headers={**api.headers("lab"), "Idempotency-Key": "token-key"})
    assert response.status_code == 201
    assert keys_named(app, "token-key") == []


def test_two_requests_with_one_key_racing_fill_once_and_neither_is_a_500(app, api, monkeypatch):
    """Both requests reach the server together (two workers): the first holds its transaction open while the
    second claims the same key. On PostgreSQL the second's insert waits on the first's unique entry, then
    reads its answer; on SQLite the second waits for the one writer. Either way one fill."""
    materials.saline(app, "NSRACEKEY")
    headers = {**api.headers("lab"), "Idempotency-Key": "race-key-1"}
    body = {"count": 2, "saline_lot": "NSRACEKEY"}
    real_fill = bag_operations.fill_placebo

    def slow_fill(*args, **kwargs):
        filled = real_fill(*args, **kwargs)
        time.sleep(0.5)  # the write is done, its transaction still open: the other request arrives now
        return filled

    monkeypatch.setattr(bag_operations, "fill_placebo", slow_fill)
    start, answers = threading.Barrier(2), {}

    def send(n: int) -> None:
        start.wait()
        try:
            answers[n] = app.test_client().post("/api/v1/placebo-bags", json=body, headers=headers)
        except Exception as error:  # under TESTING an unhandled error is raised: that would be the 500
            answers[n] = error

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert placebo_bags(app, "NSRACEKEY") == 2
    statuses = sorted(getattr(a, "status_code", 500) for a in answers.values())
    assert statuses in ([201, 201], [201, 409]), answers
    if statuses == [201, 409]:
        waited = next(a for a in answers.values() if a.status_code == 409)
        assert waited.get_json()["reasons"][0]["code"] == "idempotency_key_in_flight"
    bodies = [a.get_json() for a in answers.values() if a.status_code == 201]
    assert all(answer == bodies[0] for answer in bodies)
    assert len(keys_named(app, "race-key-1")) == 1


def test_every_api_write_states_the_optional_idempotency_key_header_and_its_422(app):
    with app.app_context():
        spec = build_spec(app)
    writes = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
              if method in ("post", "put", "patch", "delete")]
    assert len(writes) > 50
    for path, method, operation in writes:
        [header] = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert header["required"] is False and header["schema"]["maxLength"] == 200, (path, method)
        assert "422" in operation["responses"], (path, method)
    reads = [op for item in spec["paths"].values() for method, op in item.items() if method == "get"]
    assert not any(p["name"] == "Idempotency-Key" for op in reads for p in op.get("parameters", []))


def test_migration_0018_adds_the_key_ledger_empty_and_the_schema_is_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0016_adverse_events")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, "
                                "auth_version, created_at) VALUES (1, 'old.lab', 'Old Lab', 'x', 1, 0, 1, "
                                "'2026-11-01 08:00:00')"))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM api_idempotency_keys")).scalar_one() == 0
        assert connection.execute(text("SELECT username FROM users")).scalar_one() == "old.lab"
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
