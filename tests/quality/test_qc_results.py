"""QC results through the API: judged by the software, repeats never overwrite, OOS opens a deviation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.core.errors import Invalid, Refused
from cellchain.people import accounts
from cellchain.quality import qc, specifications
from cellchain.quality.models import Deviation, QcResult, Specification
from cellchain.quality.rules.spec_limits import DOSE_SPEC, spec_to_dict
from tests.factories.qc import SAMPLED, TESTED, TESTED_AT, add_results, db_session, make_lot

URL = "/api/v1/lots/{}/qc-results"


@pytest.fixture
def lot_id(app) -> str:
    with db_session(app) as session:
        return make_lot(session, status="in_process").lot_number


def _rows(app, model, *where):
    with app.app_context():
        return list(db.session().exec(select(model).where(*where)))


def test_result_within_its_limit_is_judged_within_spec(api, lot_id):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "viability", "value": 92.5,
                                                             "tested_at": TESTED})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["within_spec"] is True and body["limit"] == ">= 70 %" and body["value"] == "92.5"
    assert body["tested_at"] == TESTED_AT.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert body["deviation"] is None


def test_out_of_spec_result_opens_a_numbered_audited_deviation(app, api, lot_id):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "cd73", "value": "91"})
    body = response.get_json()
    assert response.status_code == 201 and body["within_spec"] is False
    assert body["deviation"].startswith("DEV-") and len(body["deviation"]) == len("DEV-2026-0001")
    (deviation,) = _rows(app, Deviation)
    assert (deviation.kind, deviation.status, deviation.test_code, deviation.qc_result_id) == \
        ("oos", "open", "cd73", body["id"])
    actions = {(e.record_type, e.action) for e in _rows(app, AuditEntry)}
    assert {("qc_result", "create"), ("deviation", "open_automatic")} <= actions


def test_deviation_numbers_are_unique_and_sequential(api, lot_id):
    numbers = [api.post(URL.format(lot_id), as_="qc", json={**SAMPLED,
                                                            "test": test, "value": "positive"}).get_json()["deviation"]
               for test in ("sterility", "mycoplasma")]
    assert numbers[0] != numbers[1]
    assert int(numbers[1][-4:]) == int(numbers[0][-4:]) + 1


def test_second_result_without_repeat_is_refused_and_nothing_is_written(app, api, lot_id):
    first = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "endotoxin", "value": 1.2}).get_json()
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "endotoxin", "value": 0.4})
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["qc_result_exists"]
    assert [r.id for r in _rows(app, QcResult)] == [first["id"]]


def test_repeat_needs_a_reason(api, lot_id):
    first = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "endotoxin", "value": 7}).get_json()
    response = api.post(URL.format(lot_id), as_="qc",
                        json={**SAMPLED, "test": "endotoxin", "value": 0.4, "repeat_of": first["id"]})
    assert response.status_code == 400 and "reason" in response.get_json()["fields"]


def test_repeat_is_a_new_row_and_the_latest_result_counts(app, api, lot_id):
    first = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED,
                                                         "test": "endotoxin", "value": 7}).get_json()
    repeat = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED,
                                                          "test": "endotoxin", "value": 0.4, "repeat_of": first["id"],
                                                           "reason": "sample haemolysed; retested from retain"})
    assert repeat.status_code == 201 and repeat.get_json()["repeat_of"] == first["id"]
    listing = api.get(URL.format(lot_id), as_="qa").get_json()
    endotoxin = [r for r in listing["results"] if r["test"] == "endotoxin"]
    assert [(r["value"], r["within_spec"], r["counts"]) for r in endotoxin] == \
        [("7", False, False), ("0.4", True, True)]
    assert "endotoxin" not in listing["missing"] and "viability" in listing["missing"]


def test_repeat_of_a_superseded_result_is_refused(api, lot_id):
    first = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "cd90", "value": 90}).get_json()
    api.post(URL.format(lot_id), as_="qc",
             json={**SAMPLED, "test": "cd90", "value": 96, "repeat_of": first["id"], "reason": "gate"})
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED,
                                                            "test": "cd90", "value": 97, "repeat_of": first["id"],
                                                             "reason": "again"})
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "qc_repeat_not_latest"


def test_repeat_of_another_tests_result_is_refused(api, lot_id):
    first = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "cd90", "value": 99}).get_json()
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED,
                                                            "test": "cd73", "value": 99, "repeat_of": first["id"],
                                                             "reason": "x"})
    assert response.status_code == 400 and "repeat_of" in response.get_json()["fields"]


@pytest.mark.parametrize(("body", "field"), [
    ({"test": "viability", "value": "95%"}, "value"),
    ({"test": "viability", "value": 140}, "value"),
    ({"test": "sterility", "value": "clean"}, "value"),
    ({"test": "potency", "value": 1}, "test"),
    ({"test": "viability", "value": 90, "tested_at": "2026-11-20T09:00:00"}, "tested_at"),
    ({"test": "viability", "value": 90, "tested_at": "2999-01-01T00:00:00Z"}, "tested_at"),
    ({"value": 90}, "test"),
    ({"test": "viability", "value": 90, "sample_stage": "bag"}, "sample_stage"),
    ({"test": "viability", "value": 90, "sample_stage": None}, "sample_stage"),
    ({"test": "viability", "value": 90, "sampled_at": None}, "sampled_at"),
    ({"test": "viability", "value": 90, "sampled_at": "2999-01-01T00:00:00Z"}, "sampled_at"),
    ({"test": "viability", "value": 90, "tested_at": "2026-11-19T09:00:00+08:00"}, "tested_at"),
])
def test_unreadable_result_is_refused_with_the_field_named(api, lot_id, body, field):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, **body})
    assert response.status_code == 400 and field in response.get_json()["fields"]


def test_results_are_refused_once_the_lot_is_rejected(app, api):
    with db_session(app) as session:
        lot_id = make_lot(session, n=7, status="rejected").lot_number
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "viability", "value": 90})
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "lot_decided"


def test_only_a_qc_analyst_records_results(api, lot_id):
    assert api.post(URL.format(lot_id), as_="qa", json={**SAMPLED, "test": "viability", "value": 90}).status_code == 403
    assert api.post(URL.format(lot_id), as_="lab", json={**SAMPLED,
                                                         "test": "viability", "value": 90}).status_code == 403


def test_unknown_lot_is_not_found(api):
    assert api.post(URL.format("A999926999999"), as_="qc", json={**SAMPLED,
                                                                 "test": "viability", "value": 90}).status_code == 404


def test_a_new_specification_version_applies_to_new_lots_only(app, api, lot_id):
    with db_session(app) as session:
        specifications.ensure_default(session)
    definition = spec_to_dict(DOSE_SPEC)
    definition["version"] = "UCMSC-3"
    viability = next(t for t in definition["tests"] if t["code"] == "viability")
    viability["limit"] = {"kind": "min", "low": 80}
    response = api.post("/api/v1/specifications", as_="qa", json=definition)
    assert response.status_code == 201
    assert api.post("/api/v1/specifications", as_="qa", json=definition).status_code == 409
    assert api.get("/api/v1/specifications/current", as_="qc").get_json()["version"] == "UCMSC-3"
    old_lot = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "viability", "value": 75}).get_json()
    assert old_lot["within_spec"] is True and old_lot["spec_version"] == "UCMSC-1"
    with db_session(app) as session:
        assert specifications.current(session).version == "UCMSC-3"
        assert [r.version for r in session.exec(select(Specification).order_by(Specification.id))] == \
            ["UCMSC-2", "UCMSC-3"]


def test_specification_publish_is_for_qa_only_and_checked(app, api):
    assert api.post("/api/v1/specifications", as_="qc", json={"version": "X"}).status_code == 403
    response = api.post("/api/v1/specifications", as_="qa", json={"version": "X", "tests": []})
    assert response.status_code == 400 and "tests" in response.get_json()["fields"]


def test_service_refuses_a_decided_lot_directly(app):
    with db_session(app) as session:
        lot = make_lot(session, n=9, status="rejected")
        add_results(session, lot)
    with app.app_context():
        analyst = accounts.find_user(db.session(), "qc")
        with pytest.raises(Refused):
            qc.record_result(db.session(), actor=analyst, lot_number=lot.lot_number,
                             entry=qc.ResultInput(test="viability", value=99))
        with pytest.raises(Invalid):
            qc.parse_result({"test": "viability", "value": True})


def test_concurrent_results_keep_one_first_result_per_test_and_unique_deviation_numbers(app, api, lot_id):
    """Rule 6: the lot's row lock (and the unique indexes behind it) hold when requests race."""
    headers = api.headers("qc")

    def post(body):
        with app.test_client() as own:
            return own.post(URL.format(lot_id), json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=6) as pool:
        same = list(pool.map(post, [{**SAMPLED, "test": "karyotype", "value": "normal"}] * 6))
        failing = list(pool.map(post, [{**SAMPLED, "test": code, "value": 50}
                                       for code in ("cd73", "cd90", "cd105", "viability")]))
    assert sorted(r.status_code for r in same) == [201] + [409] * 5
    assert {r.get_json()["reasons"][0]["code"] for r in same if r.status_code == 409} == {"qc_result_exists"}
    numbers = [r.get_json()["deviation"] for r in failing]
    assert all(r.status_code == 201 for r in failing) and len(set(numbers)) == 4


@pytest.mark.parametrize(("moment", "said"), [("0001-01-01T00:00:00Z", "before 2000"),
                                              ("2001-06-01T08:00:00+08:00", "before its sample was taken")])
def test_a_test_dated_before_its_sample_or_in_year_one_is_refused_and_counts_for_nothing(app, api, lot_id, moment,
                                                                                        said):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "viability", "value": 92.5,
                                                             "tested_at": moment})
    assert response.status_code == 400 and said in response.get_json()["fields"]["tested_at"]
    assert _rows(app, QcResult) == []


def test_a_sample_dated_before_its_lot_began_is_refused(app, api, lot_id):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "sampled_at": "2020-01-01T08:00:00+08:00",
                                                             "test": "viability", "value": 92.5})
    assert response.status_code == 400 and "before the lot began" in response.get_json()["fields"]["sampled_at"]


def test_a_time_with_no_utc_equivalent_is_a_400_naming_the_field(app, api, lot_id):
    response = api.post(URL.format(lot_id), as_="qc", json={**SAMPLED, "test": "viability", "value": 92.5,
                                                             "tested_at": "0001-01-01T00:00:00+14:00"})
    assert response.status_code == 400 and "out of range" in response.get_json()["fields"]["tested_at"]
