"""Filling bags: quarantine, divisions A0.., expiry, all or nothing, no duplicate divisions; placebo bags."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cellchain.core import db
from cellchain.core.errors import Refused
from cellchain.identifiers.isbt128 import Din, ProductCode, parse_moment
from cellchain.identifiers.scans import parse_scan
from cellchain.manufacturing import bags
from cellchain.manufacturing.models import Bag, Lot
from tests.factories import materials
from tests.factories.lab import days_ago, formulated_lot, in_db, iso, make_bag, make_lot, snapshot, user

FILL = {"count": 3, "volume_ml": 70, "total_cells": 70_000_000, "anticoagulant": "heparin",
        "anticoagulant_lot": "HEP2611A", "anticoagulant_volume_ml": 5}


def ready_lot(app) -> str:
    """A formulated lot, and the released heparin lot ``FILL`` names."""
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        return formulated_lot(session).lot_number


def test_a_fill_makes_quarantined_bags_with_divisions_custody_and_a_fill_step(app, api):
    lot_id = ready_lot(app)
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json=FILL)
    assert response.status_code == 201, response.get_json()
    filled = response.get_json()["bags"]
    assert [b["bag_id"] for b in filled] == [f"{lot_id}-D0001VA0", f"{lot_id}-D0001VB0", f"{lot_id}-D0001VC0"]
    for bag in filled:
        assert bag["din"] == lot_id and bag["product_code"] == "D0001" and bag["collection_type"] == "V"
        assert bag["status"] == "quarantine" and bag["custody_state"] == "at_lab" and bag["kind"] == "ucmsc"
        assert bag["total_cells"] == 70_000_000 and bag["anticoagulant"] == "heparin"
        assert bag["anticoagulant_lot"] == "HEP2611A" and bag["anticoagulant_volume_ml"] == 5
    lot = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    assert lot["status"] == "awaiting_release" and lot["bags"] == [b["bag_id"] for b in filled]
    fill = next(s for s in lot["batch_record"]["steps"] if s["step"] == "fill")
    assert fill["details"]["bags"] == lot["bags"] and fill["performed_by"] == "lab"
    custody = api.get(f"/api/v1/collections/{lot_id}", as_="lab")  # the cord's own chain is untouched
    assert custody.status_code == 200


def test_the_expiry_is_the_shelf_life_from_the_fill_to_the_minute(app, api):
    lot_id = ready_lot(app)
    filled_at = days_ago(0.25)
    bag = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                   json={**FILL, "count": 1, "filled_at": iso(filled_at)}).get_json()["bags"][0]
    expected = (filled_at + timedelta(hours=48)).replace(second=0, microsecond=0)
    assert bag["expires_at"] == expected.strftime("%Y-%m-%dT%H:%M:00.000000Z")


def test_an_explicit_expiry_must_be_future_and_within_the_shelf_life(app, api):
    lot_id = ready_lot(app)
    api.token("lab")
    with in_db(app) as session:
        before = snapshot(session)
    for expires, word in ((days_ago(0.1), "future"), (days_ago(-3), "shelf life")):
        response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "expires_at": iso(expires)})
        assert response.status_code == 400 and word in response.get_json()["fields"]["expires_at"]
    with in_db(app) as session:
        assert snapshot(session) == before
    ok = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "expires_at": iso(days_ago(-1))})
    assert ok.status_code == 201


def test_unreadable_fill_fields_are_all_named(app, api):
    lot_id = ready_lot(app)
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                        json={**FILL, "count": 51, "anticoagulant": "citrate", "anticoagulant_lot": "lot 7!",
                              "volume_ml": 0, "total_cells": -5})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"count", "anticoagulant", "anticoagulant_lot", "volume_ml",
                                                  "total_cells"}
    zero = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "count": 0})
    assert "count" in zero.get_json()["fields"]


def test_fill_refusals_are_named_and_write_nothing(app):
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lab = user(session, "lab")
        unformulated = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000)
        filled = formulated_lot(session, status="awaiting_release")
        small = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000,
                         formulation=(1e6, 8.0))
        cases = [(unformulated, {"lot_not_formulated"}), (filled, {"lot_not_in_process"}),
                 (small, {"fill_exceeds_formulation"})]
        for lot, codes in cases:
            before = snapshot(session)
            with pytest.raises(Refused) as caught:
                bags.fill_bags(session, actor=lab, lot_number=lot.lot_number, data=FILL,
                               settings=bags.FillSettings.from_config(app.config))
            assert {r.code for r in caught.value.reasons} == codes
            assert snapshot(session) == before


def test_a_fill_recorded_before_the_formulation_is_refused(app):
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lot = formulated_lot(session)
        with pytest.raises(Refused) as caught:
            bags.fill_bags(session, actor=user(session, "lab"), lot_number=lot.lot_number,
                           data={**FILL, "filled_at": iso(days_ago(1.5))},
                           settings=bags.FillSettings.from_config(app.config))
        assert [r.code for r in caught.value.reasons] == ["fill_time_order"]


def test_divisions_continue_after_the_bags_a_din_already_has(app):
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lot = formulated_lot(session)
        make_bag(session, lot, "A0")
        make_bag(session, lot, "B0")
        made = bags.fill_bags(session, actor=user(session, "lab"), lot_number=lot.lot_number, data=FILL,
                              settings=bags.FillSettings.from_config(app.config))
        assert [b.division for b in made] == ["C0", "D0", "E0"]


def test_division_series_runs_through_the_alphabet_then_the_digit():
    assert [bags.division(i) for i in (0, 1, 25, 26, 27, 259)] == ["A0", "B0", "Z0", "A1", "B1", "Z9"]
    assert bags.next_divisions(["A0", "Z0"], 2) == ["A1", "B1"]
    with pytest.raises(Refused) as caught:
        bags.next_divisions(["Z9"], 1)
    assert caught.value.reasons[0].code == "divisions_exhausted"


def test_the_database_refuses_a_second_bag_with_the_same_identity(app):
    with in_db(app) as session:
        lot = formulated_lot(session)
        make_bag(session, lot, "A0")
        db.commit()
        with pytest.raises(IntegrityError):
            session.add(Bag(bag_code=f"{lot.lot_number}-D0001VA0X"[:32], din=lot.lot_number, product_code="D0001",
                            division="A0", kind="ucmsc", lot_id=lot.id, volume_ml=1, filled_at=days_ago(0),
                            expires_at=days_ago(-1), created_by=user(session, "lab").id))
            session.flush()
        session.rollback()


def test_two_fills_at_once_never_label_two_bags_alike(app):
    """Two requests race on one lot: the lot lock serialises them; the second sees the lot filled."""
    lot_id = ready_lot(app)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def fill() -> None:
        with app.app_context():
            session = db.session()
            try:
                barrier.wait()
                bags.fill_bags(session, actor=user(session, "lab"), lot_number=lot_id, data=FILL,
                               settings=bags.FillSettings.from_config(app.config))
                db.commit()
                outcomes.append("filled")
            except Refused as refusal:
                db.rollback()
                outcomes.append(refusal.reasons[0].code)
            except IntegrityError:
                db.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=fill) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["filled", "lot_not_in_process"]
    with in_db(app) as session:
        rows = session.exec(Bag.__table__.select().where(Bag.din == lot_id)).all()
        assert sorted(r.division for r in rows) == ["A0", "B0", "C0"]
        assert session.exec(Lot.__table__.select().where(Lot.lot_number == lot_id)).one().status == "awaiting_release"


def test_placebo_bags_get_a_din_of_their_own_and_are_released(app, api):
    materials.saline(app, "NS2611B")
    response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 4, "saline_lot": "NS2611B"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["bags"]) == 4
    din = body["din"]
    assert Din.parse(din).fin == "A9999"
    for bag, division in zip(body["bags"], ("A0", "B0", "C0", "D0"), strict=True):
        assert bag["bag_id"] == f"{din}-D0002V{division}" and bag["kind"] == "placebo"
        assert bag["status"] == "released" and bag["volume_ml"] == 50.0 and bag["saline_lot"] == "NS2611B"
        assert bag["lot_id"] is None and bag["custody_state"] == "at_lab" and bag["total_cells"] is None
    second = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NS2611B", "volume_ml": 100})
    assert second.get_json()["din"] != din and second.get_json()["bags"][0]["volume_ml"] == 100


def test_a_site_not_requiring_material_lots_keeps_a_typed_saline_lot_number_in_capitals(app, api):
    app.config["MATERIAL_LOTS_REQUIRED"] = False  # the site setting (docs/rules.md, "Manufacturing: bags")
    response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "ns2611b"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["bags"][0]["saline_lot"] == "NS2611B"


def test_a_typed_saline_lot_number_naming_no_material_lot_is_refused_by_name(app, api):
    response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NS2611B"})
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "material_lot_unknown"


def test_placebo_expiry_defaults_to_the_configured_days(app, api):
    materials.saline(app, "NS1")
    bag = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NS1"}).get_json()["bags"][0]
    got = api.get(f"/api/v1/bags/{bag['bag_id']}", as_="nurse").get_json()
    filled = datetime.fromisoformat(got["filled_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(got["expires_at"].replace("Z", "+00:00"))
    assert expires == (filled + timedelta(days=90)).replace(second=0, microsecond=0)


def test_placebo_refusals_write_nothing(app, api):
    api.token("lab"), api.token("qc")
    materials.saline(app, "NS1")
    with in_db(app) as session:
        before = snapshot(session)
    response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 2, "saline_lot": "", "volume_ml": -1})
    assert response.status_code == 400 and {"saline_lot", "volume_ml"} <= set(response.get_json()["fields"])
    assert api.post("/api/v1/placebo-bags", as_="qc", json={"count": 1, "saline_lot": "NS1"}).status_code == 403
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_bag_reads_back_with_its_label_data_and_allocation(app, api):
    lot_id = ready_lot(app)
    bag_id = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json=FILL).get_json()["bags"][1]["bag_id"]
    body = api.get(f"/api/v1/bags/{bag_id}", as_="coordinator").get_json()
    assert body["lot_id"] == lot_id and body["division"] == "B0" and body["allocation"] is None
    codes = body["barcodes"]
    assert codes["din"] == Din.parse(lot_id).barcode_data()
    assert ProductCode.parse(codes["product_code"]) == ProductCode("D0001", "V", "B0")
    scanned = parse_scan(bag_id)
    assert scanned.kind == "bag" and scanned.fields["din"] == lot_id and scanned.fields["division"] == "B0"
    expiry = parse_moment(codes["expiry"])
    assert expiry.strftime("%Y%j") and codes["expiry"].startswith("&>")
    assert api.get("/api/v1/bags/A999926999999-D0001VA0", as_="lab").status_code == 404


def test_bags_are_listed_by_quality_status_custody_state_and_lot(app, api):
    lot_id = ready_lot(app)
    materials.saline(app, "NS1")
    api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json=FILL)
    api.post("/api/v1/placebo-bags", as_="lab", json={"count": 2, "saline_lot": "NS1"})
    quarantined = api.get("/api/v1/bags?status=quarantine", as_="qa").get_json()["bags"]
    assert len(quarantined) == 3 and {b["lot_id"] for b in quarantined} == {lot_id}
    assert len(api.get("/api/v1/bags?status=released", as_="qa").get_json()["bags"]) == 2
    assert len(api.get("/api/v1/bags?status=at_lab", as_="qa").get_json()["bags"]) == 5
    assert len(api.get(f"/api/v1/bags?lot_id={lot_id}", as_="qa").get_json()["bags"]) == 3
    bad = api.get("/api/v1/bags?status=lost", as_="qa")
    assert bad.status_code == 400 and "status" in bad.get_json()["fields"]


def test_a_stated_cell_count_within_half_a_percent_is_accepted_and_the_bags_carry_the_computed_count(app, api):
    lot_id = ready_lot(app)  # 1e6 cells/ml: 70 ml hold 70,000,000 cells
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "total_cells": 70_340_000})
    assert response.status_code == 201, response.get_json()
    assert [b["total_cells"] for b in response.get_json()["bags"]] == [70_000_000] * 3
    with in_db(app) as session:
        assert {b.total_cells for b in session.exec(select(Bag).where(Bag.din == lot_id))} == {70_000_000}
    assert api.get(f"/api/v1/bags/{lot_id}-D0001VA0", as_="lab").get_json()["total_cells"] == 70_000_000


def test_a_stated_cell_count_more_than_half_a_percent_off_is_refused_naming_both_numbers(app, api):
    lot_id = ready_lot(app)
    api.token("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "total_cells": 70_360_000})
    assert response.status_code == 409
    [reason] = response.get_json()["reasons"]
    assert reason["code"] == "cell_content_mismatch"
    assert "70,360,000" in reason["message"] and "70,000,000" in reason["message"] and "0.51%" in reason["message"]
    with in_db(app) as session:
        assert snapshot(session) == before


def test_the_fill_page_takes_bags_without_a_cell_count_and_the_qa_page_shows_the_concentration(app, client, auth):
    lot_id = ready_lot(app)
    auth.login("lab")
    filled = auth.post(f"/lab/lots/{lot_id}/bags", {"count": "2", "volume_ml": "35", "anticoagulant": "heparin",
                                                    "anticoagulant_lot": "HEP2611A"})
    assert filled.status_code == 303
    auth.logout()
    auth.login("qa")
    page = " ".join(client.get(f"/qa/lots/{lot_id}").get_data(as_text=True).split())
    assert "Formulated concentration: <strong>1,000,000 cells/ml</strong>" in page
    assert "<th>Cells/ml</th><th>Volume</th><th>Cells per bag</th>" in page
    assert "<td>1,000,000</td><td>35 ml</td><td>35,000,000</td>" in page
