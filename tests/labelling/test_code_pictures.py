"""The bag, lot, subject and certificate-check pages show their codes as pictures that scan back to the record.

Each picture is taken from the page as the browser gets it and decoded with zxing-cpp; what it reads must
be what the database holds and what the printed label (or certificate) carries.
"""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import numpy
import pymupdf
import pytest
import zxingcpp
from PIL import Image
from sqlmodel import select

from cellchain.audit.models import Signature
from cellchain.identifiers.isbt128 import parse_compound, parse_din_barcode
from cellchain.labelling import pictures
from cellchain.manufacturing.models import Lot
from tests.conftest import signature
from tests.factories import labels
from tests.factories.lab import in_db
from tests.factories.qc import add_results, make_lot

IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)" width="(\d+)" height="(\d+)">'
                   r'\s*<figcaption>(.*?)</figcaption>', re.S)


def page_pictures(response) -> list[tuple[str, str, str, str]]:
    """(symbology, text read, alt text, caption) of every code picture on the page, in page order."""
    assert response.status_code == 200, response.status_code
    found = []
    for encoded, alt, width, height, caption in IMAGE.findall(response.get_data(as_text=True)):
        image = Image.open(io.BytesIO(base64.b64decode(encoded)))
        assert image.format == "PNG" and image.size == (int(width), int(height))
        (symbol,) = zxingcpp.read_barcodes(image)
        found.append((symbol.format.name, symbol.text, html.unescape(alt), html.unescape(caption)))
    return found


def printed_symbols(pdf: bytes) -> list[tuple[str, str]]:
    """(symbology, text) of every code on a printed PDF's pages, rasterised at 300 dpi."""
    found = []
    for page in pymupdf.open(stream=pdf, filetype="pdf"):
        pix = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        image = numpy.frombuffer(pix.samples, dtype=numpy.uint8).reshape(pix.height, pix.width)
        found += [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]
    return found


def test_bag_page_codes_scan_back_to_the_bag_and_match_its_printed_label(app, client, auth):
    with in_db(app) as session:
        bag = labels.bag(session, labels.lot(session), division="B0")
        who = labels.subject(session, birth_date=date(1968, 2, 29))
        labels.allocate(session, bag, who)
        bag_code, din, subject_code, coi = bag.bag_code, bag.din, who.subject_code, who.chain_of_identity
        product = (bag.product_code, bag.collection_type, bag.division)
    auth.login("lab")
    (din_code, product_code, qr) = page_pictures(client.get(f"/lab/bags/{bag_code}"))
    assert din_code[0] == "Code128" and parse_din_barcode(din_code[1]).din.text == din
    assert product_code[:2] == ("Code128", "=<" + "".join(product))
    assert qr[0] == "QRCode"
    carried = {s.kind: s.fields for s in parse_compound(qr[1], labels.TZ)}
    assert carried["din"]["din"] == din and carried["patient_id"]["patient_id"] == subject_code.replace("-", "")
    assert carried["chain_of_identity"]["chain_of_identity"] == coi
    assert (carried["product_code"]["product_code"], carried["product_code"]["collection_type"],
            carried["product_code"]["division"]) == product
    assert carried["patient_birth_date"]["birth_date"] == date(1968, 2, 29)
    label = client.get(f"/labels/bags/{bag_code}/label")
    assert label.status_code == 200
    printed = printed_symbols(label.data)
    assert {("Code128", din_code[1]), ("Code128", product_code[1]), ("DataMatrix", qr[1])} <= set(printed)
    eye_readable = f"{din[:5]} {din[5:7]} {din[7:]}"
    assert eye_readable in din_code[2] and eye_readable in din_code[3]
    assert "".join(product) in product_code[2] and "".join(product) in product_code[3]


def test_lot_page_codes_carry_the_lot_id_and_no_container_lot_structure(app, client, auth):
    with in_db(app) as session:
        lot_number = labels.lot(session).lot_number
    auth.login("qc")
    (qr,) = page_pictures(client.get(f"/lab/lots/{lot_number}"))
    assert qr[:2] == ("QRCode", lot_number)


def test_subject_page_codes_carry_what_the_wristband_carries(app, client, auth):
    with in_db(app) as session:
        who = labels.subject(session, birth_date=date(1980, 12, 31))
        subject_code, coi = who.subject_code, who.chain_of_identity
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{subject_code}")
    (linear, qr) = page_pictures(page)
    assert linear[:2] == ("Code128", "&#0008" + subject_code.replace("-", ""))
    carried = {s.kind: s for s in parse_compound(qr[1])}
    assert carried["patient_id"].fields["patient_id"] == subject_code.replace("-", "")
    assert carried["chain_of_identity"].fields["chain_of_identity"] == coi
    assert f'data-testid="chain-of-identity" data-value="{coi}"' in page.get_data(as_text=True)
    assert carried["patient_birth_date"].fields["birth_date"] == date(1980, 12, 31)
    band = client.get(f"/labels/subjects/{subject_code}/wristband")
    assert band.status_code == 200
    assert sorted(printed_symbols(band.data)) == [("Code128", linear[1]), ("DataMatrix", qr[1])]
    assert subject_code in linear[2] and subject_code in linear[3]


def test_a_screen_failure_has_no_wristband_codes_on_the_subject_page(app, client, auth):
    with in_db(app) as session:
        subject_code = labels.subject(session, eligible=False).subject_code
    auth.login("auditor")
    response = client.get(f"/trial/subjects/{subject_code}")
    assert response.status_code == 200 and page_pictures(response) == []


def test_certificate_check_page_shows_the_qr_printed_on_the_certificate(app, api, client, auth):
    with in_db(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        lot_id = lot.lot_number
    released = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert released.status_code == 200, released.get_json()
    certificate = api.get(f"/api/v1/lots/{lot_id}/release-certificate.pdf", as_="auditor")
    (printed,) = [text for kind, text in printed_symbols(certificate.data) if kind == "QRCode"]
    auth.login("nurse")
    url = urlsplit(printed)
    forged = client.get(f"{url.path}?h={'0' * 64}")  # a wrong code still shows the link QA signed
    for response in (client.get(f"{url.path}?{url.query}"), forged):
        ((kind, text, alt, caption),) = page_pictures(response)
        assert (kind, text) == ("QRCode", printed)
        assert printed in alt and printed in caption
    with in_db(app) as session:
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        assert parse_qs(url.query) == {"h": [session.get(Signature, lot.decision_signature_id).record_hash]}


def test_an_undecided_lot_has_no_certificate_qr_on_its_check_page(app, client, auth):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
    auth.login("qa")
    response = client.get(f"/qa/certificates/{lot_id}/verify?h=abc")
    assert b"NO DECISION" in response.data and page_pictures(response) == []


@pytest.mark.parametrize("data", ["", "caf\u00e9", "tab\there"])
def test_a_code_128_picture_refuses_text_a_scanner_could_not_read_back(data):
    with pytest.raises(ValueError):
        pictures.code128_png(data)


def _captions(response) -> list[tuple[str, str]]:
    """(alt text, caption) of every code picture on the page, as text."""
    return [(html.unescape(alt), " ".join(re.sub(r"<[^>]+>", " ", html.unescape(caption)).split()))
            for _src, alt, _w, _h, caption in IMAGE.findall(response.get_data(as_text=True))]


def test_a_chinese_reader_reads_what_each_code_picture_is_in_chinese(app, client, auth):
    with in_db(app) as session:
        bag = labels.bag(session, labels.lot(session), division="C0")
        who = labels.subject(session)
        bag_code, lot_number, subject_code = bag.bag_code, bag.din, who.subject_code
        product = bag.product_code + bag.collection_type + bag.division
    auth.login("coordinator")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    auth.login("lab")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    din_code, product_code, qr = _captions(client.get(f"/lab/bags/{bag_code}"))
    assert din_code[1].startswith("Code 128 条码，DIN：")
    assert product_code[1].startswith(f"Code 128 条码，产品代码： {product}")
    assert qr[1].startswith("QR 二维码，细胞袋标签的二维码：")
    assert product_code[0] == f"产品代码的Code 128 条码：{product}"
    ((lot_alt, lot_caption),) = _captions(client.get(f"/lab/lots/{lot_number}"))
    assert lot_caption == f"QR 二维码，批号： {lot_number}" and lot_alt == f"批号的QR 二维码：{lot_number}"
    auth.login("coordinator")
    linear, band = _captions(client.get(f"/trial/subjects/{subject_code}"))
    assert linear[1].startswith("Code 128 条码，受试者编号：") and band[1].startswith("QR 二维码，腕带的二维码：")
    for alt, caption in (din_code, product_code, qr, linear, band):
        assert " of the " not in alt and "label's" not in caption and "subject id" not in caption


def test_an_english_reader_reads_what_each_code_picture_is_in_english(app, client, auth):
    with in_db(app) as session:
        bag = labels.bag(session, labels.lot(session), division="C0")
        bag_code, product = bag.bag_code, bag.product_code + bag.collection_type + bag.division
    auth.login("lab")
    _din, product_code, qr = _captions(client.get(f"/lab/bags/{bag_code}"))
    assert product_code[0] == f"Code 128 of the product code: {product}"
    assert product_code[1].startswith(f"Code 128, product code: {product}")
    assert qr[1].startswith("QR code, bag label's 2D code:")
