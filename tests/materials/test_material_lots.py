"""Material lots: received into quarantine (from the supplier's GS1 barcode or typed), released or rejected by
QC or QA with an e-signature, used at batch steps and fills only while released, in date and not held, each
refusal naming the lot; the batch record and the release check list them (docs/rules.md, "Materials")."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from cellchain.audit import reconcile
from cellchain.manufacturing.models import Bag, BatchStep
from cellchain.materials.models import MaterialLot, MaterialUse
from cellchain.quality import release_gaps
from tests.conftest import signature
from tests.factories.lab import formulated_lot, in_db
from tests.materials.scene import HEPARIN_GTIN, material, received

FILL = {"count": 2, "volume_ml": 70, "anticoagulant": "heparin", "anticoagulant_volume_ml": 5}


def test_a_fill_is_refused_for_an_expired_anticoagulant_lot_by_name(app, api):
    with in_db(app) as session:
        lot = formulated_lot(session)
        heparin = material(session, name="Heparin 5000 IU/ml")
        received(session, heparin, "HEP-2601-X", expires=date.today() - timedelta(days=1))
        number = lot.lot_number
    response = api.post(f"/api/v1/lots/{number}/bags", as_="lab", json={**FILL, "anticoagulant_lot": "HEP-2601-X"})
    assert response.status_code == 409
    reason = next(r for r in response.get_json()["reasons"] if r["code"] == "material_lot_expired")
    assert "Heparin 5000 IU/ml lot HEP-2601-X" in reason["message"] and "expired on" in reason["message"]
    with in_db(app) as session:
        assert session.exec(select(Bag)).all() == []


def test_a_fill_takes_a_released_anticoagulant_lot_with_hyphens_and_its_stock_goes_down(app, api):
    with in_db(app) as session:
        number = formulated_lot(session).lot_number
        heparin = material(session, name="Heparin", gtin=HEPARIN_GTIN)
        code = received(session, heparin, "HEP-26-11", quantity=100).code
    scan = "]C1" + "01" + HEPARIN_GTIN + "10HEP-26-11|17301231"  # "|": the configured GS substitute
    response = api.post(f"/api/v1/lots/{number}/bags", as_="lab", json={**FILL, "anticoagulant_lot": scan})
    assert response.status_code == 201, response.get_json()
    assert {b["anticoagulant_lot"] for b in response.get_json()["bags"]} == {"HEP-26-11"}
    with in_db(app) as session:
        lot = session.exec(select(MaterialLot).where(MaterialLot.code == code)).one()
        assert lot.quantity_left == 90.0  # 2 bags x 5 ml
        use = session.exec(select(MaterialUse)).one()
        assert (use.role, use.quantity, use.status_at_use) == ("anticoagulant", 10.0, "released")
    with in_db(app) as session:
        number = formulated_lot(session).lot_number
    typed = api.post(f"/api/v1/lots/{number}/bags", as_="lab", json={**FILL, "anticoagulant_lot": "HEP-NOT-HERE"})
    assert typed.status_code == 409 and typed.get_json()["reasons"][0]["code"] == "material_lot_unknown"
    with in_db(app) as session:  # the trail holds every value the material rows hold (docs/security.md)
        assert [d for d in reconcile.reconcile(session).differences if d.table.startswith("material")] == []


def test_a_lot_in_quarantine_or_rejected_or_of_another_kind_is_refused_by_name(app, api):
    with in_db(app) as session:
        number = formulated_lot(session).lot_number
        waiting = received(session, material(session, name="Heparin A"), "HEPQ1", status="quarantine")
        received(session, material(session, name="Heparin B"), "HEPR1", status="rejected")
        received(session, material(session, "saline", name="Saline"), "NS-1")
        waiting_code = waiting.code
    for text, code in (("HEPQ1", "material_lot_not_released"), (waiting_code, "material_lot_not_released"),
                       ("HEPR1", "material_lot_rejected"), ("NS-1", "material_lot_wrong_kind")):
        response = api.post(f"/api/v1/lots/{number}/bags", as_="lab", json={**FILL, "anticoagulant_lot": text})
        assert response.status_code == 409 and code in {r["code"] for r in response.get_json()["reasons"]}, text


def test_qc_releases_a_received_lot_with_an_e_signature_but_not_the_person_who_received_it(app, api):
    with in_db(app) as session:
        product = material(session, "platelet_lysate", name="Human platelet lysate", origin=True)
        product_id = product.id
    body = {"material_id": product_id, "supplier_lot": "PL-26-001", "expires_on": "2030-01-31", "quantity": 500,
            "unit": "ml"}
    missing = api.post("/api/v1/material-lots", as_="qc", json=body)
    assert missing.status_code == 400 and set(missing.get_json()["fields"]) == {"origin", "donor_testing"}
    made = api.post("/api/v1/material-lots", as_="qc", json={**body, "origin": "pooled platelets, EU",
                                                            "donor_testing": "HIV/HBV/HCV NAT negative"})
    assert made.status_code == 201 and made.get_json()["status"] == "quarantine"
    code = made.get_json()["code"]
    own = api.post(f"/api/v1/material-lots/{code}/release", as_="qc", json={"signature": signature("qc", "released")})
    assert own.status_code == 409 and own.get_json()["reasons"][0]["code"] == "material_receiver_not_releaser"
    released = api.post(f"/api/v1/material-lots/{code}/release", as_="qa",
                        json={"signature": signature("qa", "released")})
    assert released.status_code == 200 and released.get_json()["status"] == "released"
    assert released.get_json()["decided_by"]
    again = api.post(f"/api/v1/material-lots/{code}/reject", as_="qa",
                     json={"signature": signature("qa", "rejected"), "reason": "late"})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "material_lot_decided"


def test_a_lot_is_received_from_the_suppliers_gs1_barcode(app, api):
    with in_db(app) as session:
        material(session, name="Heparin", gtin=HEPARIN_GTIN)
    scan = "]d2" + "01" + HEPARIN_GTIN + "17280200" + "10HEP-7-A\x1d21SN1"
    made = api.post("/api/v1/material-lots", as_="lab", json={"scan": scan, "quantity": 50, "unit": "ml"})
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["supplier_lot"], made.get_json()["expires_on"]) == ("HEP-7-A", "2028-02-29")
    run_on = api.post("/api/v1/material-lots", as_="lab", json={"scan": "]C1" + "01" + HEPARIN_GTIN + "10HEP717280200",
                                                               "quantity": 50, "unit": "ml"})
    assert run_on.status_code == 400 and "runs on" in run_on.get_json()["fields"]["scan"]


def test_a_step_records_its_material_lots_and_the_release_check_names_a_lot_held_since(app, api):
    with in_db(app) as session:
        number = formulated_lot(session).lot_number
        lysate = received(session, material(session, "platelet_lysate", name="HPL", origin=True), "HPL-1")
        waiting = received(session, material(session, "medium", name="Medium"), "MED-1", status="quarantine")
        lysate_code, waiting_code = lysate.code, waiting.code
    refused = api.post(f"/api/v1/lots/{number}/batch-steps", as_="lab", json={
        "step": "media_and_reagent_lots", "materials": [{"material_lot": "HPL-1", "quantity": 20},
                                                        {"material_lot": "MED-1", "quantity": 100}]})
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["material_lot_not_released"]
    assert "MED-1" in refused.get_json()["reasons"][0]["message"]
    done = api.post(f"/api/v1/lots/{number}/batch-steps", as_="lab", json={
        "step": "media_and_reagent_lots", "materials": [{"material_lot": lysate_code, "quantity": 20}]})
    assert done.status_code == 201
    page = api.get(f"/api/v1/material-lots/{lysate_code}", as_="qa").get_json()
    assert page["quantity_left"] == 980.0 and page["uses"][0]["lot_id"] == number
    held = api.post("/api/v1/holds", as_="qa", json={"item_kind": "material_lot", "item_id": lysate_code,
                                                     "reason": "supplier recall",
                                                     "signature": signature("qa", "approved")})
    assert held.status_code == 201, held.get_json()
    again = api.post(f"/api/v1/lots/{number}/batch-steps", as_="lab", json={
        "step": "tissue_processing", "materials": [{"material_lot": lysate_code, "quantity": 1}]})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "material_lot_on_hold"
    with in_db(app) as session:
        from cellchain.manufacturing.lot_access import get_lot
        gaps = release_gaps.of_lot(session, get_lot(session, number))
        named = [g for g in gaps if g.code == "made_with_held_material"]
        assert len(named) == 1 and f"material lot {lysate_code}, ON HOLD" in named[0].message
        assert "supplier recall" in named[0].message
        assert not [g for g in gaps if g.code == "material_lot_invalid_when_used"]  # the hold says it, once
    assert waiting_code


def test_the_batch_record_page_and_pdf_list_the_material_lots_of_each_step(app, api, auth, client):
    with in_db(app) as session:
        number = formulated_lot(session).lot_number
        received(session, material(session, "enzyme", name="TrypLE"), "TRY-9")
    api.post(f"/api/v1/lots/{number}/batch-steps", as_="lab", json={
        "step": "media_and_reagent_lots", "materials": [{"material_lot": "TRY-9", "quantity": 5}]})
    with in_db(app) as session:
        step = session.exec(select(BatchStep).where(BatchStep.step_key == "media_and_reagent_lots")).one()
        assert step.id
    auth.login("lab")
    page = client.get(f"/lab/lots/{number}").get_data(as_text=True)
    assert "TrypLE lot TRY-9" in page
    pdf = api.get(f"/api/v1/lots/{number}/batch-record.pdf", as_="lab")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_placebo_fill_takes_a_released_saline_lot_and_its_look_back_lists_the_bags(app, api):
    with in_db(app) as session:
        saline = received(session, material(session, "saline", name="NaCl 0.9%"), "NS-26-04", quantity=1000)
        code = saline.code
    response = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 2, "saline_lot": "NS-26-04"})
    assert response.status_code == 201, response.get_json()
    back = api.get(f"/api/v1/lookback/material_lot/{code}", as_="qa")
    assert back.status_code == 200, back.get_json()
    bags = {i["id"] for i in back.get_json()["items"] if i["kind"] == "bag"}
    assert bags == {b["bag_id"] for b in response.get_json()["bags"]}
    unknown = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 1, "saline_lot": "NS-TYPED"})
    assert unknown.status_code == 409 and unknown.get_json()["reasons"][0]["code"] == "material_lot_unknown"


def test_a_scan_of_a_suppliers_barcode_or_a_lot_label_opens_the_material_lot(app, api, auth, client):
    with in_db(app) as session:
        code = received(session, material(session, name="Heparin", gtin=HEPARIN_GTIN), "HEP-1").code
    answer = api.post("/api/v1/scans", as_="lab", json={"data": "]C10109501101530003|10HEP-1"}).get_json()
    assert answer["kind"] == "gs1" and answer["record"]["type"] == "material_lot" and answer["record"]["key"] == code
    assert api.post("/api/v1/scans", as_="lab", json={"data": code}).get_json()["record"]["key"] == code
    auth.login("lab")
    opened = auth.post("/scan/", {"scan": code})
    assert opened.status_code in (302, 303) and opened.headers["Location"].endswith(f"/materials/lots/{code}")
    back = client.get(f"/lookback/material_lot/{code}")
    assert back.status_code in (200, 403)


def test_the_lots_received_are_listed_a_page_at_a_time_and_a_bad_status_is_named(app, api):
    with in_db(app) as session:
        product = material(session, "medium", name="Medium")
        for number in range(3):
            received(session, product, f"MED-{number}", status="quarantine" if number else "released")
    first = api.get("/api/v1/material-lots?limit=2", as_="auditor").get_json()
    assert [row["supplier_lot"] for row in first["lots"]] == ["MED-2", "MED-1"] and first["next"]
    released = api.get("/api/v1/material-lots?status=released", as_="lab").get_json()
    assert [row["supplier_lot"] for row in released["lots"]] == ["MED-0"]
    bad = api.get("/api/v1/material-lots?status=old", as_="lab")
    assert bad.status_code == 400 and "status" in bad.get_json()["fields"]
