"""The audit trail: written with each change, chained, append-only at the database, verifiable."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cellchain.audit import trail
from cellchain.core import db
from cellchain.demo.loader import PEOPLE


def _write_entries(app, count: int) -> None:
    with app.app_context():
        for n in range(count):
            trail.record(db.session(), actor=None, record_type="test", record_id=n, action="create",
                         new={"n": n, "text": "ünïcødé"})
        db.commit()


def _raw_engine(app):
    return create_engine(db.normalize_url(app.config["DATABASE_URL"]))


def test_demo_people_are_in_an_intact_chain(app, runner):
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert f"ok: {len(PEOPLE)} entries verify" in result.output


def test_database_refuses_update_of_an_audit_entry(app):
    engine = _raw_engine(app)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1"))
    engine.dispose()


def test_database_refuses_delete_of_an_audit_entry(app):
    engine = _raw_engine(app)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    engine.dispose()


def _head(conn) -> tuple[int, str]:
    return tuple(conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one())


@pytest.mark.parametrize("fork", ["an old previous hash", "a skipped number"])
def test_database_refuses_an_entry_that_does_not_extend_the_chain(app, fork):
    """Someone writing SQL by hand cannot fork or skip the chain: the insert trigger checks the head."""
    engine = _raw_engine(app)
    with engine.connect() as conn:
        seq, head_hash = _head(conn)
        prev = conn.execute(text("SELECT prev_hash FROM audit_entries WHERE seq = :s"), {"s": seq}).scalar_one()
    forged = {"seq": seq + 1, "prev": prev} if fork == "an old previous hash" else {"seq": seq + 2, "prev": head_hash}
    with pytest.raises(DBAPIError, match="must extend the chain head"), engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                          "prev_hash, hash) VALUES (:seq, '2026-01-01T00:00:00.000000Z', 'mallory', 'lot', 'L1', "
                          "'release', :prev, 'forged')"), forged)
    with engine.connect() as conn:
        assert _head(conn) == (seq, head_hash)
    engine.dispose()


def test_appending_an_entry_moves_the_recorded_head(app):
    with app.app_context():
        link = trail.record(db.session(), actor=None, record_type="lot", record_id="L1", action="update")
        db.commit()
        assert _head(db.session().connection()) == (link.seq, link.hash)
        assert trail.verify_chain(db.session()).ok


def test_database_refuses_update_of_a_signature(app):
    engine = _raw_engine(app)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO signatures (user_id, signer_username, signer_name, meaning, signed_at, "
                          "record_type, record_id, record_hash) VALUES (1, 'lab', 'Li', 'performed', "
                          "'2026-01-01 00:00:00', 'test', '1', 'x')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE signatures SET meaning = 'released'"))
    engine.dispose()


def _tamper(app, statement: str, is_postgres: bool) -> None:
    """What someone with database superpowers could do: drop the guard, edit, put the guard back."""
    engine = _raw_engine(app)
    with engine.begin() as conn:
        if is_postgres:
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
            conn.execute(text(statement))
    engine.dispose()


def test_edited_audit_value_is_detected_and_located(app, runner, client, api, is_postgres):
    _tamper(app, "UPDATE audit_entries SET new_values = replace(new_values, 'Li Wei', 'Mallory') WHERE seq = 1",
            is_postgres)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "BROKEN at entry 1" in result.output
    body = api.get("/api/v1/audit/verify", as_="auditor").get_json()
    assert body["ok"] is False and body["first_bad"] == 1


def test_deleted_audit_entry_in_the_middle_is_located(app, runner, is_postgres):
    _tamper(app, "DELETE FROM audit_entries WHERE seq = 4", is_postgres)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "BROKEN at entry 4" in result.output


def test_entries_cut_off_the_end_are_detected(app, runner, is_postgres):
    _tamper(app, "DELETE FROM audit_entries WHERE seq >= 7", is_postgres)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"recorded head is entry {len(PEOPLE)}" in result.output


def test_every_entry_records_who_when_what_and_values(app):
    with app.app_context():
        entry = trail.record(db.session(), actor=None, record_type="lot", record_id="L1", action="update",
                             old={"status": "quarantine"}, new={"status": "released"}, reason="QC passed")
        db.commit()
        stored = trail.history(db.session(), "lot", "L1")
        assert [e.seq for e in stored] == [entry.seq]
        assert stored[0].actor == "system" and stored[0].recorded_at.endswith("Z")
        assert stored[0].old_values == '{"status":"quarantine"}' and stored[0].reason == "QC passed"


def test_rolled_back_request_leaves_no_audit_entry(app):
    with app.app_context():
        trail.record(db.session(), actor=None, record_type="test", record_id=1, action="create")
        db.rollback()
        assert trail.count(db.session(), trail.AuditFilter(record_type="test")) == 0


def test_concurrent_writers_leave_one_unbroken_chain(app, is_postgres):
    if not is_postgres:
        pytest.skip("the eight-thread race is run against PostgreSQL (TEST_DATABASE_URL)")
    threads = [threading.Thread(target=_write_entries, args=(app, 25)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        report = trail.verify_chain(db.session())
    assert report.ok, report
    assert report.entries == len(PEOPLE) + 8 * 25


def test_concurrent_writers_on_sqlite_also_leave_one_chain(app, is_postgres):
    if is_postgres:
        pytest.skip("SQLite variant")
    threads = [threading.Thread(target=_write_entries, args=(app, 10)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        report = trail.verify_chain(db.session())
    assert report.ok and report.entries == len(PEOPLE) + 40


def test_auditor_filters_the_trail_and_exports_csv(client, auth):
    auth.login("auditor")
    page = client.get("/audit/?actor=system&record_type=user")
    assert page.status_code == 200
    assert f"{len(PEOPLE)} entries".encode() in page.data
    export = client.get("/audit/export.csv?record_type=user&actor=system")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.data.decode().strip().splitlines()
    assert lines[0].startswith("seq,recorded_at,actor") and len(lines) == len(PEOPLE) + 1
    assert client.get("/audit/?since=yesterday").status_code == 400


def test_auditor_sees_the_chain_verdict_page(client, auth):
    auth.login("auditor")
    page = client.get("/audit/verify")
    assert b"Intact" in page.data
