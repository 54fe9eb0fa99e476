"""The quality API answers what its document says, and refuses a field it does not know by name."""

from __future__ import annotations

import pytest

from tests.conftest import signature
from tests.factories import api_document
from tests.factories.qc import SAMPLED, add_results, db_session, make_lot


@pytest.fixture
def document(client):
    return api_document.load(client)


@pytest.fixture
def ready_lot(app) -> str:
    """A lot awaiting release whose results are complete but for endotoxin."""
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot, skip=("endotoxin",))
        return lot.lot_number


def test_qc_results_and_release_check_answer_as_documented(api, document, ready_lot):
    recorded = api.post(f"/api/v1/lots/{ready_lot}/qc-results", as_="qc", json={**SAMPLED,
                                                                                "test": "endotoxin", "value": 6.1})
    api_document.assert_documented(document, "POST", "/lots/{lot_id}/qc-results", recorded)
    assert recorded.get_json()["deviation"].startswith("DEV-") and recorded.get_json()["lot_id"] == ready_lot
    listing = api.get(f"/api/v1/lots/{ready_lot}/qc-results", as_="qa")
    api_document.assert_documented(document, "GET", "/lots/{lot_id}/qc-results", listing)
    endotoxin = [r for r in listing.get_json()["results"] if r["test"] == "endotoxin"]
    assert [(r["deviation"], r["counts"]) for r in endotoxin] == [(recorded.get_json()["deviation"], True)]
    check = api.get(f"/api/v1/lots/{ready_lot}/release-check", as_="qa")
    api_document.assert_documented(document, "GET", "/lots/{lot_id}/release-check", check)
    assert check.get_json()["ready"] is False


def test_a_deviation_answers_as_documented_through_every_move(api, document, ready_lot):
    opened = api.post("/api/v1/deviations", as_="qa", json={"kind": "procedural", "lot_id": ready_lot,
                                                            "description": "label printed twice"})
    api_document.assert_documented(document, "POST", "/deviations", opened)
    number = opened.get_json()["number"]
    assert opened.get_json()["lot_id"] == ready_lot
    moves = [("investigate", {"root_cause": "printer jam", "impact": "none"}),
             ("decide", {"decision": "accept", "justification": "second label destroyed"}),
             ("close", {"signature": signature("qa", "closed")})]
    for move, body in moves:
        answer = api.post(f"/api/v1/deviations/{number}/{move}", as_="qa", json=body)
        api_document.assert_documented(document, "POST", f"/deviations/{{number}}/{move}", answer)
    closed = api.get(f"/api/v1/deviations/{number}", as_="auditor")
    api_document.assert_documented(document, "GET", "/deviations/{number}", closed)
    assert closed.get_json()["status"] == "closed" and closed.get_json()["closed_at"].endswith("Z")
    listing = api.get("/api/v1/deviations", as_="qc")
    api_document.assert_documented(document, "GET", "/deviations", listing)


def test_a_deviation_about_no_lot_lists_with_a_null_lot(api, document):
    api.post("/api/v1/deviations", as_="qa", json={"kind": "procedural", "description": "SOP not at bench"})
    listing = api.get("/api/v1/deviations", as_="qa")
    api_document.assert_documented(document, "GET", "/deviations", listing)
    assert [d["lot_id"] for d in listing.get_json()["deviations"]] == [None]


def test_release_and_its_certificate_answer_as_documented(app, api, document):
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        lot_id = lot.lot_number
    released = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    api_document.assert_documented(document, "POST", "/lots/{lot_id}/release", released)
    assert released.get_json()["signature"]["meaning"] == "released"
    pdf = api.get(released.get_json()["certificate"], as_="auditor")
    api_document.assert_documented(document, "GET", "/lots/{lot_id}/release-certificate.pdf", pdf)
    assert pdf.mimetype == "application/pdf"


def test_a_rejection_answers_as_documented(app, api, document):
    with db_session(app) as session:
        lot_id = make_lot(session, status="in_process").lot_number
    rejected = api.post(f"/api/v1/lots/{lot_id}/reject", as_="qa", json={"signature": signature("qa", "rejected"),
                                                                         "reason": "contamination suspected"})
    api_document.assert_documented(document, "POST", "/lots/{lot_id}/reject", rejected)
    assert rejected.get_json()["status"] == "rejected"


def test_the_specification_answers_as_documented_before_and_after_a_new_version(api, document):
    built_in = api.get("/api/v1/specifications/current", as_="qc")
    api_document.assert_documented(document, "GET", "/specifications/current", built_in)
    assert built_in.get_json()["effective_at"] is None  # not stored until the first lot needs it
    assert built_in.get_json()["version"] == "UCMSC-2" and built_in.get_json()["product"] == "ucmsc"
    definition = {"version": "UCMSC-3", "tests": built_in.get_json()["tests"]}
    published = api.post("/api/v1/specifications", as_="qa", json=definition)
    api_document.assert_documented(document, "POST", "/specifications", published)
    current = api.get("/api/v1/specifications/current", as_="qc")
    api_document.assert_documented(document, "GET", "/specifications/current", current)
    assert current.get_json()["version"] == "UCMSC-3" and current.get_json()["effective_at"].endswith("Z")
    bank = api.get("/api/v1/specifications/current?product=ucmsc_bank", as_="qc")
    api_document.assert_documented(document, "GET", "/specifications/current", bank)
    assert bank.get_json()["version"] == "UCMSC-BANK-1"
    assert all(t["release"] == "gates" for t in bank.get_json()["tests"])


@pytest.mark.parametrize(("url", "role", "body", "named"), [
    ("/api/v1/lots/{lot}/qc-results", "qc", {**SAMPLED, "test": "viability", "value": 90, "vaule": 91}, {"vaule"}),
    ("/api/v1/lots/{lot}/qc-results", "qc", {**SAMPLED, "test": ["viability"], "value": {"n": 90}}, {"test", "value"}),
    ("/api/v1/lots/{lot}/qc-results", "qc", {"test": "viability", "value": 90}, {"sample_stage", "sampled_at"}),
    ("/api/v1/deviations", "qa", {"kind": "procedural", "description": "x", "lot": "{lot}"}, {"lot"}),
    ("/api/v1/deviations", "qa", {"kind": 3, "description": 4}, {"kind", "description"}),
    ("/api/v1/lots/{lot}/release", "qa", {"signature": signature("qa", "released"), "note": "ok"}, {"note"}),
    ("/api/v1/lots/{lot}/release", "qa", {"signature": "qa"}, {"signature"}),
    ("/api/v1/specifications", "qa", {"version": "X", "tests": [], "definition": {}}, {"definition"}),
])
def test_an_unknown_or_mistyped_field_is_a_400_naming_it(api, ready_lot, url, role, body, named):
    body = {k: v.format(lot=ready_lot) if isinstance(v, str) else v for k, v in body.items()}
    response = api.post(url.format(lot=ready_lot), as_=role, json=body)
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == named


def test_a_body_that_is_not_an_object_is_a_400_naming_the_body(client, api, ready_lot):
    for text in ('[{"test": "viability"}]', '"viability"', "90", "null", ""):
        response = client.post(f"/api/v1/lots/{ready_lot}/qc-results", data=text, content_type="application/json",
                               headers=api.headers("qc"))
        assert response.status_code == 400 and set(response.get_json()["fields"]) == {"body"}


@pytest.mark.parametrize("depth", [17, 100_000])
def test_a_deeply_nested_body_is_a_400_naming_the_nesting_and_writes_nothing(client, api, ready_lot, depth):
    def results() -> list:
        return api.get(f"/api/v1/lots/{ready_lot}/qc-results", as_="qc").get_json()["results"]

    before = results()
    value = "[" * depth + "]" * depth
    text = f'{{"sample_stage": "final_product", "sampled_at": "2026-11-20T07:00:00+08:00", "test": "viability", ' \
           f'"value": {value}}}'
    response = client.post(f"/api/v1/lots/{ready_lot}/qc-results", data=text, content_type="application/json",
                           headers=api.headers("qc"))
    assert response.status_code == 400
    assert "nested deeper than 16 levels" in response.get_json()["fields"]["body"]
    assert results() == before


def test_a_deviation_naming_its_lot_or_test_by_anything_but_text_is_a_400_naming_it(api):
    for body, named in (({"kind": "excursion", "description": "x", "lot_id": {"": {"": False}}}, "lot_id"),
                        ({"kind": "excursion", "description": "x", "test": [1]}, "test")):
        response = api.post("/api/v1/deviations", as_="qa", json=body)
        assert response.status_code == 400 and named in response.get_json()["fields"], response.get_json()
