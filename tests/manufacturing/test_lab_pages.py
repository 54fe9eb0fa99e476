"""The lab pages: scanning opens the right record, the lot page shows genealogy, arithmetic and growth."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from cellchain.identifiers.isbt128 import Din
from cellchain.manufacturing.documents.growth_curve import GrowthPoint, growth_svg
from cellchain.manufacturing.models import Collection, Lot
from tests.factories import materials
from tests.factories.lab import formulated_lot, in_db, make_bag, make_collection, make_lot, snapshot

SVG = "{http://www.w3.org/2000/svg}"
SITE = ZoneInfo("Asia/Shanghai")


def test_the_lab_index_lists_lots_cords_and_quarantined_bags(app, client, auth):
    with in_db(app) as session:
        growing = make_lot(session, passages=[(1_000_000, 2_000_000)]).lot_number
        waiting = make_collection(session).din
        filled = formulated_lot(session, status="awaiting_release")
        bag = make_bag(session, filled, "A0").bag_code
    auth.login("lab")
    page = client.get("/lab/").data.decode()
    assert 'data-scan' in page and 'autofocus' in page
    assert f'data-lot="{growing}"' in page.split('data-testid="awaiting-lot"')[0]
    assert f'data-din="{waiting}"' in page and f'data-bag="{bag}"' in page


def test_a_cord_leaves_the_lab_homes_waiting_list_once_its_lot_starts(app, client, auth):
    with in_db(app) as session:
        started, waiting = make_collection(session).din, make_collection(session).din
        discarded = make_collection(session, custody_state="discarded").din
    auth.login("lab")

    def waiting_list() -> set[str]:
        page = client.get("/lab/").get_data(as_text=True)
        section = page.split('data-testid="awaiting-lot"')[1].split("</section>")[0]
        return set(re.findall(r'<tr data-din="(\w+)"', section))

    assert waiting_list() == {started, waiting}
    assert auth.post(f"/lab/collections/{started}/lot").status_code == 303
    assert waiting_list() == {waiting}
    with in_db(app) as session:
        cords = {c.din: c.lot_started_at for c in session.exec(select(Collection))}
        first_lot = session.exec(select(Lot).where(Lot.lot_number == started)).one()
    # The database marks the cord with its lot's start, in the lot's own transaction (0017).
    assert cords[started] == first_lot.created_at
    assert cords[waiting] is None and cords[discarded] is None


def test_scanning_a_dins_barcode_opens_its_lot_or_its_cord(app, client, auth):
    with in_db(app) as session:
        lot = make_lot(session).lot_number
        cord = make_collection(session).din
    auth.login("lab")
    barcode = "=" + lot + Din.parse(lot).flags_type3
    response = client.get("/lab/open", query_string={"scan": barcode + "\r\n"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/lab/lots/{lot}")
    keyed = Din.parse(cord)
    response = client.get("/lab/open", query_string={"scan": f"{keyed.eye_readable} {keyed.check}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/lab/collections/{cord}")


def test_a_scanned_bag_opens_the_bag_page(app, client, auth):
    with in_db(app) as session:
        bag = make_bag(session, formulated_lot(session), "A0").bag_code
    auth.login("qa")
    response = client.get("/lab/open", query_string={"scan": bag})
    assert response.headers["Location"].endswith(f"/lab/bags/{bag}")
    page = client.get(response.headers["Location"]).data.decode()
    assert "quarantine" in page and "=&lt;D0001VA0" in page  # the product code barcode data, escaped


def test_a_wrong_check_character_is_refused_before_any_lookup(app, client, auth):
    with in_db(app) as session:
        cord = Din.parse(make_collection(session).din)
    wrong = next(ch for ch in "ABC" if ch != cord.check)
    auth.login("lab")
    response = client.get("/lab/open", query_string={"scan": f"{cord.text}{wrong}"})
    assert response.status_code == 400 and b"din_check_character_mismatch" in response.data
    assert b'data-scan' in response.data  # back at the scan box, with the reason in words


def test_an_unknown_din_and_a_wristband_are_answered_in_words(client, auth):
    auth.login("lab")
    unknown = Din.parse("A999926999999")
    response = client.get("/lab/open", query_string={"scan": f"{unknown.text}{unknown.check}"})
    assert response.status_code == 404 and b"no collection has DIN" in response.data
    response = client.get("/lab/open", query_string={"scan": "&#SUBJ-0001"})
    assert response.status_code in (400, 404)


def test_a_placebo_dins_scan_lists_its_bags(app, api, client, auth):
    materials.saline(app, "NS1")
    din = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 2, "saline_lot": "NS1"}).get_json()["din"]
    auth.login("lab")
    response = client.get("/lab/open", query_string={"scan": "=" + din + Din.parse(din).flags_type3})
    assert response.status_code == 302 and f"din={din}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).data.decode()
    assert page.count('data-bag="') == 2


def test_the_lot_page_shows_the_genealogy_and_the_doubling_arithmetic(app, client, auth):
    with in_db(app) as session:
        lot = formulated_lot(session)
        bag = make_bag(session, lot, "A0").bag_code
        lot_id, din = lot.lot_number, lot.lot_number
    auth.login("auditor")
    page = client.get(f"/lab/lots/{lot_id}").data.decode()
    tree = page.split('data-testid="genealogy"')[1].split("</section>")[0]
    order = [tree.index(marker) for marker in ("Cord", din, 'data-passage="0"', 'data-passage="1"',
                                               'data-passage="2"', "Harvest", "Formulation", f'data-bag="{bag}"')]
    assert order == sorted(order)
    table = page.split('data-testid="passages"')[1].split("</table>")[0]
    assert "log2(8,000,000 / 1,000,000) = 3.00" in table
    assert "log2(24,000,000 / 4,000,000) = 2.58" in table
    assert "log2(60,000,000 / 12,000,000) = 2.32" in table
    assert re.findall(r'class="cumulative">([0-9.]+)<', table) == ["3.00", "5.58", "7.91"]  # 3, +log2 6, +log2 5
    assert 'data-testid="cumulative">7.91<' in page
    assert "<form" not in page.split('id="steps"')[1].split("</section>")[0]  # an auditor reads, never records


def test_the_growth_curve_is_valid_svg_with_one_point_per_passage(app, client, auth):
    with in_db(app) as session:
        lot_id = make_lot(session, passages=[(1_000_000, 8_000_000), (2_000_000, 9_000_000),
                                             (3_000_000, 30_000_000)]).lot_number
    auth.login("lab")
    page = client.get(f"/lab/lots/{lot_id}").data.decode()
    assert f'src="/lab/lots/{lot_id}/growth.svg"' in page
    response = client.get(f"/lab/lots/{lot_id}/growth.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    for series in ("cells", "pd"):
        points = [c for c in root.iter(f"{SVG}circle") if series in c.get("class").split()]
        assert [p.get("data-passage") for p in points] == ["0", "1", "2"]
    pd_y = [float(c.get("cy")) for c in root.iter(f"{SVG}circle") if "pd" in c.get("class").split()]
    assert pd_y[0] > pd_y[1] > pd_y[2]  # cumulative doublings only rise (up is a smaller y)
    assert "style=" not in response.data.decode()


def test_the_growth_curve_writes_cells_as_the_pages_do():
    svg = growth_svg([GrowthPoint(0, 8_000_000, 3.0), GrowthPoint(1, 350_000_000, 8.4)])
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "1 x 10^7" in texts and "1 x 10^9" in texts  # the log axis marks its powers of ten
    titles = [t.text for c in root.iter(f"{SVG}circle") for t in c.iter(f"{SVG}title")]
    assert "P1: 350,000,000 (3.5 x 10^8) cells harvested" in titles
    assert "e+0" not in svg and ">1e" not in svg


def test_a_growth_curve_without_passages_says_so():
    root = ET.fromstring(growth_svg([]))
    assert not list(root.iter(f"{SVG}circle")) and "No passage" in ET.tostring(root, encoding="unicode")
    one = ET.fromstring(growth_svg([GrowthPoint(0, 5_000_000, 2.3)]))
    assert len(list(one.iter(f"{SVG}circle"))) == 2


def test_a_refused_form_shows_its_reasons_and_writes_nothing(app, client, auth):
    with in_db(app) as session:
        lot_id = make_lot(session, passages=[(1_000_000, 2_000_000)] * 6).lot_number
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = auth.post(f"/lab/lots/{lot_id}/passages", {
        "number": "6", "seeded_cells": "1000000", "harvested_cells": "2000000", "viability_pct": "90",
        "seeded_at": "2026-01-01T08:00", "harvested_at": "2026-01-02T08:00"})
    assert response.status_code in (400, 409)
    fill = auth.post(f"/lab/lots/{lot_id}/bags", {"count": "2", "volume_ml": "50", "total_cells": "1000000",
                                                  "anticoagulant": "heparin", "anticoagulant_lot": "HEP1"})
    assert fill.status_code == 409 and b"lot_not_formulated" in fill.data
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_cord_that_cannot_start_says_why_on_its_page(app, client, auth):
    with in_db(app) as session:
        din = make_collection(session, eligible=False, custody_state="collected").din
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = auth.post(f"/lab/collections/{din}/lot")
    assert response.status_code == 409
    assert b"donor_ineligible" in response.data and b"collection_not_received" in response.data
    with in_db(app) as session:
        assert snapshot(session) == before


def test_registering_a_cord_on_the_page_names_bad_fields(client, auth):
    auth.login("lab")
    response = auth.post("/lab/collections", {"donor_code": "Jane Doe", "collected_at": "", "site": ""})
    assert response.status_code == 400
    for field in (b"never a name", b"collected_at", b"site", b"consent_obtained"):
        assert field in response.data


def test_placebo_bags_are_filled_from_the_page(app, client, auth):
    materials.saline(app, "NS2611")
    auth.login("lab")
    assert b"licensed product" in client.get("/lab/placebo").data
    response = auth.post("/lab/placebo", {"count": "3", "volume_ml": "50", "saline_lot": "NS2611"})
    assert response.status_code == 303
    listing = client.get(response.headers["Location"]).data.decode()
    assert listing.count('data-bag="') == 3 and "placebo" in listing and "released" in listing


def test_people_outside_the_lab_are_kept_out(client, auth):
    auth.login("nurse")
    assert client.get("/lab/").status_code == 403
    auth.logout()
    auth.login("qc")
    assert auth.post("/lab/placebo", {"count": "1", "saline_lot": "NS1"}).status_code == 403


def test_cell_counts_are_taken_as_people_type_them(app, client, auth):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 8_000_000)])
        lot_id, seeded_at = lot.lot_number, lot.created_at + timedelta(days=4)
    auth.login("lab")
    response = auth.post(f"/lab/lots/{lot_id}/passages", {
        "number": "1", "seeded_cells": "4,000,000", "harvested_cells": "2.4e7", "viability_pct": "95",
        "seeded_at": seeded_at.astimezone(SITE).strftime("%Y-%m-%dT%H:%M"),
        "harvested_at": (seeded_at + timedelta(days=2)).astimezone(SITE).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code in (302, 303), response.data.decode()[:500]
    table = client.get(f"/lab/lots/{lot_id}").data.decode().split('data-testid="passages"')[1]
    assert "log2(24,000,000 / 4,000,000) = 2.58" in table
    refused = auth.post(f"/lab/lots/{lot_id}/passages", {
        "number": "2", "seeded_cells": "4,00", "harvested_cells": "1,5", "viability_pct": "95",
        "seeded_at": "2026-01-01T08:00", "harvested_at": "2026-01-02T08:00"})
    assert refused.status_code == 400 and b"is not a number" in refused.data
