"""The demo's safety story: a biopsy-proven grade-3 acute rejection, serious, confirmed and reported to the
sponsor inside the 24-hour clock, and a mild chills reaction drafted at an infusion's end and confirmed;
loading again adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.people.accounts import Policy
from cellchain.safety.models import AdverseEvent, SaeReport
from tests.conftest import FAST_HASH


@pytest.fixture
def story(app):
    with app.app_context():
        demo.load(db.session(), policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
    return app


def test_demo_has_a_serious_acute_rejection_reported_in_time_and_a_confirmed_mild_reaction(story, api):
    listed = api.get("/api/v1/adverse-events", as_="auditor").get_json()["adverse_events"]
    rejection = next(e for e in listed if e["category"] == "acute_rejection")
    reaction = next(e for e in listed if e["category"] == "infusion_reaction")
    assert (rejection["id"], rejection["grade"], rejection["serious"], rejection["biopsy_proven"],
            rejection["status"], rejection["arm"]) == (1, 3, True, True, "confirmed", "A")
    detail = api.get(f"/api/v1/adverse-events/{rejection['id']}", as_="qa").get_json()
    assert detail["clock"] == "sent" and detail["reports"][0]["late"] is False and detail["signature_matches"]
    assert (reaction["grade"], reaction["serious"], reaction["status"], reaction["source"]) == (
        1, False, "confirmed", "reaction")
    assert reaction["infusion_week"] == 4
    assert api.get("/api/v1/sae-clocks", as_="qa").get_json()["clocks"] == []


def test_loading_the_demo_again_adds_no_adverse_event(story):
    with story.app_context():
        session = db.session()
        before = (session.exec(select(func.count()).select_from(AdverseEvent)).one(),
                  session.exec(select(func.count()).select_from(SaeReport)).one())
        assert demo.load(session, policy=Policy(hash_method=FAST_HASH), config=story.config) == 0
        db.commit()
        assert before == (2, 1)
        assert (session.exec(select(func.count()).select_from(AdverseEvent)).one(),
                session.exec(select(func.count()).select_from(SaeReport)).one()) == before


def test_the_pages_the_readme_names_show_the_demo_safety_story(story, auth):
    auth.login("investigator")
    page = auth._client.get("/safety/").get_data(as_text=True)
    assert "acute cellular rejection" in page and "chills" in page
    assert auth._client.get("/safety/events/1").status_code == 200
