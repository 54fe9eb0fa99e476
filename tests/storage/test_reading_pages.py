"""A storage unit's temperature readings a page at a time, newest first (docs/rules.md, "Lists"): the unit
page and GET /api/v1/storage/units/{code}/readings reach every reading, not only the last 50."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from cellchain.core.types import utcnow
from cellchain.storage.models import TemperatureReading
from tests.factories import storage
from tests.factories.lab import in_db, user


def unit_with_readings(app, count: int) -> str:
    with in_db(app) as session:
        unit = storage.site(session).unit
        lab, now = user(session, "lab"), utcnow()
        session.add_all(TemperatureReading(unit_id=unit.id, measured_at=now - timedelta(minutes=10 * n),
                                           temperature_c=-160.0, low_c=unit.low_c, high_c=unit.high_c,
                                           source="entered", recorded_by=lab.id) for n in range(count))
        return unit.code


def test_the_api_walks_every_reading_of_a_unit_newest_first(app, api):
    code = unit_with_readings(app, 75)
    seen, url = [], f"/api/v1/storage/units/{code}/readings?limit=30"
    while url:
        body = api.get(url, as_="lab").get_json()
        seen += [r["measured_at"] for r in body["readings"]]
        url = f"/api/v1/storage/units/{code}/readings?limit=30&cursor={body['next']}" if body["next"] else None
    assert len(seen) == len(set(seen)) == 75 and seen == sorted(seen, reverse=True)


def test_the_unit_page_links_to_older_readings_even_with_a_query_name_repeating_the_unit(app, client, auth):
    code = unit_with_readings(app, 60)
    auth.login("lab")
    page = client.get(f"/storage/units/{code}?unit_code=ELSEWHERE")
    assert page.status_code == 200
    following = html.unescape(re.search(r'rel="next" href="([^"]+)"', page.get_data(as_text=True)).group(1))
    assert following.startswith(f"/storage/units/{code}?")
    older = client.get(following).get_data(as_text=True)
    assert len(re.findall(r'<tr data-reading="', older)) == 10
