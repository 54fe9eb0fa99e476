"""The lab's forms read a time typed on the page as the site's wall clock, and a refused form comes back
with what was typed and the field named, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from cellchain.ward.models import CustodyEvent
from tests.factories.lab import in_db, make_collection, snapshot


def _site_zone(app) -> ZoneInfo:
    return ZoneInfo(app.config["SITE_TIMEZONE"])


def test_a_handover_time_typed_on_the_page_is_kept_as_that_moment_at_the_site(app, client, auth):
    with in_db(app) as session:
        cord = make_collection(session)
        din, cord_id = cord.din, cord.id
    typed = (datetime.now(_site_zone(app)) - timedelta(hours=3)).replace(second=0, microsecond=0)
    auth.login("lab")
    response = auth.post(f"/lab/collections/{din}/handover", data={
        "event": "stored", "location": "cryo tank 2", "temperature_c": "4",
        "occurred_at": typed.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 303, response.data.decode()[:2000]
    with in_db(app) as session:
        event = session.exec(select(CustodyEvent).where(CustodyEvent.item_type == "collection",
                                                        CustodyEvent.item_id == cord_id,
                                                        CustodyEvent.event == "stored")).one()
        assert event.occurred_at.astimezone(UTC) == typed.astimezone(UTC)


def test_an_unreadable_time_is_named_and_what_was_typed_stays_in_the_form(app, client, auth):
    with in_db(app) as session:
        din = make_collection(session).din
    auth.login("lab")
    with in_db(app) as session:
        before = snapshot(session)
    response = auth.post(f"/lab/collections/{din}/handover", data={
        "event": "stored", "location": "cryo tank 7", "temperature_c": "4", "occurred_at": "yesterday noon"})
    page = response.data.decode()
    assert response.status_code == 400
    assert "occurred_at" in page and "site time" in page
    assert 'value="cryo tank 7"' in page and 'value="yesterday noon"' in page
    with in_db(app) as session:
        assert snapshot(session) == before
