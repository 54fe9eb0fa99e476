"""QA's dashboard shows the calibrations and maintenance overdue or due within the window (EQUIPMENT_DUE_DAYS),
and the alerts count the instruments overdue."""

from __future__ import annotations

from tests.factories.equipment import make_instrument
from tests.factories.lab import in_db


def test_qa_sees_what_is_overdue_and_what_falls_due_but_not_what_is_due_later(app, auth, client):
    with in_db(app) as session:
        make_instrument(session, "CF-01", calibration_in_days=-1, maintenance_in_days=200)
        make_instrument(session, "INC-01", kind="incubator", calibration_in_days=10, maintenance_in_days=200)
        make_instrument(session, "BSC-01", kind="biosafety_cabinet", calibration_in_days=45, maintenance_in_days=200)
    auth.login("qa")
    page = client.get("/").get_data(as_text=True)
    assert 'data-instrument="CF-01" data-service="calibration"' in page
    assert 'data-instrument="INC-01" data-service="calibration"' in page
    assert 'data-instrument="BSC-01"' not in page
    alerts = client.get("/alerts").get_data(as_text=True)
    assert 'data-alert="instruments_overdue"' in alerts


def test_the_window_is_a_site_setting(app, api):
    with in_db(app) as session:
        make_instrument(session, "BSC-01", kind="biosafety_cabinet", calibration_in_days=45, maintenance_in_days=None)
    assert api.get("/api/v1/instruments/due", as_="qa").get_json()["due"] == []
    app.config["EQUIPMENT_DUE_DAYS"] = 60
    due = api.get("/api/v1/instruments/due", as_="qa").get_json()
    assert due["days"] == 60 and [(d["code"], d["overdue"]) for d in due["due"]] == [("BSC-01", False)]
