"""The coordinator's trial pages, and the demo trial data."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from cellchain.core import db
from cellchain.demo import trial as demo_trial
from cellchain.people.security import policy
from cellchain.trial import visits
from cellchain.trial.models import Allocation, Subject
from cellchain.trial.rules import eligibility
from tests.factories import trial as factory
from tests.factories.trial import eligible_answers, randomized, register, site_today


def _form(**overrides) -> dict[str, str]:
    """The register form as a browser posts it: criteria as yes/no, nothing for unanswered ones."""
    answers = {k: v for k, v in eligible_answers(**overrides).items() if v is not None}
    return {k: ("yes" if v is True else "no" if v is False else str(v)) for k, v in answers.items()}


def _visit_id(api, subject: dict, week: int, kind: str) -> int:
    visits = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    return next(v["visit_id"] for v in visits if (v["week"], v["kind"]) == (week, kind))


def test_the_subject_list_shows_status_arm_and_the_next_visit_due(client, auth, api):
    subject = randomized(api, day0=site_today() - timedelta(days=27))
    failure = register(api, on_immunosuppressant=True)
    auth.login("coordinator")
    page = client.get("/trial/").get_data(as_text=True)
    assert subject["subject_id"] in page and failure["subject_id"] in page
    assert "Screen failure" in page and "Randomized" in page
    target = (site_today() + timedelta(days=1)).isoformat()
    assert f"Week 4 infusion, {target}" in page


def test_the_register_form_asks_every_criterion_with_nothing_preselected(client, auth):
    auth.login("coordinator")
    page = client.get("/trial/subjects/new").get_data(as_text=True)
    for name in eligibility.BOOL_FIELDS:
        assert f'name="{name}" value="yes"' in page and f'name="{name}" value="no"' in page
    assert "checked" not in page


def test_registering_through_the_form_shows_the_verdict_and_reasons(client, auth):
    auth.login("coordinator")
    response = auth.post("/trial/subjects", _form(active_infection=True, consent_signed=False))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not eligible" in page and "active_infection" in page and "consent_missing" in page
    assert "Randomize" not in page


def test_an_unanswered_criterion_re_renders_the_form_naming_it(client, auth):
    auth.login("coordinator")
    form = _form(screening_number="SCR-KEEP")
    del form["liver_only"]
    response = auth.post("/trial/subjects", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "liver_only" in page and 'value="SCR-KEEP"' in page


def test_randomizing_from_the_subject_page_needs_the_typed_confirmation(client, auth, api):
    subject_id = register(api)["subject_id"]
    auth.login("coordinator")
    url = f"/trial/subjects/{subject_id}/randomize"
    wrong = auth.post(url, {"confirm": "SUBJ-9999"})
    assert wrong.status_code == 400 and "to confirm" in wrong.get_data(as_text=True)
    assert auth.post(url, {"confirm": subject_id}).status_code == 303
    arm = api.get(f"/api/v1/subjects/{subject_id}", as_="coordinator").get_json()["arm"]
    page = client.get(f"/trial/subjects/{subject_id}").get_data(as_text=True)
    assert f"{arm} ({'UC-MSC' if arm == 'A' else 'placebo'})" in page and 'name="confirm"' not in page
    again = auth.post(url, {"confirm": subject_id})
    assert again.status_code == 409 and "already_randomized" in again.get_data(as_text=True)


def test_allocating_from_the_subject_page_names_a_refusal_and_shows_the_bag(app, client, auth, api):
    subject = randomized(api)
    right, wrong = (factory.ucmsc_bag, factory.placebo_bag) if subject["arm"] == "A" else \
        (factory.placebo_bag, factory.ucmsc_bag)
    with app.app_context():
        good, bad = right(db.session()).bag_code, wrong(db.session()).bag_code
        db.commit()
    auth.login("coordinator")
    url = f"/trial/visits/{_visit_id(api, subject, 0, 'infusion')}/allocation"
    before = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert before.count('class="allocate"') == 1 and url in before  # only the next infusion takes a bag
    refused = auth.post(url, {"scan": bad, "weight_kg": "70"})
    assert refused.status_code == 409 and "wrong_product_for_arm" in refused.get_data(as_text=True)
    assert auth.post(url, {"scan": good + "\r\n", "weight_kg": "70"}).status_code == 303
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert good in page and "Allocations" in page
    assert f"/trial/visits/{_visit_id(api, subject, 4, 'infusion')}/allocation" in page  # now week 4 is next
    assert auth.post(url, {"scan": good, "weight_kg": "seventy"}).status_code == 400


def test_the_follow_up_button_records_the_visit_done(client, auth, api):
    subject = randomized(api, day0=site_today() - timedelta(weeks=4))
    visit_id = _visit_id(api, subject, 4, "follow_up")
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert f"/trial/visits/{visit_id}/done" in page
    assert auth.post(f"/trial/visits/{visit_id}/done").status_code == 303
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert f"/trial/visits/{visit_id}/done" not in page and "Done" in page


def test_the_balance_page_shows_counts_and_fingerprint(client, auth, api):
    subjects = [randomized(api) for _ in range(4)]
    register(api, active_infection=True)
    auth.login("coordinator")
    page = client.get("/trial/balance").get_data(as_text=True)
    arms = [s["arm"] for s in subjects]
    assert f'data-arm="A">{arms.count("A")}<' in page and f'data-arm="B">{arms.count("B")}<' in page
    assert "Verified" in page and "Screen failures</dt><dd>1<" in page


def test_the_auditor_reads_the_pages_without_forms_and_a_nurse_is_kept_out(client, auth, api):
    subject = register(api)
    auth.login("auditor")
    page = client.get(f"/trial/subjects/{subject['subject_id']}")
    assert page.status_code == 200 and b'name="confirm"' not in page.data
    assert b"Register and screen" not in client.get("/trial/").data
    assert client.get("/trial/subjects/new").status_code == 403
    auth.logout()
    auth.login("nurse")
    assert client.get("/trial/").status_code == 403


def test_the_wristband_link_appears_only_when_the_label_route_exists(app, client, auth, api):
    subject = register(api)
    auth.login("coordinator")
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert ("Wristband label" in page) == ("labels.wristband" in app.view_functions)


def test_the_demo_trial_is_at_different_points_and_safe_to_load_twice(app):
    with app.app_context():
        session = db.session()
        factory.placebo_bag(session)
        factory.placebo_bag(session)
        first = demo_trial.load(session, config=app.config, policy=policy())
        db.commit()
        assert demo_trial.load(session, config=app.config, policy=policy()) == 0
        rows = session.exec(select(Subject)).all()
        assert len(rows) == len(demo_trial.SUBJECTS) and first > len(rows)
        assert sum(not s.eligible for s in rows) == 1 and sum(s.arm is None and s.eligible for s in rows) == 1
        today, zone = site_today(), app.config["SITE_TIMEZONE"]
        states = {s.subject_code: visits.calendar(session, s, today=today, timezone=zone) for s in rows if s.arm}
        assert {"done", "missed", "planned"} <= {v.status for vs in states.values() for v in vs}
        open_b = [code for code, vs in states.items() if any(v.visit.kind == "infusion" and v.open_for_work
                                                             for v in vs) and code in _arm_b(rows)]
        assert len(session.exec(select(Allocation)).all()) == min(2, len(open_b))


def _arm_b(rows: list[Subject]) -> set[str]:
    return {s.subject_code for s in rows if s.arm == "B"}


def test_a_mistyped_bag_at_allocation_keeps_the_form_and_says_there_is_no_such_bag(app, client, auth, api):
    subject = randomized(api)
    auth.login("coordinator")
    url = f"/trial/visits/{_visit_id(api, subject, 0, 'infusion')}/allocation"
    refused = auth.post(url, {"scan": "A999926999999-D0001VA0", "weight_kg": "70"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 404
    assert "no bag A999926999999-D0001VA0" in page and 'data-reason="not_found"' in page
    assert f'action="{url}" class="allocate"' in page and 'value="A999926999999-D0001VA0"' in page
    assert 'value="70"' in page


def test_extending_the_list_without_a_reason_stays_on_the_balance_page_with_what_was_typed(client, auth, api):
    randomized(api)
    auth.login("coordinator")
    refused = auth.post("/trial/balance/extend", {"extra": "8", "reason": ""})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Arm balance" in page and 'data-testid="balance"' in page
    assert 'name="extra" inputmode="numeric" required value="8"' in page and "<strong>reason</strong>" in page
