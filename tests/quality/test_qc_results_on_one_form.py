"""QC enters every open test of a lot on one form: one submit, one transaction, every result audited."""

from __future__ import annotations

from sqlmodel import func, select

from cellchain.audit.models import AuditEntry
from cellchain.quality.models import Deviation, QcResult
from tests.factories.qc import PASSING, add_results, db_session, make_lot

SAMPLED = "2026-11-20T07:00"


def _rows(values: dict[str, object]) -> dict[str, str]:
    form = {}
    for code, value in values.items():
        form.update({f"{code}.value": str(value), f"{code}.sample_stage": "final_product",
                     f"{code}.sampled_at": SAMPLED})
    return form


def _counts(app, lot_id: int) -> tuple[int, int]:
    with db_session(app) as session:
        results = session.exec(select(func.count()).select_from(QcResult).where(QcResult.lot_id == lot_id)).one()
        audited = session.exec(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.record_type == "qc_result")).one()
        return results, audited


def test_qc_enters_every_open_test_of_a_lot_on_one_form(app, client, auth):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("viability", "endotoxin", "sterility", "cd73"))
        lot_id, number = lot.id, lot.lot_number
    auth.login("qc")
    page = client.get(f"/qc/lots/{number}/batch")
    assert page.status_code == 200
    rows = page.get_data(as_text=True)
    # only the tests without a result, each with its unit and method shown
    assert 'data-row="viability"' in rows and 'data-row="endotoxin"' in rows and 'data-row="cd90"' not in rows
    assert "EU/kg" in rows
    done = auth.post(f"/qc/lots/{number}/batch", {**_rows({"viability": 91, "endotoxin": 6.5, "cd73": 98}),
                                                   "sterility.value": ""}, follow_redirects=True)
    assert done.status_code == 200 and b"3 results recorded" in done.data
    assert b"OUT OF SPECIFICATION: endotoxin" in done.data
    assert _counts(app, lot_id) == (13, 3)
    with db_session(app) as session:
        assert session.exec(select(Deviation).where(Deviation.lot_id == lot_id)).first() is not None
    again = client.get(f"/qc/lots/{number}/batch").get_data(as_text=True)
    assert 'data-row="sterility"' in again and 'data-row="viability"' not in again


def test_a_bad_value_refuses_the_whole_form_naming_its_row_and_keeps_what_was_typed(app, client, auth):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("viability", "endotoxin", "sterility"))
        lot_id, number = lot.id, lot.lot_number
    auth.login("qc")
    refused = auth.post(f"/qc/lots/{number}/batch",
                        {**_rows({"viability": 91, "endotoxin": "95%", "sterility": "cloudy"})})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "<strong>endotoxin.value</strong>" in text and "<strong>sterility.value</strong>" in text
    assert "<strong>viability.value</strong>" not in text
    assert 'name="viability.value" value="91"' in text and 'name="endotoxin.value" value="95%"' in text
    assert _counts(app, lot_id) == (11, 0)  # nothing written, not even the good row


def test_a_test_with_a_result_is_not_taken_again_by_the_whole_lot_form(app, client, auth):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("viability",))
        lot_id, number = lot.id, lot.lot_number
    auth.login("qc")
    refused = auth.post(f"/qc/lots/{number}/batch", _rows({"viability": 91, "cd90": 99}))
    assert refused.status_code == 400 and b"<strong>cd90.test</strong>" in refused.data
    assert _counts(app, lot_id) == (len(PASSING) - 1, 0)


def test_an_empty_whole_lot_form_records_nothing_and_says_so(app, client, auth):
    with db_session(app) as session:
        number = make_lot(session).lot_number
    auth.login("qc")
    refused = auth.post(f"/qc/lots/{number}/batch", {})
    assert refused.status_code == 400 and b"enter at least one result" in refused.data


def test_lab_and_qa_cannot_use_the_whole_lot_form(app, client, auth):
    with db_session(app) as session:
        number = make_lot(session).lot_number
    for who in ("lab", "qa"):
        auth.login(who)
        assert client.get(f"/qc/lots/{number}/batch").status_code == 403
        assert auth.post(f"/qc/lots/{number}/batch", _rows({"viability": 91})).status_code == 403
        auth.logout()


def test_the_api_records_several_results_at_once_or_none(app, api):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("viability", "endotoxin"))
        lot_id, number = lot.id, lot.lot_number
    sampled = {"sample_stage": "final_product", "sampled_at": "2026-11-20T07:00:00+08:00"}
    url = f"/api/v1/lots/{number}/qc-results/batch"
    bad = api.post(url, as_="qc", json={"results": [{"test": "viability", "value": 91, **sampled},
                                                    {"test": "endotoxin", "value": "lots", **sampled}]})
    assert bad.status_code == 400 and "endotoxin.value" in bad.get_json()["fields"]
    twice = api.post(url, as_="qc", json={"results": [{"test": "viability", "value": 91, **sampled},
                                                      {"test": "Viability", "value": 92, **sampled}]})
    assert twice.status_code == 400 and "results[1]" in twice.get_json()["fields"]
    assert _counts(app, lot_id) == (12, 0)
    done = api.post(url, as_="qc", json={"results": [{"test": "viability", "value": 91, **sampled},
                                                     {"test": "endotoxin", "value": 7, **sampled}]})
    assert done.status_code == 201
    body = done.get_json()
    assert [(r["test"], r["within_spec"]) for r in body["results"]] == [("viability", True), ("endotoxin", False)]
    assert body["results"][1]["deviation"]
    assert _counts(app, lot_id) == (14, 2)
