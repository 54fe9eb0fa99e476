"""Registering cords: the donor's eligibility decided with reasons, the DIN issued, custody opened."""

from __future__ import annotations

from datetime import timedelta

from cellchain.audit import trail
from cellchain.identifiers.isbt128 import Din
from tests.factories.lab import SCREENING, days_ago, in_db, iso, make_collection, snapshot


def cord(**overrides):
    body = {"donor_code": "DONOR-0042", "collected_at": iso(days_ago(1)), "site": "Delivery suite 3",
            "consent_obtained": True, "screening": dict(SCREENING),
            "specimen_collected_at": iso(days_ago(2)), "medical_history_ok": True}
    body.update(overrides)
    return body


def test_an_eligible_cord_gets_a_din_and_its_collected_event(app, api):
    response = api.post("/api/v1/collections", as_="lab", json=cord())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["eligibility"] == "eligible" and body["reasons"] == [] and body["status"] == "collected"
    assert Din.parse(body["din"]).fin == "A9999"
    got = api.get(f"/api/v1/collections/{body['din']}", as_="auditor").get_json()
    assert [e["event"] for e in got["custody"]] == ["collected"]
    assert got["custody"][0]["location"] == "Delivery suite 3"
    with in_db(app) as session:
        actions = [e.action for e in trail.search(session, trail.AuditFilter(record_type="collection"))]
        assert "register" in actions


def test_every_reason_against_the_donor_is_listed(api):
    screening = {**SCREENING, "HBV": "positive", "HCV": "indeterminate"}
    del screening["CMV"]
    body = api.post("/api/v1/collections", as_="lab",
                    json=cord(screening=screening, consent_obtained=False, medical_history_ok=False,
                              specimen_collected_at=iso(days_ago(12)))).get_json()
    assert body["eligibility"] == "ineligible"
    codes = {r["code"] for r in body["reasons"]}
    assert codes == {"donor_test_positive", "donor_test_indeterminate", "donor_test_missing", "donor_no_consent",
                     "donor_specimen_out_of_window", "donor_medical_history_risk"}


def test_a_name_for_a_donor_code_is_refused_and_nothing_written(app, api):
    api.token("lab")  # logging in writes its own audit entry; take it before counting
    with in_db(app) as session:
        before = snapshot(session)
    for name in ("Mary Smith", "SMITH", "mary-0001", "AB"):
        response = api.post("/api/v1/collections", as_="lab", json=cord(donor_code=name))
        assert response.status_code == 400
        assert "never a name" in response.get_json()["fields"]["donor_code"]
    with in_db(app) as session:
        assert snapshot(session) == before


def test_bad_fields_are_all_named_at_once(api):
    response = api.post("/api/v1/collections", as_="lab",
                        json=cord(collected_at="2026-11-01T08:00:00", site="", consent_obtained="yes",
                                  screening={"HIV": "negative", "HBV": "maybe"}))
    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert {"collected_at", "site", "consent_obtained", "screening.HIV", "screening.HBV"} <= set(fields)
    assert "offset" in fields["collected_at"]


def test_a_collection_time_in_the_future_is_refused(api):
    response = api.post("/api/v1/collections", as_="lab", json=cord(collected_at=iso(days_ago(-1))))
    assert response.status_code == 400 and "future" in response.get_json()["fields"]["collected_at"]


def test_only_the_lab_registers_cords(api):
    assert api.post("/api/v1/collections", as_="nurse", json=cord()).status_code == 403


def test_dins_of_successive_cords_differ(api):
    first = api.post("/api/v1/collections", as_="lab", json=cord()).get_json()["din"]
    second = api.post("/api/v1/collections", as_="lab", json=cord(donor_code="DONOR-0043")).get_json()["din"]
    assert first != second and int(second[-6:]) == int(first[-6:]) + 1


def test_receipt_out_of_range_opens_an_excursion_shown_on_the_collection(app, api, client, auth):
    din = api.post("/api/v1/collections", as_="lab", json=cord()).get_json()["din"]
    auth.login("lab")
    shipped = auth.post(f"/lab/collections/{din}/handover", {"event": "shipped", "location": "maternity ward",
                                                             "temperature_c": "18"})
    assert shipped.status_code == 303
    received = auth.post(f"/lab/collections/{din}/handover", {"event": "received", "location": "cell lab",
                                                              "temperature_c": "31.5", "condition": "intact"})
    assert received.status_code == 303
    body = api.get(f"/api/v1/collections/{din}", as_="lab").get_json()
    assert body["status"] == "at_lab"
    assert [e["event"] for e in body["custody"]] == ["collected", "shipped", "received"]
    assert body["custody"][-1]["excursion"] is True
    assert body["open_excursions"][0]["temperature_c"] == 31.5
    page = client.get(f"/lab/collections/{din}")
    assert b"Temperature excursion awaiting QA" in page.data


def test_an_impossible_hand_over_is_refused_on_the_page_with_its_reason(app, client, auth):
    with in_db(app) as session:
        din = make_collection(session, custody_state="collected", collected_at=days_ago(1)).din
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = auth.post(f"/lab/collections/{din}/handover", {"event": "received", "location": "cell lab"})
    assert response.status_code == 409 and b"custody_impossible_move" in response.data
    with in_db(app) as session:
        assert snapshot(session) == before


def test_unknown_din_answers_404(api):
    assert api.get("/api/v1/collections/A999926999999", as_="lab").status_code == 404


def test_collected_event_keeps_the_collection_time(app, api):
    collected = days_ago(1) - timedelta(minutes=7)
    din = api.post("/api/v1/collections", as_="lab", json=cord(collected_at=iso(collected))).get_json()["din"]
    event = api.get(f"/api/v1/collections/{din}", as_="lab").get_json()["custody"][0]
    assert event["occurred_at"].startswith(collected.strftime("%Y-%m-%dT%H:%M:%S"))
