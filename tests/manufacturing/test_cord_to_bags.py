"""One cord carried to filled, labelled bags: once through the API, once through the lab pages."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cellchain.identifiers.isbt128 import Din, ProductCode, parse_moment
from cellchain.identifiers.scans import parse_scan
from tests.conftest import signature
from tests.factories import materials
from tests.factories.lab import SCREENING, days_ago, iso

COUNTS = [(1_000_000, 8_000_000), (4_000_000, 24_000_000), (12_000_000, 60_000_000)]
SITE = ZoneInfo("Asia/Shanghai")


def hours_after(start: datetime, hours: float) -> datetime:
    return start + timedelta(hours=hours)


def test_a_cord_becomes_three_quarantined_bags_through_the_api(app, api):
    collected = days_ago(12)
    din = api.post("/api/v1/collections", as_="lab", json={
        "donor_code": "DONOR-0100", "collected_at": iso(collected), "site": "Delivery suite 1",
        "consent_obtained": True, "screening": SCREENING}).get_json()["din"]
    for event, hours, temperature in (("shipped", 1, 18.0), ("received", 3, 6.5)):
        response = api.post("/api/v1/custody", as_="lab", json={
            "item": f"={din}{Din.parse(din).flags_type3}", "event": event, "location": "cell processing lab",
            "temperature_c": temperature, "occurred_at": iso(hours_after(collected, hours))})
        assert response.status_code == 201, response.get_json()
    lot = api.post("/api/v1/lots", as_="lab", json={"collection_din": din})
    assert lot.status_code == 201 and lot.get_json()["lot_id"] == din
    for number, (seeded, harvested) in enumerate(COUNTS):
        start = hours_after(collected, 6 + 72 * number)
        response = api.post(f"/api/v1/lots/{din}/passages", as_="lab", json={
            "number": number, "seeded_cells": seeded, "harvested_cells": harvested, "viability_pct": 95,
            "seeded_at": iso(start), "harvested_at": iso(hours_after(start, 70))})
        assert response.status_code == 201, response.get_json()
    for step in ("tissue_processing", "media_and_reagent_lots", "wash"):
        assert api.post(f"/api/v1/lots/{din}/batch-steps", as_="lab", json={"step": step}).status_code == 201
    assert api.post(f"/api/v1/lots/{din}/harvest", as_="lab", json={"harvested_cells": 60_000_000}).status_code == 201
    formulation = api.post(f"/api/v1/lots/{din}/formulation", as_="lab", json={"cells_per_ml": 1e6, "volume_ml": 55})
    assert formulation.status_code == 201
    materials.stocked(app, "ACD2611")
    fill = api.post(f"/api/v1/lots/{din}/bags", as_="lab", json={
        "count": 3, "volume_ml": 18, "total_cells": 18_000_000, "anticoagulant": "ACD-A",
        "anticoagulant_lot": "ACD2611", "anticoagulant_volume_ml": 2})
    assert fill.status_code == 201, fill.get_json()
    record = api.get(f"/api/v1/lots/{din}", as_="qa").get_json()["batch_record"]
    for step in record["steps"]:
        if step["needs_verification"]:
            verified = api.post(f"/api/v1/lots/{din}/batch-steps/{step['step_id']}/verify", as_="qa",
                                json={"signature": signature("qa", "verified")})
            assert verified.status_code == 201, verified.get_json()

    lot = api.get(f"/api/v1/lots/{din}", as_="qa").get_json()
    assert lot["status"] == "awaiting_release" and lot["batch_record"]["complete"]
    assert lot["cumulative_doublings"] == pytest.approx(math.log2(8) + math.log2(6) + math.log2(5))
    assert lot["bags"] == [f"{din}-D0001VA0", f"{din}-D0001VB0", f"{din}-D0001VC0"]
    quarantine = api.get(f"/api/v1/bags?status=quarantine&lot_id={din}", as_="lab").get_json()["bags"]
    assert [b["bag_id"] for b in quarantine] == lot["bags"]
    for bag_id in lot["bags"]:
        bag = api.get(f"/api/v1/bags/{bag_id}", as_="lab").get_json()
        scan = parse_scan(bag_id)
        assert (scan.fields["din"], scan.fields["product_code"], scan.fields["division"]) == (
            din, "D0001", bag["division"])
        assert bag["barcodes"]["din"] == "=" + din + Din.parse(din).flags_type3
        assert ProductCode.parse(bag["barcodes"]["product_code"]).text == f"D0001V{bag['division']}"
        expires = datetime.fromisoformat(bag["expires_at"].replace("Z", "+00:00"))
        assert parse_moment(bag["barcodes"]["expiry"], SITE) == expires.astimezone(SITE)
        assert bag["anticoagulant"] == "ACD-A" and bag["volume_ml"] == 18 and bag["total_cells"] == 18_000_000


def local(moment: datetime) -> str:
    """What a person types into a datetime-local field at the site."""
    return moment.astimezone(SITE).strftime("%Y-%m-%dT%H:%M")


def test_a_cord_becomes_three_quarantined_bags_through_the_lab_pages(app, client, auth):
    collected = days_ago(12)
    auth.login("lab")
    form = {"donor_code": "DONOR-0200", "collected_at": local(collected), "site": "Delivery suite 2",
            "consent_obtained": "yes", "medical_history_ok": "ok",
            **{f"screening.{test}": result for test, result in SCREENING.items()}}
    registered = auth.post("/lab/collections", form)
    assert registered.status_code == 303
    din = registered.headers["Location"].rstrip("/").split("/")[-1]
    page = client.get(f"/lab/collections/{din}")
    assert b"Eligible" in page.data and din.encode() in page.data
    for event, hours in (("shipped", 1), ("received", 3)):
        response = auth.post(f"/lab/collections/{din}/handover", {
            "event": event, "location": "cell processing lab", "temperature_c": "6",
            "occurred_at": local(hours_after(collected, hours))})
        assert response.status_code == 303
    started = auth.post(f"/lab/collections/{din}/lot")
    assert started.status_code == 303 and started.headers["Location"].endswith(f"/lab/lots/{din}")

    for number, (seeded, harvested) in enumerate(COUNTS):
        start = hours_after(collected, 6 + 72 * number)
        response = auth.post(f"/lab/lots/{din}/passages", {
            "number": str(number), "seeded_cells": str(seeded), "harvested_cells": str(harvested),
            "viability_pct": "95", "seeded_at": local(start), "harvested_at": local(hours_after(start, 70))})
        assert response.status_code == 303, response.data
    for step in ("tissue_processing", "media_and_reagent_lots", "wash"):
        response = auth.post(f"/lab/lots/{din}/batch-steps", {"step": step, "details": "operator note: ok"})
        assert response.status_code == 303
    assert auth.post(f"/lab/lots/{din}/harvest", {"harvested_cells": "60000000"}).status_code == 303
    assert auth.post(f"/lab/lots/{din}/formulation", {"cells_per_ml": "1000000", "volume_ml": "55"}).status_code == 303
    materials.stocked(app, "HEP2611")
    filled = auth.post(f"/lab/lots/{din}/bags", {"count": "3", "volume_ml": "18", "total_cells": "18000000",
                                                 "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611"})
    assert filled.status_code == 303
    page = client.get(f"/lab/lots/{din}").data.decode()
    assert "Verification required" in page and "Another person must verify your step." in page

    auth.logout()
    auth.login("qa")
    page = client.get(f"/lab/lots/{din}").data.decode()
    step_ids = re.findall(rf"/lab/lots/{din}/batch-steps/(\d+)/verify", page)
    assert len(step_ids) == 3  # tissue processing, formulation, fill
    for step_id in step_ids:
        response = auth.post(f"/lab/lots/{din}/batch-steps/{step_id}/verify", {
            "signature_username": "qa", "signature_password": "cellchain-demo", "signature_meaning": "verified"})
        assert response.status_code == 303

    page = client.get(f"/lab/lots/{din}").data.decode()
    assert 'data-testid="batch-complete"' in page
    assert "awaiting release" in page
    for division in ("A0", "B0", "C0"):
        assert f'data-bag="{din}-D0001V{division}"' in page
    index = client.get("/lab/").data.decode()
    assert f"{din}-D0001VA0" in index.split('data-testid="quarantine"')[1]
    bag_page = client.get(f"/lab/bags/{din}-D0001VB0").data.decode()
    assert "quarantine" in bag_page and "HEP2611" in bag_page and "18,000,000" in bag_page
