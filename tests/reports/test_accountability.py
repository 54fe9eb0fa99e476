"""Bag accountability, the dosing summary, and QA's excursion page."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pymupdf
import pytest
from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing import bags
from cellchain.manufacturing.models import Bag
from cellchain.overview import alerts
from cellchain.ward.models import Excursion
from tests.conftest import PASSWORD, signature
from tests.factories import qc, ward


def pdf_text(data: bytes) -> str:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return " ".join(" ".join(page.get_text() for page in document).split())


def start_and_complete(api, made: ward.Bedside, volume_ml: float) -> None:
    started = api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": made.wristband, "bag": made.bag_scan, "verifier": signature("nurse2", "verified"),
        "started_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(), "ultrasound_monitored": True})
    assert started.status_code == 201, started.get_json()
    done = api.post(f"/api/v1/infusions/{started.get_json()['infusion_id']}/complete", as_="nurse", json={
        "volume_ml": volume_ml, "ended_at": datetime.now(UTC).isoformat(), "ultrasound_monitored": True,
        "partial_reason": "stopped early: line occluded"})
    assert done.status_code == 200, done.get_json()


@pytest.fixture
def lot_of_five(app, api):
    """One lot, five bags: infused, in stock, expired, discarded, returned (and back in stock)."""
    with app.app_context():
        session = db.session()
        lot = ward.released_lot(session)
        bags = {name: ward.bag(session, lot=lot, division=division,
                               expires_at=datetime.now(UTC) - timedelta(minutes=5) if name == "expired" else None)
                for name, division in (("infused", "A0"), ("stock", "B0"), ("expired", "C0"), ("discarded", "D0"),
                                       ("returned", "E0"))}
        who = ward.subject(session)
        visit = ward.infusion_visit(session, who)
        ward.to_ward(session, bags["infused"])
        ward.allocate(session, bags["infused"], visit, who)
        ward.hand_over(session, bags["discarded"], "discarded", minutes_ago=10)
        ward.to_ward(session, bags["returned"])
        ward.hand_over(session, bags["returned"], "returned", by="nurse", minutes_ago=10, location=ward.WARD)
        placebo = ward.bag(session, kind="placebo")
        db.commit()
    start_and_complete(api, ward.Bedside(who, bags["infused"], visit, None), 45.0)
    return lot, bags, placebo


def test_every_bag_is_accounted_for_and_the_lot_reconciles(app, client, auth, lot_of_five):
    lot, bags, placebo = lot_of_five
    auth.login("auditor")
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/accountability.csv").get_data(as_text=True))))
    states = {row["bag_id"]: row["state"] for row in rows}
    assert states == {bags["infused"].bag_code: "infused", bags["stock"].bag_code: "in_stock",
                      bags["expired"].bag_code: "expired", bags["discarded"].bag_code: "discarded",
                      bags["returned"].bag_code: "in_stock", placebo.bag_code: "in_stock"}
    assert {row["bag_id"] for row in rows if row["returned"] == "yes"} == {bags["returned"].bag_code}
    page = client.get("/reports/accountability").get_data(as_text=True)
    lot_row = "".join(page[page.index(f'data-lot="{lot.lot_number}"'):].split("</tr>")[0].split())
    assert "<td>5</td><td>1</td><td>2</td><td>1</td><td>1</td><td>1</td>" in lot_row and "Yes" in lot_row
    text = pdf_text(client.get("/reports/accountability.pdf").data)
    assert f"{lot.lot_number} ucmsc released 5 1 2 1 1 1 yes" in text


def test_a_bag_whose_custody_and_infusion_records_disagree_breaks_the_reconciliation(app, client, auth, lot_of_five):
    lot, bags, _ = lot_of_five
    with app.app_context():
        session = db.session()
        stray = session.get(Bag, bags["stock"].id)
        stray.custody_state = "infused"  # as if someone wrote the state without an infusion
        session.add(stray)
        db.commit()
    auth.login("qa")
    page = client.get("/reports/accountability").get_data(as_text=True)
    lot_row = page[page.index(f'data-lot="{lot.lot_number}"'):].split("</tr>")[0]
    assert "No" in lot_row and "no infusion record" in lot_row


def test_the_dosing_summary_shows_planned_and_given_doses(app, client, auth, lot_of_five):
    with app.app_context():
        session = db.session()
        placebo_subject = ward.subject(session, arm="B")
        visit = ward.infusion_visit(session, placebo_subject)
        ward.allocate(session, ward.bag(session, kind="placebo"), visit, placebo_subject)
        db.commit()
    auth.login("coordinator")
    page = client.get("/reports/dosing").get_data(as_text=True)
    assert "70,000,000 cells" in page and "63,000,000 cells" in page and "90%" in page  # 45 of 50 ml of 7.0e7
    assert f'data-subject="{placebo_subject.subject_code}"' in page and "50 ml" in page and "allocated" in page
    text = pdf_text(client.get("/reports/dosing.pdf").data)
    assert "63,000,000 cells" in text and "infused" in text and placebo_subject.subject_code in text


def test_reports_are_for_qa_auditors_and_coordinators(app, client, auth):
    auth.login("nurse")
    for url in ("/reports/", "/reports/accountability", "/reports/dosing.pdf", "/reports/excursions"):
        assert client.get(url).status_code == 403
    auth.logout()
    auth.login("auditor")
    index = client.get("/reports/").get_data(as_text=True)
    assert "/reports/accountability" in index and "/reports/dosing" in index and "/reports/excursions" in index


def test_qa_decides_an_excursion_on_its_page_with_a_signature(app, client, auth):
    with app.app_context():
        made = ward.bedside_ready(db.session(), receive_temperature_c=9.5)
        db.commit()
        excursion_id = db.session().exec(select(Excursion)).one().id
    auth.login("auditor")
    assert 'name="signature_password"' not in client.get("/reports/excursions").get_data(as_text=True)
    auth.logout()
    auth.login("qa")
    page = client.get("/reports/excursions").get_data(as_text=True)
    assert made.bag.bag_code in page and 'value="accepted"' in page and 'value="rejected"' in page
    response = auth.post(f"/reports/excursions/{excursion_id}/decide", {
        "decision": "accept", "reason": "9.5 °C for 20 min is covered by the stability study",
        "signature_username": "qa", "signature_password": PASSWORD, "signature_meaning": "accepted"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session().get(Excursion, excursion_id).status == "accepted"


def _totals(page: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r'<td data-total="(\w+)">(\d+)</td>', page)}


def test_accountability_totals_equal_the_bags_counted_one_by_one(app, client, auth, lot_of_five):
    _, bags, _ = lot_of_five
    with qc.db_session(app) as session:
        for n in range(40, 43):
            qc.make_lot(session, n=n, bags=4)
        stray = session.get(Bag, bags["stock"].id)
        stray.custody_state = "infused"  # a disagreement: counted in no column, so the totals do not reconcile
        session.add(stray)
    auth.login("auditor")
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/accountability.csv").get_data(as_text=True))))
    totals = _totals(client.get("/reports/accountability").get_data(as_text=True))
    with app.app_context():
        made = len(db.session().exec(select(Bag.id)).all())
    assert totals["made"] == len(rows) == made == 18
    for column in ("infused", "in_stock", "expired", "discarded"):
        assert totals[column] == sum(row["state"] == column for row in rows), column
    assert totals["returned"] == sum(row["returned"] == "yes" for row in rows) == 1
    assert sum(totals[c] for c in ("infused", "in_stock", "expired", "discarded")) == made - 1


def test_accountability_shows_fifty_lots_a_page_and_the_totals_of_every_bag(app, client, auth):
    with qc.db_session(app) as session:
        for n in range(1, 56):
            qc.make_lot(session, n=n, bags=1, passages=0)
    auth.login("qa")
    first = client.get("/reports/accountability").get_data(as_text=True)
    assert len(re.findall(r'<tr data-lot="', first)) == 50
    assert _totals(first)["made"] == 55
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert len(re.findall(r'<tr data-lot="', second)) == 5 and 'rel="next"' not in second


def test_the_bag_tally_the_totals_read_equals_a_recount_of_the_bags(app, api, lot_of_five):
    """The totals and the expired-stock alert add up the tally the database keeps (``bag_tallies``) instead of
    reading every bag: after fills, hand-overs, an infusion, a discard of expired stock and a change made by
    hand, it still equals the bags counted one by one."""
    _, made, _ = lot_of_five
    with qc.db_session(app) as session:
        lot = qc.make_lot(session, n=44, bags=3)
        old = session.exec(select(Bag).where(Bag.lot_id == lot.id)).first()
        old.expires_at = datetime.now(UTC) - timedelta(hours=1)  # expired, still in the lab
        session.add(old)
    discarded = api.post("/api/v1/bags/discard-expired", as_="lab", json={
        "bags": [made["expired"].bag_code], "reason": "Expired", "location": "Clean room 1"})
    assert discarded.status_code == 200, discarded.get_json()
    with qc.db_session(app) as session:
        stray = session.get(Bag, made["stock"].id)
        stray.quality_status = "rejected"
        session.add(stray)
    with app.app_context():
        session = db.session()
        recount = Counter((row.custody_state, row.quality_status) for row in session.exec(select(Bag)))
        assert bags.tally(session) == dict(recount)
        assert recount[("discarded", "released")] == 2 and sum(recount.values()) == 9
        now = datetime.now(UTC)
        expired_in_stock = sum(1 for row in session.exec(select(Bag)) if row.expires_at <= now
                               and row.custody_state not in (None, "infused", "discarded")
                               and row.quality_status != "rejected")
        assert alerts.bags_expired(session, now=now) == expired_in_stock == 1
