"""The release certificate: its text and its decoded QR code match the record, and the page the QR
code opens says whether the certificate still matches it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy
import pymupdf
import zxingcpp
from sqlmodel import select

from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.manufacturing.models import Lot
from tests.conftest import signature
from tests.factories.qc import PASSING, SAMPLED, add_results, db_session, make_lot

PDF = "/api/v1/lots/{}/release-certificate.pdf"


def _released_lot(app, api, *, with_repeat: bool = True) -> str:
    """A released lot whose endotoxin was out of specification once and passed on a repeat."""
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("endotoxin",))
        lot_id = lot.lot_number
    results = f"/api/v1/lots/{lot_id}/qc-results"
    first = api.post(results, as_="qc", json={**SAMPLED,
                                              "test": "endotoxin", "value": 6.5 if with_repeat else 0.9}).get_json()
    if with_repeat:
        api.post(results, as_="qc", json={**SAMPLED, "test": "endotoxin", "value": 0.7, "repeat_of": first["id"],
                                          "reason": "pipetting error in the first run"})
        number = first["deviation"]
        api.post(f"/api/v1/deviations/{number}/investigate", as_="qa",
                 json={"root_cause": "pipetting error", "impact": "none; repeat within limit"})
        api.post(f"/api/v1/deviations/{number}/decide", as_="qa",
                 json={"decision": "accept", "justification": "invalid first run; valid repeat"})
        api.post(f"/api/v1/deviations/{number}/close", as_="qa", json={"signature": signature("qa", "closed")})
    response = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert response.status_code == 200, response.get_json()
    return lot_id


def _pdf(api, lot_id: str, as_: str = "auditor") -> pymupdf.Document:
    response = api.get(PDF.format(lot_id), as_=as_)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return pymupdf.open(stream=response.data, filetype="pdf")


def _text(document: pymupdf.Document) -> str:
    return " ".join(" ".join(page.get_text().split()) for page in document)


def _qr_texts(document: pymupdf.Document) -> list[str]:
    found = []
    for page in document:
        pixmap = page.get_pixmap(dpi=250)
        array = numpy.frombuffer(pixmap.samples, dtype=numpy.uint8).reshape(pixmap.height, pixmap.width, pixmap.n)
        found += [b.text for b in zxingcpp.read_barcodes(array) if b.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def _signature_row(app, lot_id: str) -> Signature:
    with app.app_context():
        session = db.session()
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        return session.get(Signature, lot.decision_signature_id)


def test_certificate_text_matches_the_record(app, api):
    lot_id = _released_lot(app, api)
    signed = _signature_row(app, lot_id)
    text = _text(_pdf(api, lot_id))
    assert f"Lot {lot_id}" in text and f"{lot_id[:5]} {lot_id[5:7]} {lot_id[7:]}" in text
    assert "Donor eligibility eligible" in text and "Specification UCMSC-1" in text
    assert f"{lot_id}-D0001VA0" in text and f"{lot_id}-D0001VB0" in text
    for code in PASSING:
        assert f"{code}:" in text, code
    assert "98.7 %" in text and ">= 95 %" in text and "within specification" in text
    assert "repeat" in text and "pipetting error in the first run" in text and "#" in text
    assert "DEV-" in text and "accept" in text and "closed" in text
    assert "Decision: RELEASED" in text and "Signed by: Wang Fang (QA reviewer)" in text
    assert "Meaning: released" in text and "UTC" in text and "UTC+08:00" in text
    assert signed.signed_at.strftime("%Y-%m-%d %H:%M:%S") in text
    assert "Data changed since signature: no" in text
    assert signed.record_hash in text


def test_certificate_qr_code_opens_the_verify_page_which_confirms_the_match(app, api, client, auth):
    lot_id = _released_lot(app, api, with_repeat=False)
    signed = _signature_row(app, lot_id)
    (url,) = _qr_texts(_pdf(api, lot_id))
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "localhost"
    assert parts.path == f"/qa/certificates/{lot_id}/verify"
    assert parse_qs(parts.query) == {"h": [signed.record_hash]}
    auth.login("nurse")
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and b"MATCHES" in page.data
    forged = client.get(f"{parts.path}?h={'0' * 64}")
    assert b"DOES NOT MATCH" in forged.data and b"not the one QA signed" in forged.data


def test_a_record_changed_after_release_shows_on_the_certificate_and_the_verify_page(app, api, client, auth):
    lot_id = _released_lot(app, api, with_repeat=False)
    (url,) = _qr_texts(_pdf(api, lot_id))
    opened = api.post("/api/v1/deviations", as_="qa", json={"kind": "procedural", "lot_id": lot_id,
                                                             "description": "complaint: label smudged"})
    assert opened.status_code == 201
    assert "Data changed since signature: yes" in _text(_pdf(api, lot_id))
    auth.login("qc")
    page = client.get(url.replace("http://localhost", ""))
    assert b"DOES NOT MATCH" in page.data and b"changed since QA signed" in page.data


def test_verify_page_needs_a_login(client):
    response = client.get("/qa/certificates/A999926000001/verify?h=abc")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_rejected_lot_has_a_certificate_that_says_rejected(app, api):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    api.post(f"/api/v1/lots/{lot_id}/reject", as_="qa", json={"signature": signature("qa", "rejected"),
                                                              "reason": "growth arrested at P1"})
    text = _text(_pdf(api, lot_id, as_="qa"))
    assert "Decision: REJECTED - reason: growth arrested at P1" in text and "Meaning: rejected" in text
    assert "no result" in text


def test_a_rejected_lots_certificate_is_titled_rejection_certificate_with_rejected_on_page_one(app, api):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    api.post(f"/api/v1/lots/{lot_id}/reject", as_="qa", json={"signature": signature("qa", "rejected"),
                                                              "reason": "growth arrested at P1"})
    document = _pdf(api, lot_id, as_="qa")
    first_page = " ".join(document[0].get_text().split())
    assert "Rejection certificate - certificate of analysis" in first_page
    assert "REJECTED - NOT FOR CLINICAL USE" in first_page
    assert "Release certificate" not in _text(document)
    assert document.metadata["title"] == f"Rejection certificate {lot_id}"


def test_a_released_lots_certificate_is_a_release_certificate(app, api):
    lot_id = _released_lot(app, api, with_repeat=False)
    document = _pdf(api, lot_id)
    text = _text(document)
    assert "Release certificate - certificate of analysis" in text
    assert "REJECTED" not in text and "Rejection certificate" not in text


def test_an_undecided_lot_has_no_certificate(app, api):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    response = api.get(PDF.format(lot_id), as_="qa")
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "lot_not_decided"
