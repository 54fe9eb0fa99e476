"""The scan station and the lab's scan box read a scan the same way and open the same page."""

from __future__ import annotations

from cellchain.identifiers.isbt128 import Din
from tests.factories import materials
from tests.factories.lab import formulated_lot, in_db, make_bag, make_collection, make_lot


def barcode(din: str) -> str:
    return "=" + din + Din.parse(din).flags_type3


def opened_by_both(client, auth, raw: str) -> tuple[str, str]:
    station = auth.post("/scan/", {"scan": raw})
    lab = client.get("/lab/open", query_string={"scan": raw})
    assert station.status_code == 303 and lab.status_code == 302, (station.status_code, lab.status_code)
    return station.headers["Location"], lab.headers["Location"]


def test_a_cords_din_opens_its_lot_from_either_box_once_the_lot_is_started(app, client, auth):
    with in_db(app) as session:
        started = make_lot(session).lot_number
        waiting = make_collection(session).din
    auth.login("lab")
    station, lab = opened_by_both(client, auth, barcode(started))
    assert station == lab and station.endswith(f"/lab/lots/{started}")
    station, lab = opened_by_both(client, auth, barcode(waiting))
    assert station == lab and station.endswith(f"/lab/collections/{waiting}")


def test_a_placebo_fills_din_lists_its_bags_and_a_bag_id_opens_the_bag_from_either_box(app, api, client, auth):
    materials.saline(app, "NS1")
    din = api.post("/api/v1/placebo-bags", as_="lab", json={"count": 2, "saline_lot": "NS1"}).get_json()["din"]
    with in_db(app) as session:
        bag = make_bag(session, formulated_lot(session), "A0").bag_code
    auth.login("lab")
    station, lab = opened_by_both(client, auth, barcode(din))
    assert station == lab and f"din={din}" in station
    station, lab = opened_by_both(client, auth, bag)
    assert station == lab and station.endswith(f"/lab/bags/{bag}")
