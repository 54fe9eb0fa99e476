"""The SAE reporting clock: a serious event is due to the sponsor within 24 hours of awareness, shown due and
then overdue on the investigator's and QA's dashboards (clock moved with time-machine), and answered by a
signed report marked sent, late or in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from cellchain.core import db
from cellchain.notices.models import Notification
from cellchain.people.models import User
from cellchain.safety import sae
from tests.conftest import ApiActions, AuthActions, signature
from tests.factories import safety
from tests.factories.safety import EVENTS, acute_rejection, complete_assessment, record

CLOCKS = "/api/v1/sae-clocks"


def _serious(app, api, *, aware_at: datetime) -> int:
    code = safety.subject_code(app)
    made = record(api, code, acute_rejection(aware_at=aware_at.isoformat()))
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def _dashboard(app, username: str) -> str:
    browser = AuthActions(app.test_client())
    assert browser.login(username).status_code == 302
    return browser._client.get("/").get_data(as_text=True)


def test_a_serious_event_tells_the_investigator_and_qa_at_once_with_the_deadline(app, api):
    event_id = _serious(app, api, aware_at=datetime.now(UTC) - timedelta(hours=1))
    with app.app_context():
        session = db.session()
        told = session.exec(select(User.username).join(Notification, Notification.recipient_id == User.id)
                            .where(Notification.kind == "sae_clock")).all()
        assert sorted(told) == ["investigator", "qa"]
        notice = session.exec(select(Notification).where(Notification.kind == "sae_clock")).first()
        assert f"SAE {event_id}" in notice.subject and notice.link == f"/safety/events/{event_id}"
        # the deadline and the awareness read on the site's clock with its offset, never a bare local time
        assert notice.subject.endswith(" UTC+08:00") and notice.body.count(" UTC+08:00") == 2


def test_an_unreported_serious_event_is_overdue_after_24_hours_on_the_investigators_and_qas_dashboards(app, api):
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    event_id = _serious(app, api, aware_at=aware)
    for username in ("investigator", "qa"):
        page = _dashboard(app, username)
        assert f'data-event="{event_id}" data-state="due"' in page, username
    assert api.get(CLOCKS, as_="qa").get_json()["clocks"][0]["state"] == "due"
    with time_machine.travel(aware + timedelta(hours=24, minutes=1), tick=False):
        for username in ("investigator", "qa"):
            page = _dashboard(app, username)
            assert f'data-event="{event_id}" data-state="overdue"' in page, username
            assert "OVERDUE" in page
        later = ApiActions(app.test_client())  # tokens issued at this time
        answer = later.get(CLOCKS, as_="investigator").get_json()["clocks"]
        assert [(c["event_id"], c["state"]) for c in answer] == [(event_id, "overdue")]
    with app.app_context():
        just_in_time = sae.clocks(db.session(), now=aware + timedelta(hours=24))
        assert [c.state for c in just_in_time] == ["due"]


def test_a_report_signed_within_24_hours_stops_the_clock_and_is_kept_as_in_time(app, api):
    aware = datetime.now(UTC) - timedelta(hours=3)
    event_id = _serious(app, api, aware_at=aware)
    sent = api.post(f"{EVENTS}/{event_id}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "authored"), "sent_to": "sponsor safety desk",
        "sent_at": (aware + timedelta(hours=2)).isoformat()})
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert body["clock"] == "sent" and body["reports"][0]["kind"] == "initial" and body["reports"][0]["late"] is False
    assert api.get(CLOCKS, as_="qa").get_json()["clocks"] == []
    follow_up = api.post(f"{EVENTS}/{event_id}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "authored"), "sent_to": "sponsor safety desk"})
    assert follow_up.status_code == 201 and follow_up.get_json()["reports"][1]["kind"] == "follow_up"
    moved = api.post(f"{EVENTS}/{event_id}/amend", as_="investigator",
                     json={"aware_at": (aware + timedelta(hours=1)).isoformat(), "reason": "later call"})
    assert moved.status_code == 409 and moved.get_json()["reasons"][0]["code"] == "awareness_after_report"


def test_a_report_sent_after_the_deadline_is_recorded_as_late(app, api):
    aware = datetime.now(UTC) - timedelta(hours=30)
    event_id = _serious(app, api, aware_at=aware)
    sent = api.post(f"{EVENTS}/{event_id}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "authored"), "sent_to": "sponsor safety desk"})
    assert sent.status_code == 201
    assert sent.get_json()["clock"] == "sent_late" and sent.get_json()["reports"][0]["late"] is True


def test_a_non_serious_event_has_no_report_and_a_report_before_awareness_is_refused(app, api):
    code = safety.subject_code(app)
    mild = record(api, code, complete_assessment()).get_json()
    assert mild["clock"] is None and mild["report_due_at"] is None
    refused = api.post(f"{EVENTS}/{mild['id']}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "authored"), "sent_to": "sponsor"})
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "event_not_serious"
    aware = datetime.now(UTC) - timedelta(hours=2)
    event_id = _serious(app, api, aware_at=aware)
    early = api.post(f"{EVENTS}/{event_id}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "authored"), "sent_to": "sponsor",
        "sent_at": (aware - timedelta(hours=1)).isoformat()})
    assert early.status_code == 409 and early.get_json()["reasons"][0]["code"] == "sent_before_awareness"
    missing = api.post(f"{EVENTS}/{event_id}/sae-reports", as_="investigator", json={
        "signature": signature("investigator", "approved"), "sent_to": "", "sent_at": "noon"})
    assert missing.status_code == 400
    assert set(missing.get_json()["fields"]) == {"signature.meaning", "sent_to", "sent_at"}


def test_an_event_made_serious_by_amendment_starts_the_clock_at_its_awareness(app, api):
    code = safety.subject_code(app)
    aware = datetime.now(UTC) - timedelta(hours=25)
    event_id = record(api, code, complete_assessment(aware_at=aware.isoformat())).get_json()["id"]
    assert api.get(CLOCKS, as_="qa").get_json()["clocks"] == []
    amended = api.post(f"{EVENTS}/{event_id}/amend", as_="investigator",
                       json={"seriousness": ["hospitalisation"], "grade": 3})
    assert amended.status_code == 200, amended.get_json()
    assert amended.get_json()["clock"] == "overdue"
    assert [c["event_id"] for c in api.get(CLOCKS, as_="qa").get_json()["clocks"]] == [event_id]
