"""A regulated record changed beside the application (an UPDATE typed with the database login) is named by
audit-verify (table, key, field, the trail's value, the row's value) from the CLI, the API and the auditor's
page, and the database's own row-change log shows it on the auditor's dashboard before anyone verifies;
on SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from cellchain.audit import reconcile, row_changes, trail
from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.manufacturing.models import Bag
from cellchain.people.accounts import Policy
from cellchain.trial.models import Subject
from tests.conftest import FAST_HASH


def _demo(app) -> tuple[str, str, int, str]:
    """The demo's data, loaded through the real operations; one randomized subject and one placebo bag."""
    with app.app_context():
        session = db.session()
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
        subject = session.exec(select(Subject).where(Subject.arm.is_not(None)).order_by(Subject.id)).first()
        bag = session.exec(select(Bag).where(Bag.kind == "placebo").order_by(Bag.id)).first()
        return subject.subject_code, subject.arm, bag.id, bag.bag_code


def _outside(app, statement: str, params: dict) -> None:
    """A statement run with the database login, as someone at a psql or sqlite3 prompt would: the
    driver's own connection, none of the application's engine."""
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database)
        try:
            connection.execute(statement.replace("%(", ":").replace(")s", ""), params)
            connection.commit()
        finally:
            connection.close()
    else:
        with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as connection:
            connection.execute(statement, params)


def _tamper(app) -> tuple[str, str, str, int]:
    subject_code, arm, bag_id, _bag_code = _demo(app)
    other = "B" if arm == "A" else "A"
    _outside(app, "UPDATE subjects SET arm = %(arm)s WHERE subject_code = %(code)s",
             {"arm": other, "code": subject_code})
    _outside(app, "UPDATE bags SET kind = 'ucmsc' WHERE id = %(id)s", {"id": bag_id})
    return subject_code, arm, other, bag_id


def test_audit_verify_names_each_field_changed_outside_the_application(app, runner):
    subject_code, arm, other, bag_id = _tamper(app)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"subjects {subject_code}: arm is {other!r}".replace("'", '"') in result.output
    assert f'the trail says "{arm}"' in result.output
    assert f'bags {bag_id}: kind is "ucmsc", the trail says "placebo"' in result.output
    assert "ok: " in result.output.splitlines()[0]  # the chain itself is intact: only the rows differ
    with app.app_context():
        found = reconcile.reconcile(db.session(), batch=7)  # rows read a few at a time, as a large site would
    assert {(d.table, d.key, d.field, d.trail_value, d.current_value) for d in found.differences} == {
        ("subjects", subject_code, "arm", arm, other), ("bags", str(bag_id), "kind", "placebo", "ucmsc")}


def test_demo_records_hold_what_the_trail_recorded(app, runner):
    _demo(app)
    with app.app_context():
        found = reconcile.reconcile(db.session())
        assert found.ok, [d.describe() for d in found.differences]
        assert found.rows > 100 and found.fields > 500
        assert row_changes.count(db.session()) == 0  # the application's own writes are not logged
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_the_api_and_the_auditors_page_name_the_differing_fields(app, api, auth):
    subject_code, arm, other, bag_id = _tamper(app)
    body = api.get("/api/v1/audit/verify", as_="auditor").get_json()
    assert body["ok"] is False and body["first_bad"] is None  # the chain verifies; the records do not
    named = {(d["table"], d["key"], d["field"], d["trail_value"], d["current_value"])
             for d in body["records"]["differences"]}
    assert named == {("subjects", subject_code, "arm", arm, other), ("bags", str(bag_id), "kind", "placebo", "ucmsc")}
    assert body["records"]["difference_count"] == 2 and body["outside_changes"] == 2
    auth.login("auditor")
    page = auth._client.get("/audit/verify").get_data(as_text=True)
    assert 'data-testid="record-differences"' in page
    assert (f'<td data-stored>{subject_code}</td><td data-stored>arm</td><td data-stored>&#34;{arm}&#34;</td>'
            f'<td data-stored>&#34;{other}&#34;</td>') in page


def test_outside_changes_are_logged_by_the_database_and_shown_on_the_auditors_dashboard(app, auth):
    subject_code, _arm, _other, bag_id = _tamper(app)
    _outside(app, "DELETE FROM user_roles WHERE role = %(role)s AND user_id = (SELECT id FROM users WHERE "
                  "username = %(name)s)", {"role": "nurse", "name": "nurse2"})
    with app.app_context():
        logged = [(c.table_name, c.row_key, c.operation) for c in row_changes.newest(db.session())]
    assert logged[1:] == [("bags", str(bag_id), "UPDATE"), ("subjects", subject_code, "UPDATE")]
    assert logged[0][0::2] == ("user_roles", "DELETE")
    auth.login("auditor")
    page = auth._client.get("/").get_data(as_text=True)
    panel = page[page.index('data-testid="outside-changes"'):]
    assert f"<td data-stored>subjects</td><td data-stored>{subject_code}</td>" in panel
    assert f"<td data-stored>bags</td><td data-stored>{bag_id}</td>" in panel
    assert page.index('data-testid="outside-changes"') < page.index('data-testid="audit-areas"')


def test_the_log_refuses_to_be_rewritten_and_the_application_writes_are_not_in_it(app, auth):
    _tamper(app)
    engine = create_engine(db.normalize_url(app.config["DATABASE_URL"]))
    try:
        with engine.begin() as connection:
            before = connection.execute(text("SELECT count(*) FROM row_changes")).scalar_one()
        for statement in ("UPDATE row_changes SET table_name = 'x'", "DELETE FROM row_changes"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:  # either driver's
                connection.execute(text(statement))
        assert auth.login("nurse").status_code in (302, 303)  # a login is an audited write by the application
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM row_changes")).scalar_one() == before
    finally:
        engine.dispose()


def test_qa_reviews_the_outside_changes_and_the_auditors_dashboard_no_longer_lists_them(app, auth):
    subject_code, _arm, _other, _bag_id = _tamper(app)
    auth.login("auditor")
    assert 'data-testid="outside-changes"' in auth._client.get("/").get_data(as_text=True)
    listing = auth._client.get("/audit/changes").get_data(as_text=True)
    assert f"<td data-stored>{subject_code}</td>" in listing and "Record the review" not in listing  # reads only
    auth.logout()
    auth.login("qa")
    with app.app_context():
        newest = row_changes.newest(db.session())[0].id
    refused = auth.post("/audit/changes/review", data={"through": str(newest), "note": "  "})
    assert refused.status_code == 400 and "say what the changes were" in refused.get_data(as_text=True)
    done = auth.post("/audit/changes/review", data={"through": str(newest),
                                                    "note": "arm and kind typed in by the DBA; put back, deviation"})
    assert done.status_code == 303
    again = auth.post("/audit/changes/review", data={"through": str(newest), "note": "again"})
    assert again.status_code == 409 and 'data-reason="no_outside_changes_to_review"' in again.get_data(as_text=True)
    with app.app_context():
        session = db.session()
        assert row_changes.newest(session) == [] and row_changes.count(session) == 2
        entry = trail.history(session, "row_changes", newest)[-1]
    assert entry.actor == "qa" and entry.action == "review" and "put back, deviation" in entry.new_values
    auth.logout()
    auth.login("auditor")
    assert 'data-testid="outside-changes"' not in auth._client.get("/").get_data(as_text=True)
