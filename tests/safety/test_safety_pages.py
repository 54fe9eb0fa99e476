"""The safety pages: an event recorded and confirmed through the forms, refusals shown on the page, the listing
and the summary by arm as a page, CSV and PDF."""

from __future__ import annotations

import csv
import io

import pymupdf
from sqlmodel import select

from cellchain.core import db
from cellchain.safety.models import AdverseEvent
from tests.conftest import PASSWORD, signature
from tests.factories import safety
from tests.factories.safety import EVENTS, acute_rejection, complete_assessment, record

FORM = {"term": "acute cellular rejection", "category": "acute_rejection", "grade": "3",
        "seriousness": ["hospitalisation"], "causality": "unlikely", "expectedness": "expected",
        "action_taken": "not_changed", "outcome": "recovering", "biopsy_proven": "yes",
        "rejection_treatment": "methylprednisolone"}


def test_the_investigator_records_and_confirms_an_event_on_the_pages(app, auth):
    code = safety.subject_code(app)
    auth.login("investigator")
    form = auth._client.get(f"/safety/subjects/{code}/new")
    assert form.status_code == 200 and 'name="seriousness"' in form.get_data(as_text=True)
    onset = safety.today().isoformat()
    made = auth.post(f"/safety/subjects/{code}/events", data={**FORM, "onset_on": onset})
    assert made.status_code == 303, made.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session().exec(select(AdverseEvent)).one()
        assert (event.grade, event.serious, event.biopsy_proven, event.seriousness) == (3, True, True,
                                                                                        ["hospitalisation"])
    page = auth._client.get(f"/safety/events/{event.id}").get_data(as_text=True)
    assert "SERIOUS" in page and 'data-testid="sae-clock"' in page and 'data-testid="confirm-event"' in page
    signed = auth.post(f"/safety/events/{event.id}/confirm", data={
        "signature_username": "investigator", "signature_password": PASSWORD, "signature_meaning": "approved"})
    assert signed.status_code == 303
    reported = auth.post(f"/safety/events/{event.id}/report", data={
        "sent_to": "sponsor safety desk", "signature_username": "investigator", "signature_password": PASSWORD,
        "signature_meaning": "authored"})
    assert reported.status_code == 303
    page = auth._client.get(f"/safety/events/{event.id}").get_data(as_text=True)
    assert "confirmed" in page and "sent in time" in page and 'data-testid="sae-reports"' in page


def test_a_refused_form_shows_the_reasons_and_keeps_what_was_typed(app, auth):
    code = safety.subject_code(app)
    auth.login("coordinator")
    refused = auth.post(f"/safety/subjects/{code}/events", data={**FORM, "grade": "5", "onset_on": "2026-13-01"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "onset_on" in text and "acute cellular rejection" in text
    refused = auth.post(f"/safety/subjects/{code}/events", data={**FORM, "grade": "5",
                                                                 "onset_on": safety.today().isoformat()})
    assert refused.status_code == 409 and "fatal_event_inconsistent" in refused.get_data(as_text=True)


def test_the_listing_and_summary_by_arm_as_page_csv_and_pdf_count_confirmed_events_per_arm(app, api, auth):
    ucmsc, placebo = safety.subject_code(app, arm="A"), safety.subject_code(app, arm="B")
    confirmed = record(api, ucmsc, acute_rejection()).get_json()["id"]
    assert api.post(f"{EVENTS}/{confirmed}/confirm", as_="investigator",
                    json={"signature": signature("investigator", "approved")}).status_code == 200
    mild = record(api, placebo, complete_assessment(causality="probable")).get_json()["id"]
    assert api.post(f"{EVENTS}/{mild}/confirm", as_="investigator",
                    json={"signature": signature("investigator", "approved")}).status_code == 200
    record(api, placebo, {"term": "nausea", "category": "other"}, as_="coordinator")  # a draft: listed, not counted
    arms = {a["arm"]: a for a in api.get(f"{EVENTS}/summary", as_="auditor").get_json()["arms"]}
    assert (arms["A"]["events"], arms["A"]["by_grade"]["3"], arms["A"]["serious"], arms["A"]["related"],
            arms["A"]["special_interest"]) == (1, 1, 1, 0, 1)
    assert (arms["B"]["events"], arms["B"]["by_grade"]["1"], arms["B"]["serious"], arms["B"]["related"]) == (1, 1, 0, 1)
    auth.login("qa")
    page = auth._client.get("/safety/").get_data(as_text=True)
    assert 'data-testid="summary-by-arm"' in page and "nausea" in page and "UC-MSC" in page
    rows = list(csv.DictReader(io.StringIO(auth._client.get("/safety/listing.csv").get_data(as_text=True))))
    assert sorted((r["subject_id"], r["arm"], r["status"]) for r in rows) == sorted(
        [(ucmsc, "A", "confirmed"), (placebo, "B", "confirmed"), (placebo, "B", "draft")])
    pdf = auth._client.get("/safety/listing.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_listing_pdf_prints_a_term_typed_as_markup_literally(app, api, auth):
    code = safety.subject_code(app)
    assert record(api, code, {"term": "<b>rash</b> & itch", "category": "other"}).status_code == 201
    auth.login("auditor")
    pdf = auth._client.get("/safety/listing.pdf")
    with pymupdf.open(stream=pdf.data, filetype="pdf") as document:
        text = "".join(page.get_text() for page in document)
    assert "<b>rash</b>&itch" in text.replace(" ", "").replace("\n", "")


def test_qa_and_the_auditor_read_but_do_not_record(app, api, auth):
    code = safety.subject_code(app)
    assert record(api, code, complete_assessment(), as_="qa").status_code == 403
    assert record(api, code, complete_assessment(), as_="auditor").status_code == 403
    auth.login("auditor")
    assert auth._client.get(f"/safety/subjects/{code}/new").status_code == 403
    assert auth._client.get("/safety/").status_code == 200


def test_the_amend_form_keeps_what_it_does_not_change_and_a_confirmed_event_needs_a_reason(app, api, auth):
    _, infusion_id, _ = safety.infused(app, api, reactions=[{"description": "flushing", "severity": "mild"}])
    with app.app_context():
        draft = db.session().exec(select(AdverseEvent)).one()
    auth.login("investigator")
    page = auth._client.get(f"/safety/events/{draft.id}").get_data(as_text=True)
    assert 'data-testid="amend-event"' in page and f'<option value="{infusion_id}" selected>' in page
    form = {**FORM, "term": "flushing", "category": "infusion_reaction", "grade": "1", "seriousness": [],
            "causality": "probable", "outcome": "recovered", "onset_on": safety.today().isoformat(),
            "resolved_on": safety.today().isoformat(), "biopsy_proven": "", "rejection_treatment": "",
            "infusion_id": str(infusion_id)}
    assert auth.post(f"/safety/events/{draft.id}/amend", data=form).status_code == 303
    with app.app_context():
        event = db.session().get(AdverseEvent, draft.id)
        assert (event.infusion_id, event.aware_at, event.grade, event.serious, event.version) == (
            infusion_id, draft.aware_at, 1, False, 2)
    assert auth.post(f"/safety/events/{draft.id}/confirm", data={
        "signature_username": "investigator", "signature_password": PASSWORD,
        "signature_meaning": "approved"}).status_code == 303
    refused = auth.post(f"/safety/events/{draft.id}/amend", data={**form, "grade": "2"})
    assert refused.status_code == 400 and "reason" in refused.get_data(as_text=True)
    assert auth.post(f"/safety/events/{draft.id}/amend", data={**form, "grade": "2", "reason": "worse on review"}
                     ).status_code == 303
