"""Print jobs are spooled: the job and its labels are committed queued before the printer is asked, the send
holds no transaction open, and a job a crash left queued is sent again once it has waited longer than a send
may take. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import sqlite3
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.labelling.printing import queue, transport
from cellchain.labelling.printing.models import PrintJob
from cellchain.labelling.views import label_settings
from cellchain.people import accounts
from tests.factories import labels as make
from tests.factories.labels import prints, rows
from tests.labelling.test_printers import Listener, _closed_port, _document, _printer

LOOK = ("SELECT j.status, j.attempts, (SELECT count(*) FROM label_prints WHERE status = 'printed'), "
        "(SELECT count(*) FROM audit_entries WHERE record_type = 'print_job') FROM print_jobs j")


def _look_from_elsewhere(url: str) -> tuple:
    """What another connection reads while the printer has the job and has not answered, and whether it can
    take the locks a request takes (SQLite's write lock; on PostgreSQL the job's row and the audit head's)
    without waiting: it cannot if the request that sends the job still holds a transaction."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database, timeout=0.2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            seen = connection.execute(LOOK).fetchall()
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return tuple(seen)
    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False)) as connection:
        connection.execute("SET lock_timeout = '200ms'")
        seen = connection.execute(LOOK + " FOR UPDATE OF j NOWAIT").fetchall()
        connection.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")
        connection.rollback()
    return tuple(seen)


class _SlowIppPrinter(BaseHTTPRequestHandler):
    """An IPP printer that, having read the whole job, looks into the database before it answers."""

    database_url = ""
    seen: list = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            type(self).seen.append(_look_from_elsewhere(self.database_url))
        except Exception as error:  # what blocked is the finding: the test shows it
            type(self).seen.append(f"blocked: {error}")
        answer = struct.pack(">BBHI", 1, 1, 0x0000, struct.unpack(">I", body[4:8])[0]) + b"\x03"
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


def _print_job_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session().exec(select(AuditEntry.action).where(AuditEntry.record_type == "print_job")
                                      .order_by(AuditEntry.seq)).all())


def test_the_job_is_committed_queued_before_the_printer_answers_and_no_lock_is_held_meanwhile(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    _SlowIppPrinter.database_url, _SlowIppPrinter.seen = app.config["DATABASE_URL"], []
    server = HTTPServer(("127.0.0.1", 0), _SlowIppPrinter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        printer = _printer(api, kind="pdf", address=f"ipp://127.0.0.1:{server.server_port}/printers/labels",
                           name="Office CUPS")
        sent = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                                "key": bag.bag_code})
    finally:
        server.shutdown()
        server.server_close()
    assert sent.status_code == 201 and sent.get_json()["status"] == "sent", sent.get_json()
    # while the printer held the job: the job queued, its label printed, the queueing audited, nothing locked
    assert _SlowIppPrinter.seen == [(("queued", 1, 1, 1),)]
    assert _print_job_actions(app) == ["queue", "send"]


class PowerCut(BaseException):
    """The server's process dies while the printer is being asked."""


def test_a_job_a_crash_left_queued_is_listed_and_sent_again_once_it_has_waited_longer_than_a_send(
        app, api, auth, client, monkeypatch) -> None:
    app.config["PRINTER_TIMEOUT_SECONDS"] = 0.5
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    port = _closed_port()
    printer = _printer(api, address=f"127.0.0.1:{port}", dpi=203)

    def cut(*_args, **_kwargs):
        raise PowerCut

    with monkeypatch.context() as patched:
        patched.setattr(transport, "send_raw", cut)
        with pytest.raises(PowerCut):
            api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                             "key": bag.bag_code})
    (job,) = api.get("/api/v1/print-jobs", as_="lab").get_json()["jobs"]
    assert (job["status"], job["attempts"], job["error"]) == ("queued", 1, None)
    too_soon = api.post(f"/api/v1/print-jobs/{job['id']}/retry", as_="lab")
    assert too_soon.status_code == 409 and too_soon.get_json()["reasons"][0]["code"] == "print_job_in_queue"
    time.sleep(0.6)
    auth.login("lab")
    listing = client.get("/labels/jobs").get_data(as_text=True)
    assert 'data-testid="stalled"' in listing and "Send again" in listing
    listener = Listener(port)
    try:
        again = api.post(f"/api/v1/print-jobs/{job['id']}/retry", as_="lab")
    finally:
        listener.close()
    assert again.status_code == 200 and again.get_json()["status"] == "sent" and again.get_json()["attempts"] == 2
    (label,) = prints(app)
    assert listener.received == [_document(app, label.id, 203)]
    assert _print_job_actions(app) == ["queue", "retry", "send"]


def test_a_send_that_ends_after_a_retry_took_its_job_over_leaves_the_retrys_outcome(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    printer = _printer(api, address=f"127.0.0.1:{_closed_port()}", dpi=203)
    with app.test_request_context():
        session = db.session()
        actor = accounts.find_user(session, "lab")
        first = queue.send_labels(session, actor=actor, printer_id=printer, target="bag", key=bag.bag_code,
                                  settings=label_settings())
        db.commit()
        later = first.job.queued_at.replace(year=first.job.queued_at.year + 1)
        second = queue.retry(session, actor=actor, job_id=first.job.id, timeout=5, now=later)
        db.commit()
        stale = queue.record_outcome(session, actor=actor, queued=first, error="late answer")
        assert (stale.status, stale.attempts, stale.error) == ("queued", 2, None)
        done = queue.record_outcome(session, actor=actor, queued=second, error=None)
        db.commit()
        assert (done.status, done.attempts) == ("sent", 2)
        assert db.session().get(PrintJob, first.job.id).status == "sent"
    assert _print_job_actions(app) == ["queue", "retry", "send"]


def test_sending_refuses_to_start_while_a_transaction_is_open(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    printer = _printer(api, address=f"127.0.0.1:{_closed_port()}", dpi=203)
    with app.test_request_context():
        session = db.session()
        actor = accounts.find_user(session, "lab")
        queued = queue.send_labels(session, actor=actor, printer_id=printer, target="bag", key=bag.bag_code,
                                   settings=label_settings())
        with pytest.raises(RuntimeError, match="commit the queued print job"):
            queue.spool(session, queued, actor=actor, timeout=0.5)
