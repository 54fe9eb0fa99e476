"""The release check names an instrument found unfit after a step used it: taken out of service from an
earlier time, or found out of tolerance at its next calibration."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import materials
from tests.factories.equipment import make_instrument, today
from tests.factories.lab import days_ago, formulated_lot, in_db, iso

FILL = {"count": 1, "volume_ml": 70, "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A"}


def _filled_with(app, api, code: str) -> str:
    with in_db(app) as session:
        materials.released(session, "HEP2611A")  # the heparin lot the fill names
        lot_id = formulated_lot(session).lot_number
        make_instrument(session, code)
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                        json={**FILL, "filled_at": iso(days_ago(0.1)), "instruments": [code]})
    assert response.status_code == 201, response.get_json()
    return lot_id


def _instrument_gaps(api, lot_id: str) -> list[dict]:
    reasons = api.get(f"/api/v1/lots/{lot_id}/release-check", as_="qa").get_json()["reasons"]
    return [r for r in reasons if r["code"] == "instrument_unfit_when_used"]


def test_a_centrifuge_taken_out_of_service_from_before_the_fill_is_named_by_the_release_check(app, api):
    lot_id = _filled_with(app, api, "CF-01")
    assert _instrument_gaps(api, lot_id) == []
    api.post("/api/v1/instruments/CF-01/out-of-service", as_="lab",
             json={"reason": "rotor imbalance since the night shift", "since": iso(days_ago(0.5))})
    gaps = _instrument_gaps(api, lot_id)
    assert len(gaps) == 1 and gaps[0]["params"]["instrument"] == "CF-01" and gaps[0]["params"]["step"] == "fill"
    assert "rotor imbalance" in gaps[0]["message"]
    page = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    fill = next(s for s in page["batch_record"]["steps"] if s["step"] == "fill")
    assert fill["instruments"][0]["fit"] is False


def test_a_calibration_that_finds_the_centrifuge_out_of_tolerance_makes_the_earlier_fill_a_gap(app, api):
    lot_id = _filled_with(app, api, "CF-01")
    response = api.post("/api/v1/instruments/CF-01/calibrations", as_="lab", json={
        "done_on": today().isoformat(), "next_due": (today() + timedelta(days=180)).isoformat(),
        "done_by": "Metrology Ltd", "certificate_ref": "CAL-77", "out_of_tolerance": True})
    assert response.status_code == 201, response.get_json()
    gaps = _instrument_gaps(api, lot_id)
    assert [g["params"]["instrument"] for g in gaps] == ["CF-01"]
    assert "out of tolerance" in gaps[0]["message"]
