"""The clinical protocol deviation pages: a visit marked missed on the subject's calendar, the register with its
filters, a deviation's page where the investigator signs the decision and it is closed, opening one by hand,
and the dashboards listing those not closed."""

from __future__ import annotations

from sqlmodel import select

from cellchain.core import db
from cellchain.safety.models import ClinicalDeviation
from tests.conftest import PASSWORD
from tests.factories.queries import counting
from tests.safety.test_clinical_deviations import scene_with_visit
from tests.ward.test_query_counts import assert_same_count


def only_deviation(app) -> ClinicalDeviation:
    with app.app_context():
        return db.session().exec(select(ClinicalDeviation)).one()


def test_the_coordinator_marks_a_visit_missed_on_the_subject_page_and_sees_its_deviation(app, auth):
    scene = scene_with_visit(app)
    code = scene.subject.subject_code
    auth.login("coordinator")
    page = auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    assert f'action="/trial/visits/{scene.visit.id}/missed"' in page
    refused = auth.post(f"/trial/visits/{scene.visit.id}/missed", data={"reason": ""})
    assert refused.status_code == 400 and "say why the visit is missed" in refused.get_data(as_text=True)
    marked = auth.post(f"/trial/visits/{scene.visit.id}/missed", data={"reason": "subject declined the visit"})
    assert marked.status_code == 303
    row = only_deviation(app)
    page = auth._client.get(f"/trial/subjects/{code}").get_data(as_text=True)
    assert f'data-deviation="{row.id}"' in page and "missed visit" in page and "subject declined the visit" in page
    assert f'action="/trial/visits/{scene.visit.id}/missed"' not in page  # marked once
    home = auth._client.get("/").get_data(as_text=True)
    assert 'data-testid="panel-clinical-deviations"' in home and f"CD-{row.id}" in home


def test_the_investigator_approves_on_the_deviation_page_and_the_coordinator_closes_it(app, auth):
    scene = scene_with_visit(app, days_from_today=-10)
    code = scene.subject.subject_code
    auth.login("coordinator")
    form = auth._client.get(f"/safety/subjects/{code}/deviations/new").get_data(as_text=True)
    assert f'value="{scene.visit.id}"' in form
    missing = auth.post(f"/safety/subjects/{code}/deviations", data={"kind": "out_of_window", "description": "late"})
    assert missing.status_code == 400 and "late" in missing.get_data(as_text=True)  # shown again with what was typed
    opened = auth.post(f"/safety/subjects/{code}/deviations", data={
        "kind": "out_of_window", "visit_id": str(scene.visit.id), "description": "infusion after discharge"})
    assert opened.status_code == 303
    row = only_deviation(app)
    page = auth._client.get(f"/safety/deviations/{row.id}").get_data(as_text=True)
    assert 'data-testid="approve-deviation"' not in page  # the coordinator does not decide
    auth.logout()

    auth.login("investigator")
    page = auth._client.get(f"/safety/deviations/{row.id}").get_data(as_text=True)
    assert 'data-testid="approve-deviation"' in page and 'data-testid="reject-deviation"' in page
    wrong = auth.post(f"/safety/deviations/{row.id}/decision", data={
        "signature_username": "investigator", "signature_password": "wrong", "signature_meaning": "approved"})
    assert wrong.status_code == 401
    signed = auth.post(f"/safety/deviations/{row.id}/decision", data={
        "signature_username": "investigator", "signature_password": PASSWORD, "signature_meaning": "approved"})
    assert signed.status_code == 303
    page = auth._client.get(f"/safety/deviations/{row.id}").get_data(as_text=True)
    assert 'data-testid="deviation-allowance"' in page and "one infusion outside its window" in page
    closed = auth.post(f"/safety/deviations/{row.id}/close", data={"note": "infused after discharge"})
    assert closed.status_code == 303 and only_deviation(app).status == "closed"


def test_the_register_page_filters_by_kind_and_status(app, auth, api):
    scene = scene_with_visit(app)
    for kind in ("other", "wrong_product"):
        api.post("/api/v1/clinical-deviations", as_="coordinator", json={
            "subject_id": scene.subject.subject_code, "kind": kind, "description": f"a {kind} deviation"})
    auth.login("auditor")
    page = auth._client.get("/safety/deviations").get_data(as_text=True)
    assert "a other deviation" in page and "a wrong_product deviation" in page
    assert "wrong product or subject" in page  # the kind in words
    page = auth._client.get("/safety/deviations?kind=other&status=open").get_data(as_text=True)
    assert "a other deviation" in page and "a wrong_product deviation" not in page
    assert auth._client.get("/safety/deviations?status=closed").get_data(as_text=True).count("data-deviation=") == 0
    assert auth._client.get("/safety/deviations?kind=nonsense").status_code == 400


def test_the_coordinator_dashboard_lists_a_visit_whose_window_closed_until_it_is_marked_missed(app, auth, api):
    scene = scene_with_visit(app, days_from_today=-10)
    auth.login("coordinator")
    home = auth._client.get("/").get_data(as_text=True)
    assert 'data-testid="visits-window-closed"' in home and f'data-visit="{scene.visit.id}"' in home
    api.post(f"/api/v1/visits/{scene.visit.id}/missed", as_="coordinator", json={"reason": "lost to follow-up"})
    home = auth._client.get("/").get_data(as_text=True)
    assert 'data-testid="visits-window-closed"' not in home
    assert 'data-testid="panel-clinical-deviations"' in home


def test_the_register_page_reads_as_many_statements_for_30_deviations_as_for_2(app, auth, api):
    scene = scene_with_visit(app)

    def add(n: int) -> None:
        for i in range(n):
            api.post("/api/v1/clinical-deviations", as_="coordinator", json={
                "subject_id": scene.subject.subject_code, "kind": "other", "description": f"note {i}"})

    def statements() -> list[str]:
        auth._client.get("/safety/deviations")
        with counting(app) as seen:
            assert auth._client.get("/safety/deviations").status_code == 200
        return seen

    auth.login("qa")
    add(2)
    small = statements()
    add(28)
    large = statements()
    assert_same_count(small, large)
