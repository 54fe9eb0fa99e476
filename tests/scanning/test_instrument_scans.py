"""An instrument's label (``&g`` + its identifier, docs/identifiers.md) scanned at the scan station or sent to
``POST /scans`` opens the instrument's page, as a material lot's label opens the lot's."""

from __future__ import annotations

from tests.factories.equipment import make_instrument
from tests.factories.lab import in_db


def test_scanning_an_instrument_label_opens_its_page_and_the_api_links_it(app, api, auth):
    with in_db(app) as session:
        make_instrument(session, "CF-01", name="Centrifuge 1")
    answer = api.post("/api/v1/scans", as_="lab", json={"data": "&gCF-01"})
    assert answer.status_code == 200, answer.get_json()
    record = answer.get_json()["record"]
    assert (record["type"], record["key"]) == ("instrument", "CF-01")
    assert record["url"] == "/equipment/CF-01" and record["api"] == "/api/v1/instruments/CF-01"
    assert record["summary"]["name"] == "Centrifuge 1" and record["summary"]["status"] == "in_service"
    assert api.get(record["api"], as_="lab").status_code == 200
    auth.login("lab")
    opened = auth.post("/scan/", {"scan": "&gCF-01"})
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/equipment/CF-01")


def test_a_label_of_an_instrument_not_registered_here_says_so_on_the_station(app, api, auth, client):
    answer = api.post("/api/v1/scans", as_="lab", json={"data": "&gNOPE-9"}).get_json()
    assert "record" not in answer and "no instrument NOPE-9" in answer["note"]
    auth.login("lab")
    shown = auth.post("/scan/", {"scan": "&gNOPE-9"})
    assert shown.status_code == 303 and "/scan/?scan=" in shown.headers["Location"]
    assert client.get(shown.headers["Location"]).status_code == 200
