"""QC entry and QA review through the pages: the whole journey from results to a signed release."""

from __future__ import annotations

import re

from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Bag, Lot
from tests.conftest import PASSWORD
from tests.factories.qc import PASSING, SAMPLED_FORM, TESTED_FORM, add_results, db_session, give_role, make_lot


def _lot_row(app, lot_id: str) -> tuple[str, list[str]]:
    with app.app_context():
        session = db.session()
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_id)).one()
        return lot.status, [b.quality_status for b in session.exec(select(Bag).where(Bag.lot_id == lot.id))]


def _sign(username: str, meaning: str, password: str = PASSWORD) -> dict[str, str]:
    return {"signature_username": username, "signature_password": password, "signature_meaning": meaning}


def _enter_results(client, auth, lot_id: str) -> str:
    """QC enters every result through the form; endotoxin fails once and passes on a repeat. -> deviation number"""
    auth.login("qc")
    work = client.get("/qc/")
    assert work.status_code == 200 and lot_id.encode() in work.data and b"viability" in work.data
    url = f"/qc/lots/{lot_id}/results"
    for code, value in PASSING.items():
        if code != "endotoxin":
            assert auth.post(url, {**SAMPLED_FORM, "test": code, "value": str(value)}).status_code == 303, code
    failed = auth.post(url, {**SAMPLED_FORM, "test": "endotoxin", "value": "6.2", "tested_at": TESTED_FORM},
                       follow_redirects=True)
    assert b"OUT OF SPECIFICATION" in failed.data
    number = re.search(rb"DEV-\d{4}-\d{4}", failed.data).group().decode()
    first_id = re.search(rb"result #(\d+)", failed.data[failed.data.index(b'data-test="endotoxin"'):]).group(1).decode()
    twice = auth.post(url, {**SAMPLED_FORM, "test": "endotoxin", "value": "0.5"})
    assert twice.status_code == 409 and b"qc_result_exists" in twice.data
    no_reason = auth.post(url, {**SAMPLED_FORM, "test": "endotoxin", "value": "0.5", "repeat_of": first_id})
    assert no_reason.status_code == 400 and b"a repeat test needs the reason" in no_reason.data
    repeat = auth.post(url, {**SAMPLED_FORM,
                             "test": "endotoxin", "value": "0.5", "repeat_of": first_id, "reason": "clot in well 3"},
                       follow_redirects=True)
    assert b"within specification" in repeat.data and b"clot in well 3" in repeat.data
    auth.logout()
    return number


def _close_deviation(client, auth, number: str) -> None:
    base = f"/qa/deviations/{number}"
    assert auth.post(f"{base}/decide", {"decision": "accept", "justification": "x"}).status_code == 409
    assert auth.post(f"{base}/investigate", {"root_cause": "clotted well", "impact": "none"}).status_code == 303
    assert auth.post(f"{base}/decide", {"decision": "accept", "justification": "valid repeat"}).status_code == 303
    wrong = auth.post(f"{base}/close", _sign("qa", "closed", "wrong-password"))
    assert wrong.status_code == 401 and b"username or password is wrong" in wrong.data
    closed = auth.post(f"{base}/close", _sign("qa", "closed"), follow_redirects=True)
    assert b'data-testid="deviation-status">closed' in closed.data


def test_a_lot_goes_from_qc_results_to_a_signed_release_through_the_pages(app, client, auth):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    number = _enter_results(client, auth, lot_id)
    auth.login("qa")
    queue = client.get("/qa/")
    assert lot_id.encode() in queue.data and number.encode() in queue.data
    review = client.get(f"/qa/lots/{lot_id}")
    assert review.status_code == 200
    for part in (b"deviation_open", b"Batch record", b"tissue_processing", b"passage:1", b"Huang Tao",
                 b"Chain of custody", b"filled", b"D0001VA0", b'data-testid="qc-table"', b"Sign and release"):
        assert part in review.data, part
    refused = auth.post(f"/qa/lots/{lot_id}/release", _sign("qa", "released"))
    assert refused.status_code == 409 and b"deviation_open" in refused.data
    _close_deviation(client, auth, number)
    wrong = auth.post(f"/qa/lots/{lot_id}/release", _sign("qa", "released", "wrong-password"))
    assert wrong.status_code == 401 and b"username or password is wrong" in wrong.data
    assert _lot_row(app, lot_id) == ("awaiting_release", ["quarantine", "quarantine"])
    done = auth.post(f"/qa/lots/{lot_id}/release", _sign("qa", "released"), follow_redirects=True)
    assert done.status_code == 200 and b"released; its bags are out of quarantine" in done.data
    assert b"Signed by <strong>Wang Fang (QA reviewer)</strong>" in done.data
    assert _lot_row(app, lot_id) == ("released", ["released", "released"])
    link = re.search(rb'href="([^"]+release-certificate\.pdf)"', done.data).group(1).decode()
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    auth.logout()
    auth.login("qc")
    after = client.get(f"/qc/lots/{lot_id}")
    # a released lot still takes the results read after release, each marked as such
    assert b"is released: results recorded now are marked" in after.data and b"Record result" in after.data


def test_qa_rejects_a_lot_from_the_review_page(app, client, auth):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    auth.login("qa")
    no_reason = auth.post(f"/qa/lots/{lot_id}/reject", {"reason": "", **_sign("qa", "rejected")})
    assert no_reason.status_code == 400 and b"say why the lot is rejected" in no_reason.data
    done = auth.post(f"/qa/lots/{lot_id}/reject", {"reason": "viability collapsed at P1", **_sign("qa", "rejected")},
                     follow_redirects=True)
    assert b"Decision: rejected" in done.data and b"viability collapsed at P1" in done.data
    assert _lot_row(app, lot_id) == ("rejected", ["rejected", "rejected"])


def test_review_page_names_the_reviewers_own_part_in_the_lot(app, client, auth):
    with db_session(app) as session:
        give_role(session, "qa", "lab")
        lot = make_lot(session, verifier="qa")
        add_results(session, lot)
        lot_id = lot.lot_number
    auth.login("qa")
    review = client.get(f"/qa/lots/{lot_id}")
    assert b"reviewer_made_lot" in review.data and b"Not releasable" in review.data
    refused = auth.post(f"/qa/lots/{lot_id}/release", _sign("qa", "released"))
    assert refused.status_code == 409 and b"reviewer_made_lot" in refused.data
    assert _lot_row(app, lot_id)[0] == "awaiting_release"


def test_ready_lot_shows_as_ready_and_auditor_reads_without_forms(app, client, auth):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        lot_id = lot.lot_number
    auth.login("qa")
    ready = client.get(f"/qa/lots/{lot_id}").data
    assert b"Every release condition holds" in ready and b"step changed since signed" not in ready
    assert b"Ready for your release" in client.get("/qa/").data
    auth.logout()
    auth.login("auditor")
    page = client.get(f"/qa/lots/{lot_id}")
    assert page.status_code == 200 and b"Sign and release" not in page.data
    assert client.get(f"/qc/lots/{lot_id}").status_code == 200
    assert auth.post(f"/qa/lots/{lot_id}/release", _sign("auditor", "released")).status_code == 403


def test_lab_and_nurse_cannot_open_the_qa_and_qc_pages(app, client, auth):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    auth.login("lab")
    assert client.get("/qa/").status_code == 403
    assert client.get(f"/qa/lots/{lot_id}").status_code == 403
    assert client.get("/qc/").status_code == 403
    assert auth.post(f"/qc/lots/{lot_id}/results", {**SAMPLED_FORM,
                                                    "test": "viability", "value": "90"}).status_code == 403


def test_qa_opens_a_deviation_from_the_review_page_and_filters_the_list(app, client, auth):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    auth.login("qa")
    opened = auth.post("/qa/deviations", {"lot_id": lot_id, "kind": "procedural", "description": "gowning lapse"},
                       follow_redirects=True)
    assert b"gowning lapse" in opened.data and b"Record investigation" in opened.data
    assert b"gowning lapse" in client.get("/qa/deviations?status=open").data
    assert b"gowning lapse" not in client.get("/qa/deviations?status=closed").data


def test_a_wrong_signature_password_keeps_the_reject_form_and_says_the_password_does_not_match(app, client, auth):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    auth.login("qa")
    wrong = auth.post(f"/qa/lots/{lot_id}/reject",
                      {"reason": "viability collapsed at P1", **_sign("qa", "rejected", "wrong-password")})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 401 and "password does not match" in page
    assert 'data-testid="reject-form"' in page and ">viability collapsed at P1</textarea>" in page
    assert 'name="signature_username" autocomplete="username" value="qa"' in page
    assert "wrong-password" not in page
    assert _lot_row(app, lot_id)[0] == "in_process"
