"""The label API: downloads that print and record, reprints with a reason, batch jobs, reconciliation."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pymupdf
import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from tests.factories import labels as make
from tests.factories.label_reading import din_barcode, page_text, scan_pages, zpl_symbols
from tests.factories.labels import prints, rows


def audit_entries(app, action: str):
    with app.app_context():
        return db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "label_print",
                                                          AuditEntry.action == action)).all()


def test_all_bags_of_a_lot_print_as_one_pdf_with_a_page_per_bag(app, api) -> None:
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 12))
    response = api.get(f"/api/v1/lots/{bags[0].din}/labels.pdf", as_="lab")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["X-Label-Count"] == "12"
    document = pymupdf.open(stream=response.data, filetype="pdf")
    assert document.page_count == 12
    pages = scan_pages(response.data)
    for bag, symbols in zip(bags, pages, strict=True):
        assert ("Code128", din_barcode(bag.din)) in symbols
        assert ("Code128", f"=<{bag.product_code}{bag.collection_type}{bag.division}") in symbols
    assert [p.item_key for p in prints(app)] == [b.bag_code for b in bags]
    assert len(audit_entries(app, "print")) == 12


def test_bag_label_zpl_carries_the_same_data_as_the_pdf(app, api) -> None:
    (bag,) = rows(app, lambda s: [make.bag(s, make.lot(s))])
    pdf = api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    zpl = api.get(f"/api/v1/bags/{bag.bag_code}/label.zpl?reason=second+printer", as_="lab")
    assert zpl.status_code == 200 and zpl.mimetype == "text/plain"
    assert sorted(zpl_symbols(zpl.get_data(as_text=True))[0]) == scan_pages(pdf.data)[0]
    assert "REPRINT" in zpl.get_data(as_text=True)


def test_a_reprint_through_the_api_needs_a_reason_and_is_audited_with_it(app, api) -> None:
    (bag,) = rows(app, lambda s: [make.bag(s, make.lot(s))])
    url = f"/api/v1/bags/{bag.bag_code}/label.pdf"
    assert api.get(url, as_="lab").status_code == 200
    refused = api.get(url, as_="lab")
    assert refused.status_code == 400 and "reason" in refused.get_json()["fields"]
    assert len(prints(app)) == 1  # the refusal wrote nothing
    again = api.get(url + "?reason=label+torn+when+applied", as_="lab")
    assert again.status_code == 200 and again.headers["X-Reprint-Count"] == "1"
    assert "REPRINT" in page_text(again.data)
    (entry,) = audit_entries(app, "reprint")
    assert entry.reason == "label torn when applied" and entry.actor == "lab"


def test_collection_wristband_qc_and_vessel_routes_print_their_kind(app, api) -> None:
    made = rows(app, lambda s: {"collection": make.collection(s), "lot": make.lot(s), "subject": make.subject(s)})
    din, lot, subject = made["collection"].din, made["lot"].lot_number, made["subject"].subject_code
    answers = {
        "collection": api.get(f"/api/v1/collections/{din}/label.pdf", as_="lab"),
        "wristband": api.get(f"/api/v1/subjects/{subject}/wristband.pdf", as_="coordinator"),
        "qc_tube": api.get(f"/api/v1/lots/{lot}/qc-tube-labels.pdf", as_="lab"),
        "culture_vessel": api.get(f"/api/v1/lots/{lot}/vessel-labels.pdf?passage=1&vessels=4", as_="lab"),
    }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 200)
    assert ("Code128", din_barcode(din)) in scan_pages(answers["collection"].data)[0]
    assert scan_pages(answers["wristband"].data)[0][0] == ("Code128", "&#0008" + subject.replace("-", ""))
    assert answers["culture_vessel"].headers["X-Label-Count"] == "4"
    kinds = sorted({p.label_kind for p in prints(app)})
    assert kinds == sorted(answers)


@pytest.mark.parametrize(("url", "status", "field_or_code"), [
    ("/api/v1/lots/{lot}/vessel-labels.pdf?passage=99&vessels=2", 400, "passage"),
    ("/api/v1/lots/{lot}/vessel-labels.pdf?passage=1", 400, "vessels"),
    ("/api/v1/bags/A999926999999-D0001VA0/label.pdf", 404, None),
    ("/api/v1/lots/{lot}/labels.pdf", 409, "lot_has_no_bags"),
    ("/api/v1/bags/{lot}/label.txt", 404, None),
])
def test_label_requests_that_cannot_print_are_refused_with_the_reason(app, api, url, status, field_or_code) -> None:
    lot = rows(app, lambda s: make.lot(s))
    response = api.get(url.format(lot=lot.lot_number), as_="lab")
    assert response.status_code == status
    body = response.get_json()
    if status == 400:
        assert field_or_code in body["fields"]
    if status == 409:
        assert body["reasons"][0]["code"] == field_or_code
    assert prints(app) == []


def test_label_downloads_need_a_login_and_the_right_role(app, api, client) -> None:
    made = rows(app, lambda s: {"bag": make.bag(s, make.lot(s)), "subject": make.subject(s, eligible=False)})
    url = f"/api/v1/bags/{made['bag'].bag_code}/label.pdf"
    assert client.get(url).status_code == 401
    assert api.get(url, as_="nurse").status_code == 403
    assert api.get(url, as_="coordinator").status_code == 403
    assert api.get(url, as_="qa").status_code == 403  # QA reprints; the first print is the lab's
    refused = api.get(f"/api/v1/subjects/{made['subject'].subject_code}/wristband.pdf", as_="coordinator")
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "subject_not_eligible"


def test_shipper_label_is_printed_for_the_bags_in_the_container(app, api) -> None:
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 2, quality_status="released"))
    body = {"bags": [b.bag_code for b in bags], "ship_to": "Liver transplant ward 4B",
            "shipped_at": "2026-11-26T08:15:00+08:00"}
    response = api.post("/api/v1/shipments/label", as_="lab", json=body)
    assert response.status_code == 200
    (qr,) = [data for kind, data in scan_pages(response.data)[0] if kind == "QRCode"]
    shipment_id = re.search(r"SHP-[0-9A-F]{10}$", qr)[0]
    assert qr.startswith("http://localhost/labels/shipments/")
    assert "Shipped 2026-11-26 08:15 UTC+8" in page_text(response.data)
    again = api.post("/api/v1/shipments/label", as_="lab", json={**body, "bags": body["bags"][::-1]})
    assert again.status_code == 400 and "reason" in again.get_json()["fields"]  # same bags: same shipment
    assert [p.item_key for p in prints(app)] == [shipment_id]
    bad = api.post("/api/v1/shipments/label", as_="lab", json={"bags": "x", "ship_to": ""})
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"bags", "ship_to"}
    naive = api.post("/api/v1/shipments/label", as_="lab", json={**body, "shipped_at": "2026-11-26T08:15"})
    assert naive.status_code == 400 and "shipped_at" in naive.get_json()["fields"]


def test_a_shipper_of_frozen_bags_prints_the_frozen_storage_in_pdf_and_zpl_and_never_2_to_8(app, api) -> None:
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 2, quality_status="released", preservation="cryopreserved"))
    body = {"bags": [b.bag_code for b in bags], "ship_to": "Liver transplant ward 4B"}
    pdf = api.post("/api/v1/shipments/label", as_="lab", json=body)
    assert pdf.status_code == 200, pdf.get_json()
    text = page_text(pdf.data)
    assert "-150 °C 或以下冻存（液氮气相）" in text and "Store frozen at or below -150 °C" in text
    assert "8 °C" not in text
    zpl = api.post("/api/v1/shipments/label", as_="qa",  # the same shipment again: QA reprints it
                   json={**body, "format": "zpl", "reason": "second printer"}).get_data(as_text=True)
    assert "Store frozen at or below -150 _C2_B0C" in zpl and "8 _C2_B0C" not in zpl
    assert sorted(zpl_symbols(zpl)[0]) == scan_pages(pdf.data)[0]


def test_frozen_and_fresh_bags_are_not_labelled_into_one_shipper(app, api) -> None:
    bags = rows(app, lambda s: [make.bag(s, make.lot(s), quality_status="released", preservation="cryopreserved"),
                                make.bag(s, make.lot(s), quality_status="released")])
    response = api.post("/api/v1/shipments/label", as_="lab",
                        json={"bags": [b.bag_code for b in bags], "ship_to": "Ward 4B"})
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["shipment_mixes_storage"]
    assert prints(app) == []


def test_every_printed_label_is_accounted_for_through_its_status(app, api) -> None:
    (bag,) = rows(app, lambda s: [make.bag(s, make.lot(s))])
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf?reason=smudged", as_="lab")
    first, second = (p.id for p in prints(app))
    outstanding = api.get("/api/v1/labels", as_="lab").get_json()["labels"]
    assert [row["label_id"] for row in outstanding] == [first, second]
    no_reason = api.post(f"/api/v1/labels/{first}/status", as_="lab", json={"status": "voided"})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    voided = api.post(f"/api/v1/labels/{first}/status", as_="lab", json={"status": "voided", "reason": "smudged"})
    assert voided.status_code == 200 and voided.get_json()["status"] == "voided"
    by_hand = api.post(f"/api/v1/labels/{second}/status", as_="lab", json={"status": "applied"})
    assert by_hand.status_code == 409 and by_hand.get_json()["reasons"][0]["code"] == "label_apply_by_scan"
    scanned = prints(app)[1].content["compound_2d"]
    applied = api.post(f"/api/v1/labels/{second}/apply", as_="lab", json={"scan": scanned})
    assert applied.get_json()["status_by"] == "lab"
    back = api.post(f"/api/v1/labels/{first}/apply", as_="lab", json={"scan": scanned})
    assert back.status_code == 409 and back.get_json()["reasons"][0]["code"] == "label_status_not_allowed"
    assert api.post(f"/api/v1/labels/{second}/status", as_="nurse", json={"status": "destroyed",
                                                                           "reason": "x"}).status_code == 403
    assert api.get("/api/v1/labels", as_="lab").get_json()["labels"] == []
    history = api.get(f"/api/v1/labels?target=bag&key={bag.bag_code}", as_="auditor").get_json()["labels"]
    assert [(r["status"], r["reprint"]) for r in history] == [("voided", False), ("applied", True)]
    assert len(audit_entries(app, "mark_voided")) == 1 and len(audit_entries(app, "mark_applied")) == 1
    assert api.post("/api/v1/labels/9999/status", as_="lab", json={"status": "applied"}).status_code == 404


def test_a_nurse_applies_a_wristband_by_scanning_it_on_the_subject(app, api) -> None:
    subject = rows(app, lambda s: make.subject(s))
    api.get(f"/api/v1/subjects/{subject.subject_code}/wristband.pdf", as_="coordinator")
    (label,) = prints(app)
    response = api.post(f"/api/v1/labels/{label.id}/apply", as_="nurse",
                        json={"scan": label.content["subject_barcode"]})
    assert response.status_code == 200 and response.get_json()["status"] == "applied"


def test_an_allocated_bag_reprints_with_its_recipient_and_a_new_hash(app, api) -> None:
    made = rows(app, lambda s: {"bag": make.bag(s, make.lot(s)), "subject": make.subject(s)})
    bag, subject = made["bag"], made["subject"]
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    rows(app, lambda s: make.allocate(s, s.get(make.Bag, bag.id), s.get(make.Subject, subject.id)))
    again = api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf?reason=allocated+to+{subject.subject_code}", as_="lab")
    (matrix,) = [data for kind, data in scan_pages(again.data)[0] if kind == "DataMatrix"]
    patient = subject.subject_code.replace("-", "")
    assert matrix.endswith(f"&#0008{patient}=#0019710314&/{subject.chain_of_identity}")
    assert matrix.startswith("=+06000")
    original, reprint = prints(app)
    assert original.content_hash != reprint.content_hash
    assert reprint.content["recipient_id"] == subject.subject_code


def test_printed_times_are_utc_in_the_json(app, api) -> None:
    (bag,) = rows(app, lambda s: [make.bag(s, make.lot(s))])
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    (row,) = api.get("/api/v1/labels", as_="lab").get_json()["labels"]
    printed = datetime.fromisoformat(row["printed_at"].replace("Z", "+00:00"))
    assert printed.tzinfo == UTC and row["printed_by"] == "lab"


def test_only_released_bags_get_a_shipper_label(app, api) -> None:
    bags = rows(app, lambda s: [make.bag(s, make.lot(s), quality_status="released"),
                                make.bag(s, make.lot(s), quality_status="quarantine")])
    response = api.post("/api/v1/shipments/label", as_="lab",
                        json={"bags": [b.bag_code for b in bags], "ship_to": "Ward 4B"})
    assert response.status_code == 409
    assert [(r["code"], bags[1].bag_code in r["message"]) for r in response.get_json()["reasons"]] == [
        ("bag_not_released", True)]
    assert prints(app) == []
