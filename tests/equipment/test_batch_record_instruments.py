"""The lab scans the instruments on the lot page's step forms; the lot page and the batch record PDF list the
instruments each step used."""

from __future__ import annotations

import pymupdf

from tests.factories import materials
from tests.factories.equipment import make_instrument
from tests.factories.lab import formulated_lot, in_db, make_lot


def test_a_passage_typed_on_the_page_records_the_scanned_instruments_and_the_page_lists_them(app, auth, client):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
        make_instrument(session, "INC-01", kind="incubator", name="Incubator 1")
        make_instrument(session, "BSC-01", kind="biosafety_cabinet", name="Cabinet 1")
    auth.login("lab")
    assert 'data-testid="instruments-input"' in client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    response = auth.post(f"/lab/lots/{lot_id}/passages", {
        "number": "0", "seeded_cells": "1000000", "harvested_cells": "4000000", "viability_pct": "95",
        "seeded_at": "2026-11-20 08:00", "harvested_at": "2026-11-23 08:00", "instruments": "&gINC-01\r\nBSC-01\r\n"})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    assert 'data-instrument="INC-01"' in page and 'data-instrument="BSC-01"' in page


def test_a_fill_refused_on_the_page_names_the_overdue_centrifuge_and_keeps_what_was_typed(app, auth, client):
    with in_db(app) as session:
        materials.released(session, "HEP2611A")  # the heparin lot the fill names
        lot_id = formulated_lot(session).lot_number
        make_instrument(session, "CF-01", calibration_in_days=-5)
    auth.login("lab")
    response = auth.post(f"/lab/lots/{lot_id}/bags", {
        "count": "1", "volume_ml": "70", "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A",
        "preservation": "fresh", "instruments": "CF-01"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'data-reason="instrument_overdue"' in page and "Centrifuge 1 (CF-01)" in page
    assert ">CF-01</textarea>" in page


def test_the_batch_record_pdf_lists_the_instruments_of_each_step(app, api):
    with in_db(app) as session:
        materials.released(session, "HEP2611A")  # the heparin lot the fill names
        lot_id = formulated_lot(session).lot_number
        make_instrument(session, "CF-01")
    api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={
        "count": 1, "volume_ml": 70, "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A",
        "instruments": ["CF-01"]})
    response = api.get(f"/api/v1/lots/{lot_id}/batch-record.pdf", as_="qa")
    text = " ".join(page.get_text() for page in pymupdf.open(stream=response.data, filetype="pdf"))
    assert "Instruments used: CF-01 Centrifuge 1" in " ".join(text.split())
