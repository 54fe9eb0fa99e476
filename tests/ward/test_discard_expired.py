"""Expired bags in stock are listed and discarded together with one reason, each with its custody record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.manufacturing.models import Bag
from cellchain.ward.models import CustodyEvent
from tests.factories import ward as w
from tests.factories.qc import db_session


def _expired(session, division: str, hours_ago: int = 2) -> Bag:
    return w.bag(session, division=division, expires_at=datetime.now(UTC) - timedelta(hours=hours_ago))


def test_lab_discards_the_expired_bags_it_ticks_with_one_reason(app, client, auth):
    with db_session(app) as session:
        first, second = _expired(session, "A0"), _expired(session, "B0")
        fresh = w.bag(session, division="C0")
        codes = first.bag_code, second.bag_code, fresh.bag_code
    auth.login("lab")
    page = client.get("/handover/expired").get_data(as_text=True)
    assert f'data-bag="{codes[0]}"' in page and f'data-bag="{codes[1]}"' in page and codes[2] not in page
    done = auth.post("/handover/expired", {"bags": [codes[0], codes[1]], "reason": "Expired on the shelf",
                                           "location": "Clean room 1"}, follow_redirects=True)
    assert b"2 expired bags discarded" in done.data and b'data-testid="no-expired"' in done.data
    with db_session(app) as session:
        bags = session.exec(select(Bag).where(Bag.bag_code.in_(codes[:2]))).all()
        assert {b.custody_state for b in bags} == {"discarded"}
        events = session.exec(select(CustodyEvent).where(CustodyEvent.event == "discarded")).all()
        assert sorted(e.item_id for e in events) == sorted(b.id for b in bags)
        assert all(e.notes == "Expired on the shelf" for e in events)
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "discard_expired")).all()
        assert len(entries) == 2 and all(e.reason == "Expired on the shelf" for e in entries)


def test_an_allocated_expired_bag_is_refused_by_name_and_nothing_is_discarded(app, client, auth):
    with db_session(app) as session:
        loose, kept = _expired(session, "A0"), _expired(session, "B0")
        person = w.subject(session)
        w.allocate(session, kept, w.infusion_visit(session, person), person)
        codes, subject_code = (loose.bag_code, kept.bag_code), person.subject_code
    auth.login("lab")
    page = client.get("/handover/expired").get_data(as_text=True)
    assert f"allocated to {subject_code} week 0" in page
    refused = auth.post("/handover/expired", {"every": "1", "reason": "Expired", "location": "Clean room 1"})
    assert refused.status_code == 409
    assert b"expired_bag_allocated" in refused.data and codes[1].encode() in refused.data
    assert f"{codes[1]} is allocated to {subject_code}&#39;s week 0 visit" in refused.get_data(as_text=True)
    with db_session(app) as session:
        assert {b.custody_state for b in session.exec(select(Bag).where(Bag.bag_code.in_(codes)))} == {"at_lab"}


def test_a_bag_still_in_date_cannot_be_discarded_as_expired(app, client, auth):
    with db_session(app) as session:
        code = w.bag(session).bag_code
    auth.login("lab")
    refused = auth.post("/handover/expired", {"bags": [code], "reason": "Expired", "location": "Clean room 1"})
    assert refused.status_code == 409 and b"bag_not_expired" in refused.data


def test_a_discard_without_a_reason_or_a_bag_names_the_missing_field(app, client, auth):
    auth.login("nurse")
    refused = auth.post("/handover/expired", {"reason": "", "location": ""})
    assert refused.status_code == 400
    assert b"<strong>bags</strong>" in refused.data and b"<strong>reason</strong>" in refused.data


def test_the_nurse_sees_expired_bags_on_the_ward_not_the_labs(app, client, auth):
    with db_session(app) as session:
        on_ward = w.to_ward(session, _expired(session, "A0", hours_ago=0))
        in_lab = _expired(session, "B0")
        codes = on_ward.bag_code, in_lab.bag_code
    auth.login("nurse")
    page = client.get("/handover/expired").get_data(as_text=True)
    assert f'data-bag="{codes[0]}"' in page and f'data-bag="{codes[1]}"' not in page


def test_coordinator_and_auditor_cannot_discard(app, client, auth):
    for who in ("coordinator", "auditor"):
        auth.login(who)
        assert client.get("/handover/expired").status_code == 403
        assert auth.post("/handover/expired", {"every": "1", "reason": "x", "location": "y"}).status_code == 403
        auth.logout()


def test_the_api_discards_expired_bags_or_names_the_one_that_may_not_be(app, api):
    with db_session(app) as session:
        old, fresh = _expired(session, "A0"), w.bag(session, division="B0")
        codes, fresh_expires = (old.bag_code, fresh.bag_code), fresh.expires_at
    body = {"bags": list(codes), "reason": "Expired", "location": "Clean room 1"}
    refused = api.post("/api/v1/bags/discard-expired", as_="lab", json=body)
    assert refused.status_code == 409 and [r["code"] for r in refused.get_json()["reasons"]] == ["bag_not_expired"]
    (reason,) = refused.get_json()["reasons"]
    expires = fresh_expires.astimezone(ZoneInfo("Asia/Shanghai"))  # the site's clock (core/config.py)
    assert reason["message"] == f"{codes[1]} is in date until {expires:%Y-%m-%d %H:%M} UTC+08:00"
    assert reason["params"]["expires_at"] == expires.isoformat()
    done = api.post("/api/v1/bags/discard-expired", as_="lab", json={**body, "bags": [codes[0]]})
    assert done.status_code == 200 and done.get_json() == {"discarded": [codes[0]]}
    assert api.post("/api/v1/bags/discard-expired", as_="coordinator", json=body).status_code == 403
