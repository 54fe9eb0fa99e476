"""The cell-bank pages: freeze from the lot page, thaw by scanning the vial, the bank and vial pages, the
genealogy tree, and the scan boxes that open a vial or a banked cord's genealogy."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from cellchain.banking.models import CellBank, Vial
from cellchain.identifiers.isbt128 import Din, encode_local
from cellchain.manufacturing.models import Lot
from tests.factories.banking import bank_lot, banked_cord, first_vial, make_bank
from tests.factories.lab import days_ago, in_db, make_bag, make_collection, make_lot, snapshot
from tests.factories.queries import counting

SITE = ZoneInfo("Asia/Shanghai")


def test_the_lab_freezes_a_master_bank_from_the_bank_lots_page(app, client, auth):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 4_000_000), (2_000_000, 8_000_000)])
        lot.purpose = "bank"
        session.add(lot)
        din = lot.din
    auth.login("lab")
    page = client.get(f"/lab/lots/{din}").get_data(as_text=True)
    assert 'data-testid="freeze-form"' in page and f'action="/banks/lots/{din}/freeze"' in page
    response = auth.post(f"/banks/lots/{din}/freeze", {"level": "MCB", "passage": "1", "vial_count": "6",
                                                       "cells_per_vial": "5000000", "cryoprotectant": "10% DMSO"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/banks/MCB-{din}")
    bank = client.get(f"/banks/MCB-{din}").get_data(as_text=True)
    assert bank.count('data-vial="') == 6 and "awaiting release" in bank
    assert f"MCB-{din}-V006" in bank
    lot_page = client.get(f"/lab/lots/{din}")
    assert lot_page.status_code == 200 and "awaiting release" in lot_page.get_data(as_text=True)
    assert 'data-testid="freeze-form"' not in lot_page.get_data(as_text=True)
    record = client.get(f"/api/v1/lots/{din}/batch-record.pdf")
    assert record.status_code == 200 and record.mimetype == "application/pdf"


def test_a_refused_freeze_shows_the_reason_and_keeps_what_was_typed(app, client, auth):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 4_000_000)])
        lot.purpose = "bank"
        session.add(lot)
        din = lot.din
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = auth.post(f"/banks/lots/{din}/freeze", {"level": "MCB", "passage": "3", "vial_count": "6",
                                                       "cells_per_vial": "5000000", "cryoprotectant": "5% DMSO"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "bank_passage_not_reached" in page and 'value="5% DMSO"' in page
    with in_db(app) as session:
        assert snapshot(session) == before


def test_the_lab_thaws_a_vial_by_scanning_its_label_and_lands_on_the_new_lot(app, client, auth):
    with in_db(app) as session:
        cord = make_collection(session, collected_at=days_ago(20))
        code = first_vial(session, make_bank(session, bank_lot(session, cord))).vial_code
        din = cord.din
    auth.login("lab")
    form = client.get("/banks/thaw").get_data(as_text=True)
    assert 'name="vial" class="scanbox" data-scan autofocus' in form
    response = auth.post("/banks/thaw", {"vial": encode_local("a", code), "purpose": "bank",
                                         "post_thaw_viability_pct": "88"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/lab/lots/{din}-L01")
    lot_page = client.get(f"/lab/lots/{din}-L01").get_data(as_text=True)
    assert "continue from P3" in lot_page
    vial = client.get(f"/banks/vials/{code}").get_data(as_text=True)
    assert "thawed" in vial and "88.0% viable after thaw" in vial and f"{din}-L01" in vial


def test_a_thaw_of_a_vial_still_in_its_bank_lot_awaiting_release_is_refused_on_the_page(app, client, auth):
    with in_db(app) as session:
        cord = make_collection(session, collected_at=days_ago(20))
        code = first_vial(session, make_bank(session, bank_lot(session, cord, status="awaiting_release"))).vial_code
    auth.login("lab")
    response = auth.post("/banks/thaw", {"vial": code, "purpose": "bank", "post_thaw_viability_pct": "88"})
    assert response.status_code == 409 and "source_bank_not_released" in response.get_data(as_text=True)


def test_the_genealogy_page_shows_cord_to_bags_and_is_reachable_from_a_vial_and_a_lot(app, client, auth):
    with in_db(app) as session:
        din = banked_cord(session).din
    auth.login("qa")
    page = client.get(f"/banks/genealogy/{din}").get_data(as_text=True)
    for key in (din, f"MCB-{din}", f"MCB-{din}-V001", f"{din}-L01", f"WCB-{din}-01", f"WCB-{din}-01-V001",
                f"{din}-L02"):
        assert f'data-key="{key}"' in page
    assert "9 frozen" in page and "style=" not in page  # nested lists indent it (the CSP allows no inline style)
    vial_item = page[page.index(f'data-key="MCB-{din}-V001"'):]
    assert vial_item.index(f'data-key="{din}-L01"') < vial_item.index("</li>")  # the lot sits inside its vial
    for record_type, key in (("vial", f"WCB-{din}-01-V001"), ("lot", f"{din}-L02"), ("bank", f"MCB-{din}")):
        response = client.get(f"/banks/genealogy/of/{record_type}/{key}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/banks/genealogy/{din}")


def test_the_genealogy_is_read_in_the_same_number_of_statements_for_one_bank_or_many(app, client, auth):
    with in_db(app) as session:
        small = banked_cord(session, wcb_count=1, vials_per_bank=3).din
        large = banked_cord(session, wcb_count=6, vials_per_bank=40).din
    auth.login("qa")
    counts = []
    for din in (small, large):
        with counting(app) as seen:
            assert client.get(f"/api/v1/collections/{din}/genealogy").status_code == 200
            assert client.get(f"/banks/genealogy/{din}").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_a_scanned_vial_label_opens_the_vial_and_a_banked_cords_din_opens_its_genealogy(app, client, auth):
    with in_db(app) as session:
        cord = banked_cord(session)
        din = cord.din
        code = session.exec(select(Vial.vial_code).join(CellBank, CellBank.id == Vial.bank_id)
                            .where(CellBank.level == "WCB", Vial.number == 2)).first()
    auth.login("lab")
    opened = auth.post("/scan/", {"scan": encode_local("a", code)})
    assert opened.status_code in (302, 303) and opened.headers["Location"].endswith(f"/banks/vials/{code}")
    cord_scan = auth.post("/scan/", {"scan": f"={din}{Din.parse(din).flags_type3}"})
    assert cord_scan.status_code in (302, 303) and cord_scan.headers["Location"].endswith(f"/banks/genealogy/{din}")


def test_the_bank_list_shows_each_banks_status_from_its_lot_and_frozen_vials_left(app, client, auth):
    with in_db(app) as session:
        din = banked_cord(session).din
        wcb_lot = session.exec(select(Lot).where(Lot.lot_number == f"{din}-L01")).one()
        wcb_lot.status = "rejected"
        session.add(wcb_lot)
    auth.login("auditor")
    page = client.get("/banks/").get_data(as_text=True)
    row = page[page.index(f'data-bank="WCB-{din}-01"'):]
    assert "rejected" in row[:row.index("</tr>")] and "9 / 1 / 10" in row[:row.index("</tr>")]
    assert "Thaw a vial" not in page  # the auditor reads, never thaws


def test_a_scanned_vessel_of_a_lot_thawed_from_a_vial_opens_that_lot(app, client, auth):
    with in_db(app) as session:
        din = banked_cord(session).din
    auth.login("lab")
    opened = auth.post("/scan/", {"scan": f"&e{din}-L01-P1-V01"})
    assert opened.status_code in (302, 303) and opened.headers["Location"].endswith(f"/lab/lots/{din}-L01")


def test_a_bag_page_leads_to_its_cords_genealogy(app, client, auth):
    with in_db(app) as session:
        lot = make_lot(session)
        bag = make_bag(session, lot, "A0")
        code, din = bag.bag_code, lot.din
    auth.login("qa")
    page = client.get(f"/lab/bags/{code}").get_data(as_text=True)
    assert f'href="/banks/genealogy/of/bag/{code}"' in page
    opened = client.get(f"/banks/genealogy/of/bag/{code}")
    assert opened.headers["Location"].endswith(f"/banks/genealogy/{din}")
    tree = client.get(f"/banks/genealogy/{din}").get_data(as_text=True)
    assert f'data-key="{code}"' in tree
