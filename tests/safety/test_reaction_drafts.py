"""A reaction recorded when an infusion is completed drafts an adverse event in the same transaction, for the
investigator to confirm; the draft shows on the investigator's dashboard and the subject's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from cellchain.core import db
from cellchain.safety.models import AdverseEvent
from tests.conftest import signature
from tests.factories import safety
from tests.factories.safety import EVENTS, complete_assessment


def _drafts(app) -> list[AdverseEvent]:
    with app.app_context():
        return list(db.session().exec(select(AdverseEvent).order_by(AdverseEvent.id)).all())


def test_a_reaction_at_the_end_of_an_infusion_drafts_an_adverse_event_for_the_investigator(app, api, auth):
    reaction = {"description": "chills and rigors", "severity": "moderate",
                "onset_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat()}
    scene, infusion_id, done = safety.infused(app, api, reactions=[reaction])
    assert done.status_code == 200, done.get_json()
    [draft] = _drafts(app)
    assert (draft.status, draft.source, draft.infusion_id, draft.subject_id) == (
        "draft", "reaction", infusion_id, scene.subject.id)
    assert (draft.term, draft.category, draft.grade) == ("chills and rigors", "infusion_reaction", 2)
    listed = api.get(f"{EVENTS}?subject_id={scene.subject.subject_code}", as_="investigator").get_json()
    assert [(e["id"], e["infusion_week"], e["status"]) for e in listed["adverse_events"]] == [(draft.id, 0, "draft")]
    auth.login("investigator")
    home = auth._client.get("/").get_data(as_text=True)
    assert 'data-testid="ae-drafts"' in home and "chills and rigors" in home
    subject_page = auth._client.get(f"/trial/subjects/{scene.subject.subject_code}").get_data(as_text=True)
    assert f'data-event="{draft.id}"' in subject_page and "DRAFT" in subject_page
    confirmed = api.post(f"{EVENTS}/{draft.id}/amend", as_="investigator",
                         json=complete_assessment(term="chills and rigors", grade=2))
    assert confirmed.status_code == 200, confirmed.get_json()
    signed = api.post(f"{EVENTS}/{draft.id}/confirm", as_="investigator",
                      json={"signature": signature("investigator", "approved")})
    assert signed.status_code == 200 and signed.get_json()["status"] == "confirmed"


def test_a_completion_without_reactions_drafts_nothing(app, api):
    _, _, done = safety.infused(app, api)
    assert done.status_code == 200
    assert _drafts(app) == []


def test_a_refused_completion_drafts_nothing(app, api):
    scene, infusion_id, done = safety.infused(app, api, reactions=[{"description": "rash", "severity": "mild"}])
    assert done.status_code == 200
    again = api.post(f"/api/v1/infusions/{infusion_id}/complete", as_="nurse", json={
        "volume_ml": scene.bag.volume_ml, "ended_at": datetime.now(UTC).isoformat(), "ultrasound_monitored": True,
        "reactions": [{"description": "fever", "severity": "severe"}]})
    assert again.status_code == 409
    with app.app_context():
        assert db.session().exec(select(func.count()).select_from(AdverseEvent)).one() == 1
