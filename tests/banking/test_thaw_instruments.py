"""A vial's thaw records the instruments it used (the water bath or thawing device, scanned), refused by name
when one is out of service or overdue at the thaw's time; the vial's page and API, the lot's page and API and
the batch record PDF list them (docs/rules.md, "Equipment")."""

from __future__ import annotations

import json

import pymupdf
from sqlmodel import select

from cellchain.audit import reconcile
from cellchain.audit.models import AuditEntry
from cellchain.banking.models import Vial
from cellchain.equipment import instruments
from cellchain.equipment.models import ThawInstrumentUse
from cellchain.identifiers.isbt128 import encode_local
from cellchain.manufacturing.models import Lot
from tests.factories.banking import bank_lot, first_vial, make_bank
from tests.factories.equipment import make_instrument
from tests.factories.lab import days_ago, in_db, iso, make_collection, user

THAW = {"purpose": "bank", "post_thaw_viability_pct": 90}


def _vial(app) -> tuple[str, str]:
    """A frozen vial of a released MCB, and its cord's DIN."""
    with in_db(app) as session:
        cord = make_collection(session, collected_at=days_ago(20))
        return first_vial(session, make_bank(session, bank_lot(session, cord))).vial_code, cord.din


def test_a_thaw_on_an_out_of_service_water_bath_is_refused_naming_it_and_nothing_is_thawed(app, api):
    code, _din = _vial(app)
    with in_db(app) as session:
        make_instrument(session, "WB-01", kind="other", name="Water bath 1")
        instruments.take_out_of_service(session, actor=user(session, "lab"), code="WB-01",
                                        data={"reason": "heater fails to hold 37 C", "since": iso(days_ago(1))})
    response = api.post("/api/v1/vials/thaw", as_="lab", json={**THAW, "vial": code, "instruments": ["&gWB-01"]})
    assert response.status_code == 409, response.get_json()
    reason = next(r for r in response.get_json()["reasons"] if r["code"] == "instrument_out_of_service")
    assert "Water bath 1 (WB-01)" in reason["message"] and "heater fails to hold 37 C" in reason["message"]
    with in_db(app) as session:
        vial = session.exec(select(Vial).where(Vial.vial_code == code)).one()
        assert vial.state == "frozen" and session.exec(select(ThawInstrumentUse)).all() == []
        assert session.exec(select(Lot).where(Lot.source_vial_id == vial.id)).all() == []


def test_a_thaw_refused_on_the_page_names_the_overdue_thawing_device_and_keeps_what_was_typed(app, auth):
    code, _din = _vial(app)
    with in_db(app) as session:
        make_instrument(session, "TD-01", kind="other", name="Thawing device 1", calibration_in_days=-3)
    auth.login("lab")
    response = auth.post("/banks/thaw", {"vial": encode_local("a", code), "purpose": "bank",
                                         "post_thaw_viability_pct": "88", "instruments": "TD-01"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'data-reason="instrument_overdue"' in page and "Thawing device 1 (TD-01)" in page
    assert ">TD-01</textarea>" in page


def test_the_thaws_instruments_show_on_the_vial_and_the_lot_and_in_the_batch_record(app, api, auth, client):
    code, din = _vial(app)
    with in_db(app) as session:
        make_instrument(session, "WB-02", kind="other", name="Water bath 2")
        make_instrument(session, "BSC-01", kind="biosafety_cabinet", name="Cabinet 1")
    auth.login("lab")
    response = auth.post("/banks/thaw", {"vial": encode_local("a", code), "purpose": "bank",
                                         "post_thaw_viability_pct": "88", "instruments": "&gWB-02\r\nBSC-01\r\n"})
    assert response.status_code == 303, response.get_data(as_text=True)
    lot_id = f"{din}-L01"
    vial_page = client.get(f"/banks/vials/{code}").get_data(as_text=True)
    assert 'data-instrument="WB-02"' in vial_page and 'data-instrument="BSC-01"' in vial_page
    lot_page = client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    assert 'data-testid="lot-thaw"' in lot_page and 'data-instrument="WB-02"' in lot_page
    vial = api.get(f"/api/v1/vials/{code}", as_="qa").get_json()
    assert [(i["code"], i["fit"]) for i in vial["thaw_instruments"]] == [("WB-02", True), ("BSC-01", True)]
    lot = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    assert lot["thaw"]["vial_code"] == code
    assert [i["code"] for i in lot["thaw"]["instruments"]] == ["WB-02", "BSC-01"]
    pdf = api.get(f"/api/v1/lots/{lot_id}/batch-record.pdf", as_="qa")
    text = " ".join(" ".join(page.get_text() for page in pymupdf.open(stream=pdf.data, filetype="pdf")).split())
    assert code in text and "Instruments used: WB-02 Water bath 2, BSC-01 Cabinet 1" in text
    with in_db(app) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.record_type == "vial",
                                                      AuditEntry.action == "use_instruments")).one()
        assert json.loads(entry.new_values)["instruments"] == ["WB-02", "BSC-01"]
        assert [d for d in reconcile.reconcile(session).differences if d.table.startswith("thaw")] == []


def test_a_water_bath_found_out_of_service_from_before_the_thaw_is_named_by_the_release_check(app, api):
    code, din = _vial(app)
    with in_db(app) as session:
        make_instrument(session, "WB-03", kind="other", name="Water bath 3")
    thawed = api.post("/api/v1/vials/thaw", as_="lab", json={**THAW, "vial": code, "instruments": ["WB-03"],
                                                              "thawed_at": iso(days_ago(0.1))})
    assert thawed.status_code == 201, thawed.get_json()
    api.post("/api/v1/instruments/WB-03/out-of-service", as_="lab",
             json={"reason": "thermostat drifted overnight", "since": iso(days_ago(0.5))})
    reasons = api.get(f"/api/v1/lots/{din}-L01/release-check", as_="qa").get_json()["reasons"]
    gaps = [r for r in reasons if r["code"] == "instrument_unfit_when_used"]
    assert [(g["params"]["step"], g["params"]["instrument"]) for g in gaps] == [("thaw", "WB-03")]
    assert api.get(f"/api/v1/vials/{code}", as_="qa").get_json()["thaw_instruments"][0]["fit"] is False
