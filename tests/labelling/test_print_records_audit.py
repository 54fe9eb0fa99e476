"""Printed labels, the printer registry and print jobs are regulated records: every change the application
makes is in the audit trail (reconciliation finds nothing to report), and a change typed beside it is named
by reconciliation and logged by the database. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from cellchain.audit import reconcile, row_changes
from cellchain.core import db
from tests.audit.test_reconciliation import _outside
from tests.factories import labels as make
from tests.factories.labels import prints, rows
from tests.labelling.test_printers import Listener, _closed_port, _printer


def _labels_printers_and_jobs(app, api) -> tuple[int, int, int, int, str]:
    """A printer registered and moved, a job failed then sent again, a download; one label voided, one applied."""
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 2))
    port = _closed_port()
    printer = _printer(api, address=f"127.0.0.1:{port}", dpi=203)
    moved = api.post(f"/api/v1/printers/{printer}", as_="admin", json={"place": "GMP lab bench 3"})
    assert moved.status_code == 200, moved.get_json()
    job = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                           "key": bags[0].bag_code}).get_json()
    assert job["status"] == "failed"
    listener = Listener(port)
    try:
        assert api.post(f"/api/v1/print-jobs/{job['id']}/retry", as_="lab").get_json()["status"] == "sent"
    finally:
        listener.close()
    assert api.get(f"/api/v1/bags/{bags[1].bag_code}/label.pdf", as_="lab").status_code == 200
    sent, downloaded = prints(app)
    voided = api.post(f"/api/v1/labels/{sent.id}/status", as_="lab", json={"status": "voided", "reason": "jam"})
    assert voided.status_code == 200, voided.get_json()
    applied = api.post(f"/api/v1/labels/{downloaded.id}/apply", as_="lab",
                       json={"scan": downloaded.content["compound_2d"]})
    assert applied.status_code == 200, applied.get_json()
    return printer, job["id"], sent.id, downloaded.id, f"127.0.0.1:{port}"


def test_labels_printers_and_jobs_hold_what_the_trail_recorded_and_outside_changes_are_named(app, api) -> None:
    printer, job, voided, applied, address = _labels_printers_and_jobs(app, api)
    with app.app_context():
        found = reconcile.reconcile(db.session())
        assert found.ok, [d.describe() for d in found.differences]
        assert row_changes.count(db.session()) == 0  # the application's own writes are not logged
    _outside(app, "UPDATE print_jobs SET status = 'failed' WHERE id = %(id)s", {"id": job})
    _outside(app, "UPDATE label_prints SET status = 'printed' WHERE id = %(id)s", {"id": voided})
    _outside(app, "UPDATE label_prints SET reprint = %(yes)s WHERE id = %(id)s", {"id": applied, "yes": True})
    _outside(app, "UPDATE printers SET address = '10.9.9.9:9100' WHERE id = %(id)s", {"id": printer})
    with app.app_context():
        found = reconcile.reconcile(db.session(), batch=1)
        logged = [(c.table_name, c.row_key, c.operation) for c in row_changes.newest(db.session())]
    assert {(d.table, d.key, d.field, d.trail_value, d.current_value) for d in found.differences} == {
        ("print_jobs", str(job), "status", "sent", "failed"),
        ("label_prints", str(voided), "status", "voided", "printed"),
        ("label_prints", str(applied), "reprint", False, True),
        ("printers", str(printer), "address", address, "10.9.9.9:9100")}
    assert logged == [("printers", str(printer), "UPDATE"), ("label_prints", str(applied), "UPDATE"),
                      ("label_prints", str(voided), "UPDATE"), ("print_jobs", str(job), "UPDATE")]
