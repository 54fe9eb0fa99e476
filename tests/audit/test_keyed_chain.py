"""The keyed, anchored audit chain: attacks made with the application's own database login (plain SQL)
and as a DBA (triggers dropped, the whole chain re-hashed, the end cut off and the head moved back) are
located by audit-verify, on SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid

import pytest
from sqlalchemy import create_engine, text

from cellchain import create_app
from cellchain.audit import append_only, checkpoints, keyring, trail
from cellchain.audit import models as chain_head
from cellchain.audit.rules.hash_chain import GENESIS_HASH, entry_hash
from cellchain.core import db, migrate
from cellchain.demo.loader import PEOPLE
from tests.conftest import FAST_HASH

COLUMNS = ("seq", "recorded_at", "actor", "record_type", "record_id", "action", "old_values", "new_values",
           "reason", "prev_hash", "hash", "key_id", "seal")


def _engine(app):
    return create_engine(db.normalize_url(app.config["DATABASE_URL"]))


def _write(app, count: int, record_type: str = "test") -> None:
    with app.app_context():
        for n in range(count):
            trail.record(db.session(), actor=None, record_type=record_type, record_id=n, action="create",
                         new={"n": n})
        db.commit()


def _verify(app, *, incremental: bool = False):
    with app.app_context():
        return trail.verify_chain(db.session(), incremental=incremental)


def _head(conn) -> tuple[int, str]:
    return tuple(conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one())


def _forge_release(conn, *, key_id=None, seal=None) -> int:
    """What the database login can do: an entry 'qa released lot ...' that correctly extends the chain."""
    seq, prev = _head(conn)
    entry = {"seq": seq + 1, "recorded_at": "2026-12-01T09:00:00.000000Z", "actor": "qa", "record_type": "lot",
             "record_id": "7", "action": "release", "old_values": '{"status":"quarantine"}',
             "new_values": '{"status":"released"}', "reason": None, "prev_hash": prev}
    entry["hash"] = entry_hash(**entry)
    conn.execute(text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                      "old_values, new_values, reason, prev_hash, hash, key_id, seal) VALUES (:seq, :recorded_at, "
                      ":actor, :record_type, :record_id, :action, :old_values, :new_values, :reason, :prev_hash, "
                      ":hash, :key_id, :seal)"), {**entry, "key_id": key_id, "seal": seal})
    return seq + 1


def _as_dba(app, is_postgres: bool, work) -> None:
    """A DBA: lift every trigger on the audit table, change it, put the triggers back."""
    engine = _engine(app)
    with engine.begin() as conn:
        if is_postgres:
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            for statement in (*append_only.drop_sql("sqlite", "audit_entries"), *chain_head.drop_sql("sqlite")):
                conn.execute(text(statement))
        work(conn)
        if is_postgres:
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
        else:
            for statement in (*append_only.create_sql("sqlite", "audit_entries"), *chain_head.create_sql("sqlite")):
                conn.execute(text(statement))
    engine.dispose()


def _checkpoint(runner) -> None:
    result = runner.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0, result.output


def test_every_entry_is_sealed_with_the_active_key(app):
    _write(app, 3)
    with app.app_context():
        keys = keyring.for_app()
        rows = db.session().connection().execute(text("SELECT key_id, seal FROM audit_entries")).all()
    assert {key_id for key_id, _ in rows} == {keys.active_id}
    assert all(seal and len(seal) == 64 for _, seal in rows)
    assert _verify(app).ok


def test_entry_inserted_by_the_database_login_is_located_by_its_number(app, runner, api, client, auth):
    engine = _engine(app)
    with engine.begin() as conn:
        forged = _forge_release(conn)
    engine.dispose()
    _write(app, 2)  # the application goes on writing after it: the chain's links all hold
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {forged}: no seal" in result.output
    body = api.get("/api/v1/audit/verify", as_="auditor").get_json()
    assert body["ok"] is False and body["first_bad"] == forged
    assert [p["seq"] for p in body["problems"]] == [forged]
    auth.login("auditor")
    page = client.get("/audit/verify?scope=full").get_data(as_text=True)
    assert "Broken" in page and f"<td>{forged}</td>" in page


def test_entry_inserted_with_a_seal_copied_from_another_entry_is_located(app, runner):
    engine = _engine(app)
    with engine.begin() as conn:
        key_id, seal = conn.execute(text("SELECT key_id, seal FROM audit_entries WHERE seq = 1")).one()
        forged = _forge_release(conn, key_id=key_id, seal=seal)
    engine.dispose()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {forged}: seal does not match" in result.output


def test_dba_rehashing_the_whole_chain_after_an_edit_is_found(app, runner, is_postgres):
    _checkpoint(runner)

    def rehash(conn):
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in
                conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM audit_entries ORDER BY seq")).all()]
        rows[0]["new_values"] = rows[0]["new_values"].replace("Li Wei", "Mallory")
        prev = GENESIS_HASH
        conn.execute(text("DELETE FROM audit_entries"))
        for row in rows:  # every link and hash recomputed, as anyone can without the key
            row["prev_hash"] = prev
            row["hash"] = prev = entry_hash(**{k: row[k] for k in COLUMNS[:10]})
            conn.execute(text(f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) VALUES "
                              f"({', '.join(':' + c for c in COLUMNS)})"), row)
        conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})

    _as_dba(app, is_postgres, rehash)
    report = _verify(app)
    assert not report.ok and report.first_bad == 1
    assert "seal does not match" in report.problem
    assert any("differs from the checkpoint" in problem for _, problem in report.problems)
    assert not _verify(app, incremental=True).ok


def test_dba_cutting_the_last_entries_and_moving_the_head_back_is_found(app, runner, is_postgres):
    _write(app, 5)
    _checkpoint(runner)
    cut_from = len(PEOPLE) + 3

    def truncate(conn):
        conn.execute(text("DELETE FROM audit_entries WHERE seq >= :s"), {"s": cut_from})
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = (SELECT hash FROM audit_entries WHERE seq = :s) "
                          "WHERE id = 1"), {"s": cut_from - 1})

    _as_dba(app, is_postgres, truncate)
    for incremental in (False, True):
        report = _verify(app, incremental=incremental)
        assert not report.ok and report.first_bad == cut_from
        assert "entries were cut off the end" in report.problem
    result = runner.invoke(args=["audit-verify", "--incremental"])
    assert result.exit_code == 1 and f"BROKEN at entry {cut_from}" in result.output


def test_incremental_verify_reads_only_what_was_written_since_the_checkpoint(app, runner):
    _write(app, 4)
    _checkpoint(runner)
    with app.app_context():
        since = _head(db.session().connection())[0]
    _write(app, 6)
    report = _verify(app, incremental=True)
    assert report.ok and report.checked_from == since and report.entries == 7
    assert report.checkpoint["seq"] == since
    engine = _engine(app)
    with engine.begin() as conn:
        forged = _forge_release(conn)
    engine.dispose()
    report = _verify(app, incremental=True)
    assert not report.ok and report.first_bad == forged
    result = runner.invoke(args=["audit-verify", "--incremental"])
    assert f"entries {since} to the head" in result.output


def test_auditors_page_verifies_from_the_checkpoint_and_prints_it(app, runner, client, auth):
    _write(app, 3)
    _checkpoint(runner)
    auth.login("auditor")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "Intact" in page
    newest = checkpoints.last(app.config["AUDIT_CHECKPOINT_DIR"])
    assert f"From the newest checkpoint's entry ({newest.seq})" in page
    assert newest.hash in page and newest.key_id in page and newest.at in page


def test_checkpoints_are_written_after_commit_and_copied_to_the_second_place(database_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
                      "PASSWORD_HASH_METHOD": FAST_HASH, "AUDIT_CHECKPOINT_DIR": str(tmp_path / "main"),
                      "AUDIT_CHECKPOINT_COPY_DIR": str(tmp_path / "copy"), "AUDIT_CHECKPOINT_EVERY_ENTRIES": 5,
                      "AUDIT_CHECKPOINT_EVERY_SECONDS": 3600})
    for _ in range(4):
        _write(app, 3)
    written, problems = checkpoints.read_all(tmp_path / "main")
    # The first commit finds no checkpoint; then one each time the head has moved five entries or more.
    assert not problems and [c.seq for c in written] == [len(PEOPLE) + 3, len(PEOPLE) + 9]
    copy, main = (tmp_path / place / checkpoints.LOG_NAME for place in ("copy", "main"))
    assert copy.read_text() == main.read_text()
    assert _verify(app).checkpoints == len(written)
    app.extensions[db.EXTENSION].dispose()


def test_checkpoint_line_written_without_the_key_is_reported(app, runner):
    _checkpoint(runner)
    directory = app.config["AUDIT_CHECKPOINT_DIR"]
    newest = checkpoints.last(directory)
    forged = json.dumps({"seq": newest.seq, "hash": newest.hash, "at": newest.at, "key_id": newest.key_id,
                         "mac": "0" * 64})
    with open(checkpoints.log_path(directory), "a") as log:
        log.write(forged + "\n")
    report = _verify(app)
    assert not report.ok and report.first_bad is None
    assert "not signed by a key of the keyring" in report.problem


def test_checkpoint_line_forged_far_ahead_does_not_hold_back_the_next_checkpoint(app, runner):
    _checkpoint(runner)
    directory = app.config["AUDIT_CHECKPOINT_DIR"]
    newest = checkpoints.last(directory)
    with open(checkpoints.log_path(directory), "a") as log:
        log.write(json.dumps({"seq": newest.seq + 1000, "hash": "f" * 64, "at": newest.at, "key_id": newest.key_id,
                              "mac": "0" * 64}) + "\n")
    _write(app, 2)
    with app.app_context():
        head = _head(db.session().connection())
        assert checkpoints.write(app.config, *head, force=True).seq == head[0]


def test_rotated_key_seals_new_entries_and_old_ones_still_verify(database_url, tmp_path):
    ring = tmp_path / "keys.json"
    shutil.copyfile(keyring.default_path(create_app({"TESTING": True, "DATABASE_URL": "sqlite://",
                                                     "SECRET_KEY": "x"}).instance_path), ring)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
                      "PASSWORD_HASH_METHOD": FAST_HASH, "AUDIT_KEYRING": str(ring)})
    old_id = keyring.load(ring).active_id
    result = app.test_cli_runner().invoke(args=["audit-rotate-key"])
    assert result.exit_code == 0, result.output
    new_id = keyring.load(ring).active_id
    assert new_id != old_id and set(keyring.load(ring).secrets) == {old_id, new_id}
    _write(app, 2)
    with app.app_context():
        rows = db.session().connection().execute(text(
            "SELECT record_type, action, old_values, new_values, key_id FROM audit_entries ORDER BY seq")).all()
    rotation = next(row for row in rows if row.record_type == "audit_key")
    assert json.loads(rotation.old_values) == {"active_key_id": old_id}
    assert json.loads(rotation.new_values) == {"active_key_id": new_id}
    secrets = {secret.hex() for secret in keyring.load(ring).secrets.values()}
    assert not any(secret in (row.old_values or "") + (row.new_values or "") for row in rows for secret in secrets)
    assert rows[0].key_id == old_id and rows[-1].key_id == new_id
    assert stat.S_IMODE(os.stat(ring).st_mode) == 0o600
    assert _verify(app).ok
    assert checkpoints.last(app.config["AUDIT_CHECKPOINT_DIR"]).key_id == new_id
    app.extensions[db.EXTENSION].dispose()


def test_entries_without_the_rotated_out_key_in_the_keyring_do_not_verify(database_url, tmp_path):
    """A host given a keyring without the key that sealed the entries says so, by key id."""
    ring = tmp_path / "other.json"
    keyring.ensure(ring)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
                      "PASSWORD_HASH_METHOD": FAST_HASH, "AUDIT_KEYRING": str(ring)})
    report = _verify(app)
    assert not report.ok and report.first_bad == 1 and "sealed with unknown key" in report.problem
    app.extensions[db.EXTENSION].dispose()


def test_a_named_keyring_that_is_missing_stops_writes_instead_of_starting_a_new_key(database_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "AUDIT_KEYRING": str(tmp_path / "mount" / "keys.json")})
    with app.app_context(), pytest.raises(keyring.KeyringError, match="does not exist"):
        trail.record(db.session(), actor=None, record_type="test", record_id=1, action="create")
    assert not (tmp_path / "mount" / "keys.json").exists()
    app.extensions[db.EXTENSION].dispose()


def test_init_db_makes_a_private_keyring_and_the_first_checkpoint(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x",
                      "AUDIT_KEYRING": str(tmp_path / "keys" / "audit.json"),
                      "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints")})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / "audit.json").st_mode) == 0o600
    _write(app, 1)
    assert runner.invoke(args=["init-db"]).exit_code == 0  # a second run writes the head's checkpoint
    assert checkpoints.last(tmp_path / "checkpoints").seq == 1
    app.extensions[db.EXTENSION].dispose()


def test_entries_written_before_keys_are_sealed_by_the_migration_and_verify(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0010_partial_infusion")
    engine = create_engine(url)
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            entry = {"seq": seq, "recorded_at": f"2026-10-0{seq}T08:00:00.000000Z", "actor": "system",
                     "record_type": "user", "record_id": str(seq), "action": "create", "old_values": None,
                     "new_values": '{"username":"x"}', "reason": None, "prev_hash": prev}
            entry["hash"] = prev = entry_hash(**entry)
            conn.execute(text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                              "old_values, new_values, reason, prev_hash, hash) VALUES (:seq, :recorded_at, :actor, "
                              ":record_type, :record_id, :action, :old_values, :new_values, :reason, :prev_hash, "
                              ":hash)"), entry)
    ring = tmp_path / "keys.json"
    keyring.ensure(ring)
    migrate.upgrade(url, audit_keyring=str(ring))
    with engine.begin() as conn:
        sealing = conn.execute(text("SELECT seq, new_values, key_id FROM audit_entries WHERE action = 'seal_existing'"
                                    )).one()
        with pytest.raises(Exception, match="append-only"):  # the trigger is back
            conn.execute(text("UPDATE audit_entries SET seal = NULL WHERE seq = 1"))
    engine.dispose()
    key_id = keyring.load(ring).active_id
    assert sealing.seq == 4 and sealing.key_id == key_id
    assert json.loads(sealing.new_values) == {"key_id": key_id, "entries": 3, "through_seq": 3, "through_hash": prev}
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x", "AUDIT_KEYRING": str(ring)})
    report = _verify(app)
    assert report.ok and report.entries == 4
    app.extensions[db.EXTENSION].dispose()
