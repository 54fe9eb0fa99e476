"""Allocation follows reality: a bag that can no longer be given flags its visit; the coordinator takes it off
(with a reason, audited) and allocates a replacement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.manufacturing.models import Bag
from cellchain.trial.models import Allocation
from tests.factories import ward


@dataclass(frozen=True)
class Allocated:
    subject_code: str
    visit_id: int
    bag: Bag


def allocated(app, *, expires_in: timedelta = timedelta(hours=40)) -> Allocated:
    """A randomized arm-A subject whose week 0 infusion, planned in two hours, has a fit bag allocated."""
    with app.app_context():
        session = db.session()
        who = ward.subject(session)
        visit = ward.infusion_visit(session, who)
        visit.planned_at = datetime.now(UTC) + timedelta(hours=2)
        bag = ward.bag(session, expires_at=datetime.now(UTC) + expires_in)
        ward.allocate(session, bag, visit, who)
        db.commit()
        return Allocated(who.subject_code, visit.id, bag)


def discard(app, bag: Bag) -> None:
    with app.app_context():
        ward.hand_over(db.session(), db.session().get(Bag, bag.id), "discarded", minutes_ago=5)
        db.commit()


def test_a_discarded_allocated_bag_flags_its_visit_on_the_dashboard_and_the_subject_page(app, client, auth):
    made = allocated(app)
    auth.login("coordinator")
    assert 'data-testid="bags-unusable"' not in client.get("/").get_data(as_text=True)
    discard(app, made.bag)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="bags-unusable"' in home and made.subject_code in home
    assert f"{made.bag.bag_code} was discarded" in home
    subject = client.get(f"/trial/subjects/{made.subject_code}").get_data(as_text=True)
    assert 'data-testid="flagged-visits"' in subject and 'data-reason="allocated_bag_discarded"' in subject


def test_a_coordinator_replaces_a_discarded_allocated_bag(app, client, auth):
    made = allocated(app)
    discard(app, made.bag)
    with app.app_context():
        session = db.session()
        replacement = ward.bag(session, division="B0")
        db.commit()
    auth.login("coordinator")
    no_reason = auth.post(f"/trial/visits/{made.visit_id}/deallocation", {"reason": ""})
    assert no_reason.status_code == 400
    taken_off = auth.post(f"/trial/visits/{made.visit_id}/deallocation", {"reason": "bag discarded: punctured"})
    assert taken_off.status_code == 303
    page = client.get(f"/trial/subjects/{made.subject_code}").get_data(as_text=True)
    assert "not fit for use" in page and 'data-testid="flagged-visits"' not in page
    assert f'action="/trial/visits/{made.visit_id}/allocation"' in page  # the visit offers a new bag
    again = auth.post(f"/trial/visits/{made.visit_id}/allocation", {"scan": ward.bag_2d(replacement),
                                                                     "weight_kg": "70"})
    assert again.status_code == 303
    with app.app_context():
        session = db.session()
        row = session.exec(select(Allocation).where(Allocation.visit_id == made.visit_id)).one()
        assert row.bag_id == replacement.id
        entry = session.exec(select(AuditEntry).where(AuditEntry.record_type == "allocation",
                                                      AuditEntry.action == "deallocate")).one()
        assert "bag discarded: punctured" in str(entry.new_values) and made.bag.bag_code in str(entry.old_values)


def test_a_bag_still_fit_for_use_goes_back_to_stock_when_taken_off(app, api):
    made = allocated(app)
    response = api.post(f"/api/v1/visits/{made.visit_id}/deallocation", as_="coordinator",
                        json={"reason": "the subject's infusion is postponed"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["back_to_stock"] is True and body["problems"] == [] and body["bag_id"] == made.bag.bag_code
    again = api.post(f"/api/v1/visits/{made.visit_id}/deallocation", as_="coordinator", json={"reason": "twice"})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "visit_not_allocated"


def test_only_the_coordinator_takes_a_bag_off_a_visit_and_says_why(app, api):
    made = allocated(app)
    assert api.post(f"/api/v1/visits/{made.visit_id}/deallocation", as_="nurse",
                    json={"reason": "x"}).status_code == 403
    missing = api.post(f"/api/v1/visits/{made.visit_id}/deallocation", as_="coordinator", json={})
    assert missing.status_code == 400 and "reason" in missing.get_json()["fields"]


def test_an_infusion_planned_after_the_allocated_bag_expires_flags_the_visit(app, client, auth):
    made = allocated(app, expires_in=timedelta(hours=1))  # planned in two hours
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{made.subject_code}").get_data(as_text=True)
    assert 'data-reason="allocated_bag_expires_before_infusion"' in page


def test_a_hold_on_the_lot_flags_the_visits_whose_bag_is_not_yet_infused(app, client, auth, api):
    from tests.quality.test_holds import _released_lot_with_bags, _sterility

    scene = _released_lot_with_bags(app, api)  # one subject already infused from the lot, one waiting
    assert _sterility(api, scene.lot_id).status_code == 201  # positive after release: the lot is held
    auth.login("coordinator")
    home = client.get("/").get_data(as_text=True)
    start = home.index('data-testid="bags-unusable"')
    flagged = home[start:home.index("</div>", start)]
    assert 'data-reason="allocated_bag_lot_on_hold"' in flagged
    assert scene.at_bedside.subject.subject_code in flagged
    assert scene.infused.subject.subject_code not in flagged  # its bag is given: nothing to replace
    taken_off = api.post(f"/api/v1/visits/{scene.at_bedside.visit.id}/deallocation", as_="coordinator",
                         json={"reason": "lot on hold after a positive sterility culture"})
    assert taken_off.status_code == 200 and taken_off.get_json()["back_to_stock"] is False
    assert "allocated_bag_lot_on_hold" in [p["code"] for p in taken_off.get_json()["problems"]]
