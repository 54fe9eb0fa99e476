"""Custody through the API: hand-overs by any scan, impossible moves refused, excursions decided by QA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.core import db
from cellchain.identifiers.isbt128 import Din
from tests.conftest import signature
from tests.factories import ward

URL = "/api/v1/custody"


def made(app, *, to_ward: bool = False, quality_status: str = "released"):
    with app.app_context():
        session = db.session()
        bag = ward.bag(session, quality_status=quality_status)
        if to_ward:
            ward.to_ward(session, bag)
        db.commit()
        return bag


def handover(item: str, event: str, **extra) -> dict:
    return {"item": item, "event": event, "location": "Cell processing lab", "temperature_c": 4.5, **extra}


def test_a_hand_over_by_bag_id_is_recorded_with_who_where_and_temperature(app, api):
    bag = made(app)
    response = api.post(URL, as_="lab", json=handover(bag.bag_code, "stored", condition="intact, sealed",
                                                       handed_over_by="fill station", received_by="cold room 2"))
    assert response.status_code == 201, response.get_json()
    event = response.get_json()["event"]
    assert (event["item_type"], event["item_id"], event["event"]) == ("bag", bag.bag_code, "stored")
    assert (event["from_state"], event["to_state"], event["excursion"]) == ("at_lab", "in_storage", False)
    assert event["temperature_c"] == 4.5 and event["condition"] == "intact, sealed"
    assert event["recorded_by"] == "lab" and event["occurred_at"].endswith("Z") and event["id"]


def test_the_bags_2d_code_and_the_cords_din_name_the_item(app, api):
    bag = made(app)
    response = api.post(URL, as_="lab", json=handover(ward.bag_2d(bag), "stored"))
    assert response.get_json()["event"]["item_id"] == bag.bag_code
    din = Din.parse(bag.din)
    keyed = f"{din.eye_readable} {din.check}"
    response = api.post(URL, as_="lab", json=handover(keyed, "shipped", temperature_c=18.0))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["event"]["item_type"] == "collection"
    barcode = api.post(URL, as_="lab", json=handover(din.barcode_data(), "received", temperature_c=10.0))
    assert barcode.status_code == 201 and barcode.get_json()["event"]["to_state"] == "at_lab"


@pytest.mark.parametrize(("event", "code", "words"), [
    ("received_at_ward", "custody_impossible_move", "dispatch it first"),
    ("returned", "custody_impossible_move", "bag cannot be returned while at the lab"),
])
def test_impossible_custody_moves_are_refused_with_a_reason(app, api, event, code, words):
    bag = made(app)
    response = api.post(URL, as_="nurse", json=handover(bag.bag_code, event))
    assert response.status_code == 409
    [reason] = response.get_json()["reasons"]
    assert reason["code"] == code and words in reason["message"]
    chain = api.get(f"/api/v1/bags/{bag.bag_code}/custody", as_="nurse").get_json()
    assert [e["event"] for e in chain["events"]] == ["filled"] and chain["state"] == "at_lab"


def test_infused_is_never_recorded_as_a_hand_over(app, api):
    bag = made(app, to_ward=True)
    response = api.post(URL, as_="nurse", json=handover(bag.bag_code, "infused"))
    assert response.status_code in (400, 409)
    assert response.get_json()["error"]


def test_a_quarantined_bag_is_never_dispatched(app, api):
    bag = made(app, quality_status="quarantine")
    response = api.post(URL, as_="lab", json=handover(bag.bag_code, "dispatched"))
    assert response.status_code == 409
    assert response.get_json()["reasons"][0]["code"] == "bag_not_released"


def test_a_hand_over_dated_before_the_last_one_is_refused(app, api):
    bag = made(app)
    earlier = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = api.post(URL, as_="lab", json=handover(bag.bag_code, "stored", occurred_at=earlier))
    assert response.status_code == 409
    assert response.get_json()["reasons"][0]["code"] == "custody_time_reversed"


@pytest.mark.parametrize(("item", "status"), [("A999926999999-D0001VA0", 404), ("A9999 26 123456 X", 400),
                                               ("nonsense", 400)])
def test_an_item_that_is_unknown_or_misread_is_refused(app, api, item, status):
    response = api.post(URL, as_="lab", json=handover(item, "stored"))
    assert response.status_code == status


def test_a_wristband_has_no_chain_of_custody(app, api):
    with app.app_context():
        subject = ward.subject(db.session())
        db.commit()
    response = api.post(URL, as_="nurse", json=handover(ward.wristband(subject), "stored"))
    assert response.status_code == 400 and "no chain of custody" in response.get_json()["fields"]["item"]


def test_a_hand_over_needs_a_known_event_and_a_place(app, api):
    bag = made(app)
    response = api.post(URL, as_="lab", json={"item": bag.bag_code, "event": "teleported", "location": ""})
    assert response.status_code == 400
    assert {"event", "location"} <= set(response.get_json()["fields"])


def test_a_coordinator_does_not_record_hand_overs(app, api):
    bag = made(app)
    assert api.post(URL, as_="coordinator", json=handover(bag.bag_code, "stored")).status_code == 403


def test_the_bags_chain_lists_every_event_in_order_and_says_it_is_unbroken(app, api):
    bag = made(app, to_ward=True)
    chain = api.get(f"/api/v1/bags/{bag.bag_code}/custody", as_="auditor").get_json()
    assert chain["bag_id"] == bag.bag_code and chain["state"] == "at_ward" and chain["unbroken"] is True
    assert [e["event"] for e in chain["events"]] == ["filled", "stored", "dispatched", "received_at_ward"]
    assert chain["events"][-1]["recorded_by_name"] == "Liu Yang (nurse)"
    assert chain["excursions"] == []


def test_the_cords_chain_is_read_by_din(app, api):
    bag = made(app)
    chain = api.get(f"/api/v1/collections/{bag.din}/custody", as_="lab").get_json()
    assert chain["din"] == bag.din and [e["event"] for e in chain["events"]] == ["collected"]
    assert api.get("/api/v1/collections/A999926999999/custody", as_="lab").status_code == 404


# --- excursions ------------------------------------------------------------------------------------------

def warm_bag(app, api) -> tuple[object, int]:
    bag = made(app)
    for event in ("stored", "dispatched"):
        assert api.post(URL, as_="lab", json=handover(bag.bag_code, event)).status_code == 201
    response = api.post(URL, as_="nurse", json=handover(bag.bag_code, "received_at_ward", temperature_c=14.0,
                                                        location="Ward 5"))
    assert response.status_code == 201 and response.get_json()["event"]["excursion"] is True
    [excursion] = api.get(f"/api/v1/bags/{bag.bag_code}/custody", as_="qa").get_json()["excursions"]
    assert excursion["status"] == "open" and excursion["range"] == [2.0, 8.0]
    return bag, excursion["id"]


def decision(accept: bool, meaning: str) -> dict:
    return {"accept": accept, "reason": "stability data cover 1 h at 14 °C", "signature": signature("qa", meaning)}


def test_qa_accepts_an_excursion_with_a_signature_and_it_no_longer_blocks(app, api):
    bag, excursion_id = warm_bag(app, api)
    assert [x["id"] for x in api.get("/api/v1/excursions?status=open", as_="qa").get_json()["excursions"]] == [
        excursion_id]
    response = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa", json=decision(True, "accepted"))
    assert response.status_code == 200, response.get_json()
    decided = response.get_json()["excursion"]
    assert decided["status"] == "accepted" and decided["decided_by"] == "Wang Fang (QA reviewer)"
    chain = api.get(f"/api/v1/bags/{bag.bag_code}/custody", as_="qa").get_json()
    assert chain["state"] == "at_ward" and chain["excursions"][0]["status"] == "accepted"
    again = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa", json=decision(True, "accepted"))
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "excursion_decided"


def test_qa_rejecting_an_excursion_discards_the_bag(app, api):
    bag, excursion_id = warm_bag(app, api)
    response = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa", json=decision(False, "rejected"))
    assert response.status_code == 200
    chain = api.get(f"/api/v1/bags/{bag.bag_code}/custody", as_="qa").get_json()
    assert chain["state"] == "discarded" and chain["events"][-1]["event"] == "discarded"


def test_only_qa_decides_an_excursion(app, api):
    _, excursion_id = warm_bag(app, api)
    response = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="nurse", json=decision(True, "accepted"))
    assert response.status_code == 403


def test_an_excursion_decision_needs_a_boolean_and_a_signature(app, api):
    _, excursion_id = warm_bag(app, api)
    response = api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa", json={"accept": "yes"})
    assert response.status_code == 400
