"""The printer pages: QA registers a printer on the registry page; the lab sends an item's labels to it from
the item's print page, sees a failed job on the jobs page and sends it again from there."""

from __future__ import annotations

from tests.factories import labels as make
from tests.factories.labels import prints, rows
from tests.labelling.test_printers import BAG_SIZE, Listener, _closed_port

PRINTER = {"name": "Zebra cleanroom", "place": "Cleanroom B", "kind": "zpl", "dpi": "300", "label_sizes": BAG_SIZE,
           "active": "yes"}


def _register(auth, address: str):
    auth.login("qa")
    done = auth.post("/labels/printers", {**PRINTER, "address": address})
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    auth.logout()


def test_qa_registers_a_printer_on_its_page_and_a_wrong_field_is_named_with_what_was_typed_kept(client, auth):
    auth.login("qa")
    refused = auth.post("/labels/printers", {**PRINTER, "address": "ipp://x", "dpi": "250"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Zebra cleanroom" in page
    assert "choose 203, 300 or 600 dpi" in page and "give host:port of the Zebra printer" in page
    done = auth.post("/labels/printers", {**PRINTER, "address": "10.1.2.3:9100"})
    assert done.status_code == 303
    listing = client.get("/labels/printers").get_data(as_text=True)
    assert "Cleanroom B" in listing and "10.1.2.3:9100" in listing and "Printer Zebra cleanroom saved." in listing
    auth.logout()
    auth.login("lab")
    assert auth.post("/labels/printers", {**PRINTER, "name": "other", "address": "h:9100"}).status_code == 403


def test_the_lab_sends_a_bags_label_from_its_print_page_and_resends_a_failed_job(app, client, auth):
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    port = _closed_port()
    _register(auth, f"127.0.0.1:{port}")
    auth.login("lab")
    page_url = f"/labels/print/bag/{bag.bag_code}"
    page = client.get(page_url).get_data(as_text=True)
    assert 'data-testid="send-to-printer"' in page and "Zebra cleanroom" in page
    sent = auth.post(f"{page_url}/send", {"printer_id": "1"})
    assert sent.status_code == 303 and sent.headers["Location"] == page_url
    shown = client.get(page_url).get_data(as_text=True)
    assert "failed" in shown and f"127.0.0.1:{port}" in shown
    (label,) = prints(app)
    jobs = client.get("/labels/jobs").get_data(as_text=True)
    assert "Send again" in jobs and bag.bag_code in jobs
    listener = Listener(port)
    try:
        again = auth.post("/labels/jobs/1/retry", {})
        assert again.status_code == 303
    finally:
        listener.close()
    assert len(listener.received) == 1 and listener.received[0].startswith(b"^XA")
    assert "Send again" not in client.get("/labels/jobs").get_data(as_text=True)
    assert label.status == "printed"
