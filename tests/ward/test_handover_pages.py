"""Every hand-over as a page: scan the cord or bag, see its custody with the people, record what may come next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cellchain.core import db
from cellchain.identifiers.isbt128 import Din
from cellchain.manufacturing.models import Bag, Collection
from cellchain.ward import custody
from tests.factories import ward


def new_cord(app) -> str:
    """A cord just collected at the maternity ward: nothing after ``collected`` yet."""
    with app.app_context():
        session = db.session()
        lab = ward.user(session, "lab")
        din = ward._din()
        row = Collection(din=din, donor_code=f"DONOR-{din[-6:]}", collected_at=datetime.now(UTC) - timedelta(hours=3),
                         site="Delivery ward 3", consent_obtained=True, eligibility="eligible", created_by=lab.id)
        session.add(row)
        session.flush()
        custody.record_system_event(session, actor=lab, record=row, ranges=ward.RANGES, handover=custody.Handover(
            event="collected", location="Delivery ward 3", occurred_at=datetime.now(UTC) - timedelta(hours=2),
            temperature_c=20.0))
        db.commit()
        return din


def bags(app, count: int = 1, **kwargs) -> list[Bag]:
    with app.app_context():
        session = db.session()
        made = [ward.bag(session, division=f"{chr(65 + n)}0", **kwargs) for n in range(count)]
        db.commit()
        return made


def state_of(app, model, row_id: int) -> str:
    with app.app_context():
        return db.session().get(model, row_id).custody_state


def test_a_new_cord_is_offered_shipping_only_and_is_then_received_at_the_lab(app, client, auth):
    din = new_cord(app)
    auth.login("lab")
    page = client.get("/handover/", query_string={"scan": Din.parse(din).barcode_data()}).get_data(as_text=True)
    assert f'data-item="{din}"' in page
    assert 'value="shipped"' in page and 'value="received"' not in page
    cord = {"kind": "collection", "item": din}
    shipped = auth.post("/handover/", {**cord, "event": "shipped", "location": "Delivery ward 3", "temperature_c": "18",
                                       "handed_over_by": "Midwife Chen", "received_by": "Courier Wu"})
    assert shipped.status_code == 303
    page = client.get(shipped.headers["Location"]).get_data(as_text=True)
    assert 'value="received"' in page and 'value="shipped"' not in page
    assert "Midwife Chen" in page and "Courier Wu" in page  # the people are shown with the event
    received = auth.post("/handover/", {**cord, "event": "received", "location": "Cell processing lab",
                                        "temperature_c": "12", "handed_over_by": "Courier Wu"})
    assert received.status_code == 303
    assert state_of(app, Collection, _collection_id(app, din)) == "at_lab"


def _collection_id(app, din: str) -> int:
    from sqlmodel import select
    with app.app_context():
        return db.session().exec(select(Collection.id).where(Collection.din == din)).one()


def test_the_lab_dispatches_bags_scanned_in_a_row_and_prints_their_shipper_label(app, client, auth):
    first, second = bags(app, 2)
    auth.login("lab")
    one = client.get("/handover/dispatch", query_string={"scan": ward.bag_2d(first)}).get_data(as_text=True)
    assert f'data-bag="{first.bag_code}"' in one and "In the container (1)" in one
    two = client.get("/handover/dispatch", query_string={"bag": first.bag_code, "scan": ward.bag_2d(second)})
    assert "In the container (2)" in two.get_data(as_text=True)
    assert f'data-custody-of="{second.bag_code}"' in two.get_data(as_text=True)  # each bag's custody so far
    sent = auth.post("/handover/dispatch", {"bag": [first.bag_code, second.bag_code], "ship_to": "Ward 5",
                                            "location": "Cell processing lab, dispatch", "temperature_c": "5",
                                            "handed_over_by": "Li Wei", "received_by": "Courier Wu"})
    assert sent.status_code == 303
    assert {state_of(app, Bag, b.id) for b in (first, second)} == {"dispatched"}
    done = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="shipper-label"' in done
    label = client.get("/handover/shipper-label", query_string={"bag": [first.bag_code, second.bag_code],
                                                                "ship_to": "Ward 5"})
    assert label.status_code == 200 and label.mimetype == "application/pdf"


def test_one_unreleased_bag_in_the_container_dispatches_none(app, auth):
    (released,), (quarantined,) = bags(app), bags(app, quality_status="quarantine")
    auth.login("lab")
    refused = auth.post("/handover/dispatch", {"bag": [released.bag_code, quarantined.bag_code], "ship_to": "Ward 5",
                                               "location": "Cell processing lab", "temperature_c": "5"})
    assert refused.status_code == 409 and "bag_not_released" in refused.get_data(as_text=True)
    assert state_of(app, Bag, released.id) == "at_lab"


def test_a_nurse_receives_a_dispatched_bag_and_sees_who_sent_it(app, client, auth):
    (bag,) = bags(app)
    with app.app_context():
        ward.hand_over(db.session(), db.session().get(Bag, bag.id), "dispatched", minutes_ago=30)
        db.commit()
    auth.login("nurse")
    page = client.get("/handover/", query_string={"scan": ward.bag_2d(bag)}).get_data(as_text=True)
    assert "Li Wei" in page and "Liu Yang" in page
    assert 'value="received_at_ward"' in page and 'value="returned"' in page and 'value="dispatched"' not in page
    received = auth.post("/handover/", {"kind": "bag", "item": bag.bag_code, "event": "received_at_ward",
                                        "location": ward.WARD, "temperature_c": "6", "handed_over_by": "Courier Wu",
                                        "received_by": "Nurse Zhao"})
    assert received.status_code == 303 and state_of(app, Bag, bag.id) == "at_ward"


def test_a_bag_is_discarded_only_with_a_reason(app, auth):
    (bag,) = bags(app)
    auth.login("lab")
    form = {"kind": "bag", "item": bag.bag_code, "event": "discarded", "location": "Cell processing lab"}
    refused = auth.post("/handover/", form)
    assert refused.status_code == 400 and "say why it is discarded" in refused.get_data(as_text=True)
    assert state_of(app, Bag, bag.id) == "at_lab"
    assert auth.post("/handover/", {**form, "notes": "bag punctured"}).status_code == 303
    assert state_of(app, Bag, bag.id) == "discarded"


def test_a_scan_that_names_no_cord_or_bag_is_refused_on_the_page(app, client, auth):
    auth.login("nurse")
    response = client.get("/handover/", query_string={"scan": "not a code"})
    assert response.status_code == 400 and 'data-testid="refusal"' in response.get_data(as_text=True)


def test_the_lab_cord_page_offers_shipping_a_new_cord_not_receiving_it(app, client, auth):
    din = new_cord(app)
    auth.login("lab")
    page = client.get(f"/lab/collections/{din}").get_data(as_text=True)
    assert '<option value="shipped"' in page and '<option value="received"' not in page


def test_the_ward_receive_form_records_who_received_the_bag(app, client, auth):
    (bag,) = bags(app)
    with app.app_context():
        ward.hand_over(db.session(), db.session().get(Bag, bag.id), "dispatched", minutes_ago=30)
        db.commit()
    auth.login("nurse")
    assert 'name="received_by"' in client.get("/ward/").get_data(as_text=True)
    response = auth.post("/ward/receive", {"scan": ward.bag_2d(bag), "temperature_c": "5", "location": ward.WARD,
                                           "handed_over_by": "Courier Wu", "received_by": "Nurse Zhao"})
    assert response.status_code == 303
    with app.app_context():
        last = custody.events_of(db.session(), "bag", bag.id)[-1]
        assert (last.handed_over_by, last.received_by) == ("Courier Wu", "Nurse Zhao")
