"""Registering and screening subjects through the API (protocol NCT01690247; docs/rules.md, "Trial: subjects")."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.trial.models import Subject, Visit
from tests.conftest import ApiActions
from tests.factories.trial import eligible_answers, register, site_today

# (field, value that fails it alone, the reason code named)
SINGLE_FAILURES = [
    ("meets_transplant_criteria", False, "transplant_criteria_not_met"),
    ("first_transplant", False, "not_first_transplant"),
    ("liver_only", False, "not_liver_only"),
    ("consent_signed", False, "consent_missing"),
    ("willing_to_comply", False, "unwilling_to_comply"),
    ("prior_other_organ_transplant", True, "prior_other_organ_transplant"),
    ("vital_organ_failure", True, "vital_organ_failure"),
    ("investigational_drug_within_30_days", True, "recent_investigational_drug"),
    ("on_immunosuppressant", True, "on_immunosuppressant"),
    ("active_infection", True, "active_infection"),
    ("pregnant_or_lactating", True, "pregnant_or_lactating"),
]


def test_a_subject_who_meets_every_criterion_is_eligible(api):
    subject = register(api)
    assert subject["eligible"] is True and subject["reasons"] == []
    assert subject["subject_id"] == "SUBJ-0001" and subject["status"] == "awaiting_randomization"


@pytest.mark.parametrize(("field", "value", "code"), SINGLE_FAILURES)
def test_each_criterion_alone_makes_the_subject_ineligible(api, field, value, code):
    subject = register(api, **{field: value})
    assert subject["eligible"] is False
    assert [r["code"] for r in subject["reasons"]] == [code]
    assert subject["reasons"][0]["message"]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"sex": "female", "pregnancy_test": "positive"}, "pregnancy_test_positive"),
    ({"sex": "female", "pregnancy_test": None}, "pregnancy_test_missing"),
])
def test_a_woman_needs_a_negative_pregnancy_test_or_not_applicable(api, overrides, code):
    assert register(api, sex="female", pregnancy_test="negative")["eligible"] is True
    assert register(api, sex="female", pregnancy_test="not_applicable")["eligible"] is True
    subject = register(api, **overrides)
    assert [r["code"] for r in subject["reasons"]] == [code]


def test_age_counts_at_day0_with_18_and_70_both_included(api):
    def codes(birth_date: str) -> list[str]:
        return [r["code"] for r in register(api, birth_date=birth_date, day0="2026-06-15")["reasons"]]

    assert codes("2008-06-15") == []  # 18 on day 0
    assert codes("2008-06-16") == ["age_out_of_range"]  # 18 tomorrow
    assert codes("1955-06-16") == []  # 70, turning 71 tomorrow
    assert codes("1955-06-15") == ["age_out_of_range"]  # 71 on day 0


def test_a_screen_failure_is_recorded_with_every_reason_and_gets_no_visits(app, api):
    subject = register(api, consent_signed=False, active_infection=True, vital_organ_failure=True)
    assert {r["code"] for r in subject["reasons"]} == {"consent_missing", "active_infection", "vital_organ_failure"}
    assert subject["status"] == "screen_failure"
    listed = api.get("/api/v1/subjects", as_="coordinator").get_json()["subjects"]
    assert [s["subject_id"] for s in listed] == [subject["subject_id"]]
    assert api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"] == []
    with app.app_context():
        entry = db.session().exec(select(AuditEntry).where(AuditEntry.action == "register")).one()
        assert entry.record_id == subject["subject_id"] and '"eligible":false' in entry.new_values


def test_subject_ids_are_issued_in_order(api):
    assert [register(api)["subject_id"] for _ in range(3)] == ["SUBJ-0001", "SUBJ-0002", "SUBJ-0003"]


def test_bad_answers_are_refused_naming_every_field(app, api):
    body = eligible_answers(weight_kg=700, meets_transplant_criteria="true", birth_date="15/03/1980")
    del body["active_infection"]
    response = api.post("/api/v1/subjects", as_="coordinator", json=body)
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"weight_kg", "meets_transplant_criteria", "birth_date",
                                                  "active_infection"}
    with app.app_context():
        assert db.session().exec(select(Subject)).all() == []


def test_a_screening_number_is_registered_once(api):
    register(api, screening_number="SCR-7")
    response = api.post("/api/v1/subjects", as_="coordinator", json=eligible_answers(screening_number="SCR-7"))
    assert response.status_code == 409
    assert response.get_json()["reasons"][0]["code"] == "screening_number_taken"


def test_names_sent_along_are_not_stored(app, api):
    subject = register(api, name="Ouyang Xiaoming", full_name="Ouyang Xiaoming")
    assert "Ouyang" not in str(api.get(f"/api/v1/subjects/{subject['subject_id']}", as_="auditor").get_json())
    with app.app_context():
        session = db.session()
        assert "Ouyang" not in str(session.exec(select(Subject)).one().answers)
        assert all("Ouyang" not in (e.new_values or "") for e in session.exec(select(AuditEntry)))


def test_an_eligible_subject_gets_the_protocol_visit_schedule(app, api):
    day0 = site_today()
    subject = register(api, day0=day0)
    visits = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="nurse").get_json()["visits"]
    assert [(v["week"], v["kind"]) for v in visits] == [
        (0, "infusion"), (4, "infusion"), (4, "follow_up"), (8, "infusion"), (8, "follow_up"),
        (12, "infusion"), (12, "follow_up"), (24, "follow_up"), (36, "follow_up"), (48, "follow_up")]
    week4 = visits[1]
    assert week4["target_date"] == (day0 + timedelta(weeks=4)).isoformat()
    assert week4["window"] == {"start": (day0 + timedelta(days=25)).isoformat(),
                               "end": (day0 + timedelta(days=31)).isoformat()}
    assert visits[2]["window"]["end"] == (day0 + timedelta(days=35)).isoformat()
    assert visits[0]["window"]["start"] == day0.isoformat()  # never before day 0
    assert {v["status"] for v in visits} == {"planned"}
    with app.app_context():
        assert len(db.session().exec(select(Visit)).all()) == 10


def test_only_the_coordinator_registers_and_readers_read(api):
    assert api.post("/api/v1/subjects", as_="nurse", json=eligible_answers()).status_code == 403
    subject = register(api)
    assert api.get(f"/api/v1/subjects/{subject['subject_id']}", as_="auditor").status_code == 200
    assert api.get(f"/api/v1/subjects/{subject['subject_id']}", as_="lab").status_code == 403
    assert api.get("/api/v1/subjects/SUBJ-0999", as_="coordinator").status_code == 404


def test_concurrent_registrations_draw_distinct_subject_ids(app):
    clients = [ApiActions(app.test_client()) for _ in range(6)]
    for client in clients:
        client.token("coordinator")
    barrier, answers = threading.Barrier(len(clients)), []

    def attempt(client: ApiActions) -> None:
        barrier.wait()
        response = client.post("/api/v1/subjects", as_="coordinator", json=eligible_answers())
        answers.append((response.status_code, response.get_json().get("subject_id")))

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [(201, f"SUBJ-{n:04d}") for n in range(1, 7)]
