"""The chain-of-custody report: the whole chain, in order, with people, places, checks and the infusion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pymupdf
import pytest

from cellchain.core import db
from cellchain.identifiers.isbt128 import Din
from cellchain.ward import custody_report
from cellchain.ward.models import CustodyEvent
from tests.conftest import signature
from tests.factories import ward

BAG_EVENTS = ["filled", "stored", "dispatched", "received_at_ward", "infused"]


def pdf_text(data: bytes) -> str:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        text = " ".join(page.get_text() for page in document)
    return " ".join(text.split())  # cells wrap in the PDF; compare words, not line breaks


def section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def in_order(text: str, words: list[str]) -> bool:
    positions = [text.find(word) for word in words]
    return -1 not in positions and positions == sorted(positions)


@pytest.fixture
def infused(app, api) -> ward.Bedside:
    """A bag through its whole chain: cord shipped and received, bag to the ward, one refused bedside
    attempt (wrong patient), then started by two nurses and completed."""
    with app.app_context():
        session = db.session()
        made = ward.bedside_ready(session)
        other = ward.subject(session)
        db.commit()
    din = Din.parse(made.bag.din).barcode_data()
    for event, temperature in (("shipped", 18.0), ("received", 12.0)):
        response = api.post("/api/v1/custody", as_="lab", json={
            "item": din, "event": event, "temperature_c": temperature, "location": f"cord {event} point"})
        assert response.status_code == 201, response.get_json()
    api.post("/api/v1/infusions/verify", as_="nurse", json={"wristband": ward.wristband(other), "bag": made.bag_scan})
    started = api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": made.wristband, "bag": made.bag_scan, "verifier": signature("nurse2", "verified"),
        "started_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(), "ultrasound_monitored": True})
    assert started.status_code == 201, started.get_json()
    done = api.post(f"/api/v1/infusions/{started.get_json()['infusion_id']}/complete", as_="nurse", json={
        "volume_ml": 48.5, "ended_at": datetime.now(UTC).isoformat(), "ultrasound_monitored": True,
        "partial_reason": "dead volume in the line", "reactions": [{"description": "chills", "severity": "mild"}],
        "vital_signs": {"heart_rate": 81}})
    assert done.status_code == 200, done.get_json()
    return made


def test_the_custody_report_lists_the_full_chain_in_order(app, api, infused):
    response = api.get(f"/api/v1/bags/{infused.bag.bag_code}/chain-of-custody.pdf", as_="auditor")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    bag = infused.bag
    cord = section(text, f"Cord {bag.din}: custody events", f"Bag {bag.bag_code}: custody events")
    assert in_order(cord, ["collected", "shipped", "received"])
    assert "cord received point" in cord and "Li Wei (lab technician)" in cord
    events = section(text, f"Bag {bag.bag_code}: custody events", "Temperature excursions")
    assert in_order(events, BAG_EVENTS)
    assert ward.WARD in events and "Liu Yang (nurse)" in events and "Li Wei (lab technician)" in events
    assert f"Lot {bag.din}: released" in text
    assert "unbroken" in text


def test_the_custody_report_shows_every_bedside_attempt_and_the_infusion(app, api, infused):
    text = pdf_text(api.get(f"/api/v1/bags/{infused.bag.bag_code}/chain-of-custody.pdf", as_="qa").data)
    checks = section(text, "Bedside checks (every attempt)", "Infusion Subject")
    assert in_order(checks, ["(verified)", "REFUSED", "WRONG PATIENT", "(started)", "ALL CHECKS PASSED"])
    assert all(name in checks for name in ("right_subject", "dose_within_tolerance", "second_verifier"))
    infusion = text[text.rindex("Infusion Subject"):]
    assert infused.subject.subject_code in infusion
    assert "Liu Yang (nurse)" in infusion and "Zhao Lei (nurse) (verified)" in infusion
    assert "48.5 ml of 50 ml" in infusion and "mild: chills" in infusion and "heart_rate 81" in infusion


def test_the_custody_report_prints_excursions_and_qas_decision(app, api):
    with app.app_context():
        made = ward.bedside_ready(db.session(), receive_temperature_c=13.5)
        db.commit()
    [excursion] = api.get("/api/v1/excursions?status=open", as_="qa").get_json()["excursions"]
    api.post(f"/api/v1/excursions/{excursion['id']}/decide", as_="qa",
             json={"accept": True, "reason": "within stability data", "signature": signature("qa", "accepted")})
    text = pdf_text(api.get(f"/api/v1/bags/{made.bag.bag_code}/chain-of-custody.pdf", as_="qa").data)
    decisions = section(text, "Temperature excursions and QA decisions", "Bedside checks")
    assert "13.5 °C" in decisions and "accepted by Wang Fang (QA reviewer)" in decisions
    assert "within stability data" in decisions
    assert "13.5 EXCURSION" in text


def test_the_custody_page_shows_the_chain_and_links_the_pdf(app, client, auth, infused):
    auth.login("qa")
    page = client.get(f"/reports/bags/{infused.bag.bag_code}/custody").get_data(as_text=True)
    for event in BAG_EVENTS:
        assert f'data-event="{event}"' in page
    assert f"/reports/bags/{infused.bag.bag_code}/chain-of-custody.pdf" in page
    pdf = client.get(f"/reports/bags/{infused.bag.bag_code}/chain-of-custody.pdf")
    assert pdf.status_code == 200 and pdf_text(pdf.data).count("ALL CHECKS PASSED") == 1
    found = client.get("/reports/custody", query_string={"scan": ward.bag_2d(infused.bag)})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/bags/{infused.bag.bag_code}/custody")


def test_a_broken_chain_is_printed_as_broken(app):
    with app.app_context():
        session = db.session()
        bag = ward.bag(session)
        # an event written behind the state machine's back: infused straight from the lab
        session.add(CustodyEvent(item_type="bag", item_id=bag.id, event="infused", from_state="at_lab",
                                 to_state="infused", location="nowhere", occurred_at=datetime.now(UTC),
                                 recorded_by=ward.user(session, "lab").id))
        session.flush()
        text = pdf_text(custody_report.render(custody_report.gather(session, bag.bag_code), site="Test site",
                                                timezone="Asia/Shanghai"))
    assert "BROKEN: event 2: bag cannot be infused while at the lab" in text


def test_an_unknown_bag_has_no_report(app, api):
    assert api.get("/api/v1/bags/A999926999999-D0001VA0/chain-of-custody.pdf", as_="qa").status_code == 404


def test_a_placebo_bags_report_names_its_saline_lot_and_has_no_cord(app, api):
    with app.app_context():
        made = ward.bedside_ready(db.session(), kind="placebo", arm="B")
        db.commit()
    text = pdf_text(api.get(f"/api/v1/bags/{made.bag.bag_code}/chain-of-custody.pdf", as_="qa").data)
    assert "Saline lot NS-26-0415" in text and "Cord " not in text
    assert in_order(section(text, f"Bag {made.bag.bag_code}: custody events", "Temperature excursions"),
                    BAG_EVENTS[:-1])


def test_a_chinese_reader_reads_what_each_bedside_attempt_was_for_in_chinese(app, client, auth, infused):
    auth.login("qa")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = client.get(f"/reports/bags/{infused.bag.bag_code}/custody").get_data(as_text=True)
    assert "（已复核）" in page and "（已开始）" in page
    assert "(verify)" not in page and "(start)" not in page
    text = pdf_text(client.get(f"/reports/bags/{infused.bag.bag_code}/chain-of-custody.pdf").data)
    assert "（已复核）" in text and "（已开始）" in text
