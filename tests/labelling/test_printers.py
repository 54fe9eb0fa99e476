"""Label printers: the registry, jobs sent straight to a Zebra (raw TCP) or an IPP printer, their retry, and
the closed loop that applies a label only by a scan of it on its own container."""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.labelling import print_jobs
from cellchain.labelling.printing import transport
from cellchain.labelling.printing.models import PrintJob
from cellchain.people.rules.roles import Principal
from tests.factories import labels as make
from tests.factories.labels import prints, rows

BAG_SIZE = "101.6x101.6"


class Listener:
    """A Zebra's raw port on this machine: accepts connections and keeps every byte each one sent."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
                self.received.append(b"".join(chunks))

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


def _closed_port() -> int:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _printer(api, *, kind="zpl", address: str, dpi=300, sizes=(BAG_SIZE,), name="Zebra lab 1") -> int:
    response = api.post("/api/v1/printers", as_="qa", json={"name": name, "place": "GMP lab bench 2", "kind": kind,
                                                             "address": address, "dpi": dpi,
                                                             "label_sizes": list(sizes)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _document(app, label_id: int, dpi: int) -> bytes:
    """What the download gives for this recorded label at the printer's resolution."""
    with app.test_request_context():
        session = db.session()
        row = session.get(print_jobs.LabelPrint, label_id)
        actor = Principal(row.printed_by, "lab", "Lab", frozenset({"lab"}))
        printed = print_jobs.recorded_document(session, actor=actor, label_id=label_id, fmt="zpl", dpi=dpi)
        return printed.content.encode("utf-8")


def test_a_zpl_job_reaches_the_printers_port_byte_for_byte_at_its_resolution(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    listener = Listener()
    try:
        printer = _printer(api, address=f"127.0.0.1:{listener.port}", dpi=300)
        sent = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                                "key": bag.bag_code})
        assert sent.status_code == 201, sent.get_json()
        job = sent.get_json()
        assert job["status"] == "sent" and job["error"] is None and job["dpi"] == 300
    finally:
        listener.close()
    (label,) = prints(app)
    assert job["label_ids"] == [label.id]
    assert listener.received == [_document(app, label.id, 300)]
    assert listener.received[0] != _document(app, label.id, 203)  # rendered for the 300-dpi head, not 203
    assert listener.received[0].startswith(b"^XA")


def test_a_refused_connection_fails_the_job_with_why_and_its_retry_sends_the_same_bytes(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    port = _closed_port()
    printer = _printer(api, address=f"127.0.0.1:{port}", dpi=203)
    failed = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                              "key": bag.bag_code}).get_json()
    assert failed["status"] == "failed" and f"127.0.0.1:{port}" in failed["error"]
    (label,) = prints(app)
    assert label.status == "printed"  # recorded all the same: it must still be accounted for
    listener = Listener(port)
    try:
        retried = api.post(f"/api/v1/print-jobs/{failed['id']}/retry", as_="lab")
        assert retried.status_code == 200 and retried.get_json()["status"] == "sent"
        assert retried.get_json()["attempts"] == 2
    finally:
        listener.close()
    assert listener.received == [_document(app, label.id, 203)]
    again = api.post(f"/api/v1/print-jobs/{failed['id']}/retry", as_="lab")
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "print_job_not_failed"
    with app.app_context():
        actions = db.session().exec(select(AuditEntry.action).where(AuditEntry.record_type == "print_job")).all()
    assert actions == ["queue", "send", "retry", "send"]  # each committed before its send, then its outcome


def test_a_failed_job_whose_label_was_voided_since_is_not_sent_again(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    printer = _printer(api, address=f"127.0.0.1:{_closed_port()}")
    job = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                           "key": bag.bag_code}).get_json()
    api.post(f"/api/v1/labels/{job['label_ids'][0]}/status", as_="lab", json={"status": "voided", "reason": "jam"})
    refused = api.post(f"/api/v1/print-jobs/{job['id']}/retry", as_="lab")
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "print_job_labels_accounted"


class _IppPrinter(BaseHTTPRequestHandler):
    requests: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        answer = struct.pack(">BBHI", 1, 1, 0x0000, struct.unpack(">I", body[4:8])[0]) + b"\x03"
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


def _ipp_attributes(body: bytes) -> tuple[dict[str, str], bytes]:
    """Parse an IPP request as a printer does: the operation attributes, then the document."""
    assert body[:2] == b"\x01\x01" and struct.unpack(">H", body[2:4])[0] == 0x0002  # IPP/1.1 Print-Job
    assert body[8] == 0x01  # operation-attributes-tag
    at, found = 9, {}
    while body[at] != 0x03:
        name_length = struct.unpack(">H", body[at + 1:at + 3])[0]
        name = body[at + 3:at + 3 + name_length].decode()
        at += 3 + name_length
        value_length = struct.unpack(">H", body[at:at + 2])[0]
        found[name] = body[at + 2:at + 2 + value_length].decode()
        at += 2 + value_length
    return found, body[at + 1:]


def test_a_pdf_job_is_an_ipp_print_job_carrying_the_labels_pdf(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    _IppPrinter.requests = []
    server = HTTPServer(("127.0.0.1", 0), _IppPrinter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"ipp://127.0.0.1:{server.server_port}/printers/labels"
        printer = _printer(api, kind="pdf", address=uri, name="Office CUPS")
        job = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                               "key": bag.bag_code}).get_json()
    finally:
        server.shutdown()
        server.server_close()
    assert job["status"] == "sent", job
    ((path, body),) = _IppPrinter.requests
    attributes, document = _ipp_attributes(body)
    assert path == "/printers/labels" and attributes["printer-uri"] == uri
    assert attributes["document-format"] == "application/pdf" and attributes["requesting-user-name"] == "lab"
    assert attributes["attributes-charset"] == "utf-8"
    assert document.startswith(b"%PDF")
    with app.app_context():
        assert db.session().get(PrintJob, job["id"]).document == document


def test_an_ipp_error_status_fails_the_job() -> None:
    assert transport.ipp_status(struct.pack(">BBHI", 1, 1, 0x0400, 1)) == 0x0400


def test_a_printer_that_does_not_take_the_labels_size_or_is_out_of_use_is_refused(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    small = _printer(api, address="127.0.0.1:9100", sizes=("50.8x25.4",))
    refused = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": small, "target": "bag",
                                                               "key": bag.bag_code})
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "printer_label_size"
    off = api.post(f"/api/v1/printers/{small}", as_="admin", json={"active": False, "label_sizes": [BAG_SIZE]})
    assert off.status_code == 200 and off.get_json()["active"] is False
    refused = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": small, "target": "bag",
                                                               "key": bag.bag_code})
    assert refused.get_json()["reasons"][0]["code"] == "printer_inactive"
    assert prints(app) == []


def test_the_registry_refuses_bad_fields_by_name_and_only_admin_or_qa_manage_it(app, api) -> None:
    bad = api.post("/api/v1/printers", as_="qa", json={"name": "", "place": "lab", "kind": "pdf",
                                                        "address": "10.0.0.5:9100", "dpi": 250,
                                                        "label_sizes": ["big"]})
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) == {"name", "address", "dpi", "label_sizes"}
    assert api.post("/api/v1/printers", as_="lab", json={}).status_code == 403
    _printer(api, address="10.0.0.5")
    taken = api.post("/api/v1/printers", as_="admin", json={"name": "Zebra lab 1", "place": "x", "kind": "zpl",
                                                             "address": "10.0.0.6:9100", "dpi": 203,
                                                             "label_sizes": [BAG_SIZE]})
    assert taken.status_code == 409 and taken.get_json()["reasons"][0]["code"] == "printer_name_taken"
    (listed,) = api.get("/api/v1/printers", as_="auditor").get_json()["printers"]
    assert listed["address"] == "10.0.0.5" and listed["dpi"] == 300


def test_a_label_is_applied_only_by_a_scan_of_it_on_its_own_container(app, api) -> None:
    first, second = rows(app, lambda s: make.bags(s, make.lot(s), 2))
    api.get(f"/api/v1/lots/{first.din}/labels.pdf", as_="lab")
    label_a, label_b = prints(app)
    wrong = api.post(f"/api/v1/labels/{label_a.id}/apply", as_="lab", json={"scan": label_b.content["compound_2d"]})
    assert wrong.status_code == 409
    (reason,) = wrong.get_json()["reasons"]
    assert reason["code"] == "label_scan_mismatch" and second.bag_code in reason["message"]
    din_only = api.post(f"/api/v1/labels/{label_a.id}/apply", as_="lab", json={"scan": label_a.content["din_barcode"]})
    assert din_only.status_code == 409  # the DIN names the cord, not this bag
    unreadable = api.post(f"/api/v1/labels/{label_a.id}/apply", as_="lab", json={"scan": "hello"})
    assert unreadable.status_code == 400 and "scan" in unreadable.get_json()["fields"]
    right = api.post(f"/api/v1/labels/{label_a.id}/apply", as_="lab", json={"scan": label_a.content["compound_2d"]})
    assert right.status_code == 200 and right.get_json()["status"] == "applied"
    assert [p.status for p in prints(app)] == ["applied", "printed"]


def test_a_label_printed_before_the_bag_changed_no_longer_matches_it(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    (label,) = prints(app)
    with app.app_context():
        session = db.session()
        row = session.get(type(bag), bag.id)
        row.expires_at = row.expires_at.replace(year=row.expires_at.year + 1)
        session.add(row)
        session.commit()
    outdated = api.post(f"/api/v1/labels/{label.id}/apply", as_="lab", json={"scan": label.content["compound_2d"]})
    assert outdated.status_code == 409 and outdated.get_json()["reasons"][0]["code"] == "label_outdated"


def test_the_scan_page_applies_a_label_and_opens_the_next_one_to_apply(app, client, auth) -> None:
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 2))
    auth.login("lab")
    with app.test_request_context():
        from flask import url_for
        lot_url = url_for("labels.lot_bag_labels", lot_id=bags[0].din)
    client.get(lot_url)
    label_a, label_b = prints(app)
    page = client.get(f"/labels/{label_a.id}/apply").get_data(as_text=True)
    assert 'name="scan"' in page and "autofocus" in page
    refused = auth.post(f"/labels/{label_a.id}/apply", {"scan": label_b.content["compound_2d"]})
    assert refused.status_code == 409 and 'data-reason="label_scan_mismatch"' in refused.get_data(as_text=True)
    done = auth.post(f"/labels/{label_a.id}/apply", {"scan": label_a.content["compound_2d"]})
    assert done.status_code == 303 and done.headers["Location"] == f"/labels/{label_b.id}/apply"


def test_a_reprint_sent_to_a_printer_is_the_very_zpl_the_download_gives_for_its_resolution(app, api) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    assert api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab").status_code == 200  # the original
    listener = Listener()
    try:
        printer = _printer(api, address=f"127.0.0.1:{listener.port}", dpi=600)
        job = api.post("/api/v1/print-jobs", as_="lab", json={"printer_id": printer, "target": "bag",
                                                               "key": bag.bag_code, "reason": "smudged"}).get_json()
    finally:
        listener.close()
    assert job["status"] == "sent", job
    download = api._client.get(f"/api/v1/bags/{bag.bag_code}/label.zpl", query_string={"reason": "smudged",
                                                                                       "dpi": "600"},
                               headers=api.headers("lab"))
    assert download.status_code == 200
    assert listener.received == [download.data]
    other_head = api._client.get(f"/api/v1/bags/{bag.bag_code}/label.zpl", query_string={"reason": "smudged"},
                                 headers=api.headers("lab"))
    assert other_head.data != download.data  # 203 dpi by default: another document
