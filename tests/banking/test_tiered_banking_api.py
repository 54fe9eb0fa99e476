"""Tiered banking through the API: cord -> lot -> MCB -> thaw -> WCB lot -> WCB -> thaw -> dosing lot -> bags."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from cellchain.banking.models import Vial
from cellchain.identifiers.isbt128 import encode_local
from cellchain.identifiers.scans import parse_scan
from cellchain.manufacturing.models import Lot
from tests.factories import materials
from tests.factories.lab import days_ago, in_db, iso, make_collection, snapshot

GROWTH = (1_000_000, 4_000_000)  # two doublings per passage


def grow(api, lot_id: str, numbers: range, start: datetime) -> datetime:
    """Record passages ``numbers`` a day apart from ``start``; the last harvest's time."""
    harvested = start
    for i, number in enumerate(numbers):
        seeded = start + timedelta(days=i)
        harvested = seeded + timedelta(hours=20)
        response = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json={
            "number": number, "seeded_cells": GROWTH[0], "harvested_cells": GROWTH[1], "viability_pct": 95,
            "seeded_at": iso(seeded), "harvested_at": iso(harvested)})
        assert response.status_code == 201, response.get_json()
    return harvested


def release(app, lot_id: str) -> None:
    """QA's release of a bank lot (judged against the bank specification, which the quality area keeps)."""
    with in_db(app) as session:
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        lot.status = "released"
        session.add(lot)


def freeze(api, lot_id: str, level: str, passage: int, vials: int, at: datetime):
    return api.post(f"/api/v1/lots/{lot_id}/bank", as_="lab", json={
        "level": level, "passage": passage, "vial_count": vials, "cells_per_vial": 5e6,
        "cryoprotectant": "10% DMSO", "frozen_at": iso(at)})


def thaw(api, vial_code: str, purpose: str, at: datetime):
    return api.post("/api/v1/vials/thaw", as_="lab", json={
        "vial": encode_local("a", vial_code), "purpose": purpose, "post_thaw_viability_pct": 91.5,
        "thawed_at": iso(at)})


def banked_mcb(app, api) -> tuple[str, str]:
    """A released MCB of 10 vials frozen at P2 from a bank lot of a received cord: (DIN, bank code)."""
    with in_db(app) as session:
        din = make_collection(session, collected_at=days_ago(20)).din
    started = api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "bank"})
    assert started.status_code == 201 and started.get_json()["purpose"] == "bank"
    harvested = grow(api, din, range(0, 3), days_ago(19))
    mcb = freeze(api, din, "MCB", 2, 10, harvested + timedelta(hours=1))
    assert mcb.status_code == 201, mcb.get_json()
    release(app, din)
    return din, mcb.get_json()["bank_code"]


def test_a_cord_is_banked_twice_and_its_dosing_lot_fills_bags_with_the_cords_din(app, api):
    din, mcb = banked_mcb(app, api)
    assert mcb == f"MCB-{din}"
    bank = api.get(f"/api/v1/banks/{mcb}", as_="qa").get_json()
    assert bank["bank"]["status"] == "released" and bank["bank"]["passage"] == 2
    assert bank["bank"]["cumulative_doublings"] == 6.0 and len(bank["vials"]) == 10
    assert bank["vials"][0]["vial_code"] == f"{mcb}-V001" and bank["vials"][0]["custody_state"] == "at_lab"

    wcb_lot = thaw(api, f"{mcb}-V001", "bank", days_ago(15))
    assert wcb_lot.status_code == 201, wcb_lot.get_json()
    assert wcb_lot.get_json() == {"vial_code": f"{mcb}-V001", "lot_id": f"{din}-L01", "purpose": "bank",
                                       "first_passage": 3, "starting_doublings": 6.0}
    harvested = grow(api, f"{din}-L01", range(3, 5), days_ago(14))
    wcb = freeze(api, f"{din}-L01", "WCB", 4, 20, harvested + timedelta(hours=1))
    assert wcb.status_code == 201, wcb.get_json()
    assert wcb.get_json()["bank_code"] == f"WCB-{din}-01" and wcb.get_json()["cumulative_doublings"] == 10.0
    release(app, f"{din}-L01")

    dosing = thaw(api, f"WCB-{din}-01-V007", "dosing", days_ago(10))
    assert dosing.status_code == 201, dosing.get_json()
    lot_id = dosing.get_json()["lot_id"]
    assert lot_id == f"{din}-L02" and dosing.get_json()["first_passage"] == 5
    grow(api, lot_id, range(5, 6), days_ago(9))
    assert api.post(f"/api/v1/lots/{lot_id}/harvest", as_="lab", json={"harvested_cells": 4_000_000}).status_code == 201
    assert api.post(f"/api/v1/lots/{lot_id}/formulation", as_="lab",
                    json={"cells_per_ml": 1e5, "volume_ml": 30}).status_code == 201
    materials.stocked(app, "ACD2611")
    fill = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={
        "count": 2, "volume_ml": 10, "total_cells": 1_000_000, "anticoagulant": "ACD-A",
        "anticoagulant_lot": "ACD2611"})
    assert fill.status_code == 201, fill.get_json()
    lot = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    assert lot["din"] == din and lot["cumulative_doublings"] == 12.0
    assert lot["bags"] == [f"{din}-D0001VA0", f"{din}-D0001VB0"]
    assert all(parse_scan(bag).fields["din"] == din for bag in lot["bags"])

    tree = api.get(f"/api/v1/collections/{din}/genealogy", as_="auditor").get_json()
    path = []
    node = tree
    while node["children"]:
        node = node["children"][0]
        path.append((node["type"], node["key"]))
    assert path == [("lot", din), ("bank", mcb), ("vial", f"{mcb}-V001"), ("lot", f"{din}-L01"),
                    ("bank", f"WCB-{din}-01"), ("vial", f"WCB-{din}-01-V007"), ("lot", lot_id),
                    ("bag", f"{din}-D0001VA0")]
    assert tree["children"][0]["children"][0]["summary"]["vial_states"] == {"frozen": 9, "thawed": 1}


def test_a_dosing_lots_passages_continue_from_the_bank_and_stop_at_the_limit_counted_from_the_cord(app, api):
    _, mcb = banked_mcb(app, api)
    app.config["DOSING_LOT_FROM_MCB"] = True
    lot_id = thaw(api, f"{mcb}-V002", "dosing", days_ago(12)).get_json()["lot_id"]
    first = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json={
        "number": 0, "seeded_cells": 1_000_000, "harvested_cells": 2_000_000, "viability_pct": 95,
        "seeded_at": iso(days_ago(11)), "harvested_at": iso(days_ago(10.5))})
    assert first.status_code == 409
    assert first.get_json()["reasons"][0]["code"] == "passage_out_of_order"
    grow(api, lot_id, range(3, 6), days_ago(11))
    beyond = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json={
        "number": 6, "seeded_cells": 1_000_000, "harvested_cells": 2_000_000, "viability_pct": 95,
        "seeded_at": iso(days_ago(6)), "harvested_at": iso(days_ago(5.5))})
    assert beyond.status_code == 409
    assert [r["code"] for r in beyond.get_json()["reasons"]] == ["passage_limit_exceeded"]


def test_a_vial_cannot_be_thawed_twice(app, api):
    _, mcb = banked_mcb(app, api)
    assert thaw(api, f"{mcb}-V003", "bank", days_ago(12)).status_code == 201
    with in_db(app) as session:
        before = snapshot(session)
    again = thaw(api, f"{mcb}-V003", "bank", days_ago(11))
    assert again.status_code == 409
    assert "vial_already_thawed" in [r["code"] for r in again.get_json()["reasons"]]
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_wcb_cannot_come_from_an_unreleased_mcb(app, api):
    with in_db(app) as session:
        din = make_collection(session, collected_at=days_ago(20)).din
    api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "bank"})
    harvested = grow(api, din, range(0, 3), days_ago(19))
    mcb = freeze(api, din, "MCB", 2, 4, harvested + timedelta(hours=1)).get_json()["bank_code"]
    refused = thaw(api, f"{mcb}-V001", "bank", days_ago(12))
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["source_bank_not_released"]
    with in_db(app) as session:
        vial = session.exec(select(Vial).where(Vial.vial_code == f"{mcb}-V001")).one()
        assert vial.state == "frozen" and vial.started_lot_id is None
        assert len(session.exec(select(Lot).where(Lot.din == din)).all()) == 1


def test_a_dosing_lot_cannot_be_frozen_and_a_bank_lot_cannot_be_filled(app, api):
    with in_db(app) as session:
        din = make_collection(session, collected_at=days_ago(20)).din
    api.post("/api/v1/lots", as_="lab", json={"collection_din": din})
    harvested = grow(api, din, range(0, 2), days_ago(19))
    refused = freeze(api, din, "MCB", 1, 4, harvested + timedelta(hours=1))
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "lot_not_for_bank"


def test_an_mcb_vial_is_not_thawed_for_dosing_unless_the_site_allows_it(app, api):
    _, mcb = banked_mcb(app, api)
    refused = thaw(api, f"{mcb}-V001", "dosing", days_ago(12))
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "thaw_purpose_not_allowed"


def test_a_site_that_doses_only_from_banks_refuses_a_dosing_lot_straight_from_the_cord(app, api):
    app.config["DOSING_LOT_FROM_CORD"] = False
    with in_db(app) as session:
        din = make_collection(session).din
    refused = api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "dosing"})
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "dosing_lot_from_cord_not_allowed"
    assert api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "bank"}).status_code == 201


def test_a_bank_is_frozen_only_at_a_passage_the_lot_has_reached(app, api):
    with in_db(app) as session:
        din = make_collection(session, collected_at=days_ago(20)).din
    api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "bank"})
    harvested = grow(api, din, range(0, 2), days_ago(19))
    refused = freeze(api, din, "WCB", 3, 4, harvested + timedelta(hours=1))
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["bank_level_not_allowed", "bank_passage_not_reached"]


def test_a_freeze_with_unreadable_fields_names_each_and_writes_nothing(app, api):
    with in_db(app) as session:
        din = make_collection(session).din
    api.post("/api/v1/lots", as_="lab", json={"collection_din": din, "purpose": "bank"})
    with in_db(app) as session:
        before = snapshot(session)
    refused = api.post(f"/api/v1/lots/{din}/bank", as_="lab", json={
        "level": "MCB", "passage": -1, "vial_count": 5000, "cells_per_vial": 0, "cryoprotectant": ""})
    assert refused.status_code == 400
    assert set(refused.get_json()["fields"]) == {"passage", "vial_count", "cells_per_vial", "cryoprotectant"}
    with in_db(app) as session:
        assert snapshot(session) == before
