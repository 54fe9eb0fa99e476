"""Cryovial labels of a bank, printed as PDF and ZPL: each carries the cord's DIN and the vial's own local
identifier, a scanner reads them back exactly, and a scan of the label opens (or thaws) that vial."""

from __future__ import annotations

from sqlmodel import select

from cellchain.banking.models import CellBank, Vial
from cellchain.identifiers.isbt128 import Din
from cellchain.identifiers.scans import parse_scan
from tests.factories.banking import banked_cord
from tests.factories.lab import in_db
from tests.factories.label_reading import scan_pages, zpl_symbols


def test_every_frozen_vial_of_a_bank_gets_a_label_whose_2d_code_reads_back_din_and_vial(app, api):
    with in_db(app) as session:
        din = banked_cord(session).din
    pdf = api.get(f"/api/v1/banks/MCB-{din}/labels.pdf", as_="lab")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = scan_pages(pdf.data)
    assert len(pages) == 9  # V001 was thawed: it gets no new label
    codes = []
    for page in pages:
        [(symbology, data)] = page
        structures = parse_scan(data).fields["structures"]
        assert symbology == "DataMatrix" and structures[0].data == Din.parse(din).barcode_data()
        assert structures[1].kind == "local" and structures[1].fields["letter"] == "a"
        codes.append(structures[1].fields["identifier"])
    assert codes == [f"MCB-{din}-V{n:03d}" for n in range(2, 11)]
    scanned = api.post("/api/v1/scans", as_="qa", json={"data": pages[0][0][1]}).get_json()
    assert scanned["record"]["type"] == "vial" and scanned["record"]["key"] == f"MCB-{din}-V002"


def test_a_vials_zpl_label_holds_the_same_2d_code_and_a_thawed_vial_gets_none(app, api):
    with in_db(app) as session:
        din = banked_cord(session).din
    zpl = api.get(f"/api/v1/vials/MCB-{din}-V004/label.zpl", as_="lab")
    assert zpl.status_code == 200
    [[(symbology, data)]] = zpl_symbols(zpl.get_data(as_text=True))
    assert symbology == "DataMatrix" and data == f"=+02000{Din.parse(din).barcode_data()}&aMCB-{din}-V004"
    refused = api.get(f"/api/v1/vials/MCB-{din}-V001/label.pdf", as_="lab")
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "vial_not_frozen"


def test_the_thaw_box_takes_the_vial_labels_2d_code(app, api):
    with in_db(app) as session:
        din = banked_cord(session).din
        vial = session.exec(select(Vial).join(CellBank, CellBank.id == Vial.bank_id)
                            .where(CellBank.bank_code == f"MCB-{din}", Vial.number == 5)).one()
        code = vial.vial_code
    thawed = api.post("/api/v1/vials/thaw", as_="lab", json={
        "vial": f"=+02000{Din.parse(din).barcode_data()}&a{code}", "purpose": "bank",
        "post_thaw_viability_pct": 90})
    assert thawed.status_code == 201, thawed.get_json()
    assert thawed.get_json()["vial_code"] == code


def test_the_bank_page_links_its_vial_labels_print_page(app, client, auth):
    with in_db(app) as session:
        din = banked_cord(session).din
    auth.login("lab")
    bank = client.get(f"/banks/MCB-{din}").get_data(as_text=True)
    assert f'href="/labels/print/bank/MCB-{din}"' in bank
    page = client.get(f"/labels/print/bank/MCB-{din}")
    assert page.status_code == 200 and "Cryovial labels of the bank" in page.get_data(as_text=True)


def test_a_vial_discarded_by_scanning_its_label_can_no_longer_be_thawed(app, api):
    with in_db(app) as session:
        din = banked_cord(session).din
    code = f"MCB-{din}-V006"
    discarded = api.post("/api/v1/custody", as_="lab", json={
        "item": f"&a{code}", "event": "discarded", "location": "cell processing lab", "notes": "cracked"})
    assert discarded.status_code == 201, discarded.get_json()
    assert discarded.get_json()["event"]["item_id"] == code
    thaw = api.post("/api/v1/vials/thaw", as_="lab", json={"vial": code, "purpose": "bank",
                                                            "post_thaw_viability_pct": 90})
    assert thaw.status_code == 409 and thaw.get_json()["reasons"][0]["code"] == "vial_discarded"
    bank = api.get(f"/api/v1/banks/MCB-{din}", as_="qa").get_json()["bank"]
    assert bank["vial_states"] == {"frozen": 8, "thawed": 1, "discarded": 1}
