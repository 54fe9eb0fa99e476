"""Adverse events through the API: recorded as drafts, every bad field named, confirmed by the investigator's
e-signature, amended with versions, each change audited; the grade-5 death action."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.safety.models import AdverseEvent, AdverseEventVersion
from tests.conftest import signature
from tests.factories import safety
from tests.factories.safety import EVENTS, acute_rejection, complete_assessment, record


def _entries(app, action: str | None = None) -> int:
    with app.app_context():
        statement = select(func.count()).select_from(AuditEntry).where(AuditEntry.record_type == "adverse_event")
        if action:
            statement = statement.where(AuditEntry.action == action)
        return db.session().exec(statement).one()


def test_the_coordinator_records_a_draft_the_investigator_confirms_with_an_e_signature(app, api):
    code = safety.subject_code(app)
    made = record(api, code, {"term": "headache", "category": "other"}, as_="coordinator")
    assert made.status_code == 201, made.get_json()
    event = made.get_json()
    assert (event["status"], event["version"], event["subject_id"], event["arm"]) == ("draft", 1, code, "A")
    assert event["open_actions"] == ["confirm: assess and sign the event"]
    event_id = event["id"]
    refused = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                       json={"signature": signature("investigator", "approved")})
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "assessment_incomplete"
    assert "grade" in refused.get_json()["reasons"][0]["message"]
    amended = api.post(f"{EVENTS}/{event_id}/amend", as_="investigator",
                       json=complete_assessment(term="headache", category="other"))
    assert amended.status_code == 200, amended.get_json()
    confirmed = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                         json={"signature": signature("investigator", "approved")})
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert body["status"] == "confirmed" and body["confirm_signature_id"] and body["signature_matches"] is True
    assert [v["version"] for v in body["versions"]] == [1, 2]
    again = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                     json={"signature": signature("investigator", "approved")})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "event_not_draft"
    assert _entries(app, "record") == 1 and _entries(app, "amend") == 1 and _entries(app, "confirm") == 1


def test_every_unreadable_field_is_named_and_nothing_is_written(app, api):
    code = safety.subject_code(app)
    before = _entries(app)
    response = record(api, code, {"term": "", "category": "rash", "grade": 7, "seriousness": ["awful"],
                                  "aware_at": "yesterday"})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"term", "category", "grade", "seriousness", "aware_at"}
    with app.app_context():
        assert db.session().exec(select(func.count()).select_from(AdverseEvent)).one() == 0
    assert _entries(app) == before


def test_a_grade_5_event_that_is_not_fatal_is_refused_and_a_fatal_one_leaves_the_death_path_open(app, api, auth):
    code = safety.subject_code(app)
    refused = record(api, code, complete_assessment(grade=5, outcome="recovered"))
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["fatal_event_inconsistent"]
    fatal = record(api, code, complete_assessment(term="hepatic failure", category="hepatobiliary", grade=5,
                                                  outcome="fatal", seriousness=["death"], resolved_on=None))
    assert fatal.status_code == 201, fatal.get_json()
    assert "death: the subject's withdrawal/death path must be recorded" in fatal.get_json()["open_actions"]
    auth.login("investigator")
    home = auth._client.get("/").get_data(as_text=True)
    assert "death: the subject's withdrawal/death path must be recorded" in home and "hepatic failure" in home


def test_the_coordinator_cannot_amend_a_confirmed_event_and_the_investigator_needs_a_reason(app, api):
    code = safety.subject_code(app)
    event_id = record(api, code, complete_assessment()).get_json()["id"]
    assert api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                    json={"signature": signature("investigator", "approved")}).status_code == 200
    by_coordinator = api.post(f"{EVENTS}/{event_id}/amend", as_="coordinator", json={"grade": 2})
    assert by_coordinator.status_code == 409
    assert by_coordinator.get_json()["reasons"][0]["code"] == "event_already_confirmed"
    no_reason = api.post(f"{EVENTS}/{event_id}/amend", as_="investigator", json={"grade": 2})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["fields"]
    amended = api.post(f"{EVENTS}/{event_id}/amend", as_="investigator",
                       json={"grade": 2, "reason": "fever lasted longer than first reported"})
    assert amended.status_code == 200
    body = amended.get_json()
    assert (body["grade"], body["status"], body["version"]) == (2, "draft", 2)  # signed again after a change
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "adverse_event",
                                                           AuditEntry.action == "amend")).one()
        assert '"grade":1' in entry.old_values and '"grade":2' in entry.new_values
        assert entry.reason == "fever lasted longer than first reported"
        versions = db.session().exec(select(AdverseEventVersion).where(AdverseEventVersion.event_id == event_id)
                                     .order_by(AdverseEventVersion.version)).all()
        assert [(v.version, v.values["grade"]) for v in versions] == [(1, 1), (2, 2)]


def test_an_event_cannot_name_another_subjects_infusion(app, api):
    scene, infusion_id, done = safety.infused(app, api)
    assert done.status_code == 200
    other = safety.subject_code(app)
    refused = record(api, other, {"term": "rash", "category": "other", "infusion_id": infusion_id})
    assert refused.status_code == 409
    assert refused.get_json()["reasons"][0]["code"] == "infusion_of_another_subject"
    linked = record(api, scene.subject.subject_code, {"term": "rash", "category": "other", "infusion_id": infusion_id})
    assert linked.status_code == 201 and linked.get_json()["infusion_week"] == 0


def test_acute_rejection_needs_biopsy_and_treatment_before_the_investigator_signs(app, api):
    code = safety.subject_code(app)
    event_id = record(api, code, acute_rejection(biopsy_proven=None, rejection_treatment=None)).get_json()["id"]
    refused = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                       json={"signature": signature("investigator", "approved")})
    assert refused.status_code == 409 and "biopsy_proven" in refused.get_json()["reasons"][0]["message"]
    assert api.get(f"{EVENTS}/{event_id}", as_="qa").get_json()["special_interest"] is True


def test_the_signer_must_be_the_investigator_logged_in(app, api):
    code = safety.subject_code(app)
    event_id = record(api, code, complete_assessment()).get_json()["id"]
    refused = api.post(f"{EVENTS}/{event_id}/confirm", as_="investigator",
                       json={"signature": signature("coordinator", "approved")})
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "signer_not_actor"
