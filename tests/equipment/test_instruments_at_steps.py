"""A batch step names the instruments it used; one past its calibration or maintenance due date or out of
service is refused by name, and the batch record lists what each step used."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from cellchain.equipment.models import InstrumentUse
from tests.factories import materials
from tests.factories.equipment import ZONE, make_instrument
from tests.factories.lab import days_ago, formulated_lot, in_db, iso, make_lot

FILL = {"count": 1, "volume_ml": 70, "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A"}


def test_a_fill_on_a_centrifuge_past_its_calibration_date_is_refused_naming_it(app, api):
    with in_db(app) as session:
        materials.released(session, "HEP2611A")  # the heparin lot the fill names
        lot_id = formulated_lot(session).lot_number
        make_instrument(session, "CF-01", calibration_in_days=-1)
        make_instrument(session, "BSC-02", kind="biosafety_cabinet", name="Cabinet 2")
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                        json={**FILL, "instruments": ["&gCF-01", "BSC-02"]})
    assert response.status_code == 409, response.get_json()
    reasons = response.get_json()["reasons"]
    assert [r["code"] for r in reasons] == ["instrument_overdue"]
    assert "Centrifuge 1 (CF-01)" in reasons[0]["message"] and "calibration" in reasons[0]["message"]
    assert api.get(f"/api/v1/lots/{lot_id}", as_="lab").get_json()["bags"] == []


def test_a_fill_with_instruments_in_date_lists_them_on_its_step(app, api):
    with in_db(app) as session:
        materials.released(session, "HEP2611A")  # the heparin lot the fill names
        lot_id = formulated_lot(session).lot_number
        make_instrument(session, "CF-01")
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab", json={**FILL, "instruments": ["CF-01"]})
    assert response.status_code == 201, response.get_json()
    lot = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    fill = next(s for s in lot["batch_record"]["steps"] if s["step"] == "fill")
    assert [(i["code"], i["fit"]) for i in fill["instruments"]] == [("CF-01", True)]


def test_a_passage_on_an_incubator_out_of_service_is_refused_and_an_unknown_one_names_the_field(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
        make_instrument(session, "INC-01", kind="incubator", name="Incubator 1")
    assert api.post("/api/v1/instruments/INC-01/out-of-service", as_="lab",
                    json={"reason": "CO2 alarm", "since": iso(days_ago(3))}).status_code == 200
    passage = {"number": 0, "seeded_cells": 1_000_000, "harvested_cells": 4_000_000, "viability_pct": 95,
               "seeded_at": iso(days_ago(2)), "harvested_at": iso(days_ago(1))}
    refused = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json={**passage, "instruments": ["INC-01"]})
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "instrument_out_of_service"
    assert "CO2 alarm" in refused.get_json()["reasons"][0]["message"]
    unknown = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json={**passage, "instruments": ["NOPE-9"]})
    assert unknown.status_code == 400 and "instruments" in unknown.get_json()["fields"]


def test_a_step_recorded_late_is_judged_at_its_own_time(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
        make_instrument(session, "INC-01", kind="incubator", calibration_in_days=-3)
    passage = {"number": 0, "seeded_cells": 1_000_000, "harvested_cells": 4_000_000, "viability_pct": 95,
               "seeded_at": iso(days_ago(8)), "harvested_at": iso(days_ago(5)), "instruments": ["INC-01"]}
    response = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json=passage)
    assert response.status_code == 201, response.get_json()
    with in_db(app) as session:
        used = session.exec(select(InstrumentUse)).one()
        assert used.used_at.astimezone(ZONE) < (days_ago(4) + timedelta(days=0)).astimezone(ZONE)
