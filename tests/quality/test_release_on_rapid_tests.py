"""A 48-hour product is released on its rapid tests: the dosing-lot specification's 14-day sterility
culture is read after release and never holds the release up; a cell bank waits for its full panel.
Every result says where and when its sample was taken, on the QC and QA pages and the certificate."""

from __future__ import annotations

import json
from datetime import UTC

import pymupdf
import pytest

from cellchain.quality.rules import spec_limits
from tests.conftest import signature
from tests.factories.qc import PASSING, SAMPLED, SAMPLED_AT, SAMPLED_FORM, db_session, make_lot

RAPID = {**{k: v for k, v in PASSING.items() if k not in ("karyotype", "sterility")}, "gram_stain": "negative"}


def _lot_under(app, version: str, n: int) -> str:
    with db_session(app) as session:
        lot = make_lot(session, n=n)
        lot.spec_version = version
        session.add(lot)
        return lot.lot_number


def _enter(api, lot_id: str, values: dict) -> None:
    for code, value in values.items():
        response = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                            json={**SAMPLED, "test": code, "value": value})
        assert response.status_code == 201, (code, response.get_json())


def test_the_dosing_spec_gates_on_rapid_tests_and_reads_sterility_after_release():
    gating = {t.code for t in spec_limits.DOSE_SPEC.tests if t.gates_release}
    assert {"cell_count", "viability", "cd73", "cd90", "cd105", "endotoxin", "gram_stain", "mycoplasma"} <= gating
    assert [t.code for t in spec_limits.DOSE_SPEC.tests if t.after_release] == ["sterility"]
    assert "nucleic-acid" in spec_limits.DOSE_SPEC.find("mycoplasma").method
    assert {t.code for t in spec_limits.BANK_SPEC.tests if t.required} == \
        {t.code for t in spec_limits.BANK_SPEC.tests if t.gates_release} >= {"sterility", "mycoplasma", "karyotype"}


def test_a_specification_with_an_unknown_release_mode_is_refused(api):
    definition = spec_limits.spec_to_dict(spec_limits.DOSE_SPEC)
    definition["version"] = "UCMSC-9"
    definition["tests"][0]["release"] = "eventually"
    response = api.post("/api/v1/specifications", as_="qa", json=definition)
    assert response.status_code == 400 and "tests[0].release" in response.get_json()["fields"]


def test_release_no_longer_waits_for_the_sterility_culture(app, api, client, auth):
    lot_id = _lot_under(app, "UCMSC-2", 41)
    _enter(api, lot_id, RAPID)
    check = api.get(f"/api/v1/lots/{lot_id}/release-check", as_="qa").get_json()
    assert check["ready"] is True, check
    auth.login("qa")
    review = client.get(f"/qa/lots/{lot_id}").data
    pending = review[review.index(b'data-testid="pending-after-release"'):]
    assert b"sterility" in pending[:600]
    released = api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert released.status_code == 200, released.get_json()
    certificate = client.get(f"/api/v1/lots/{lot_id}/release-certificate.pdf")
    text = " ".join(" ".join(page.get_text().split()) for page in pymupdf.open(stream=certificate.data, filetype="pdf"))
    assert "Pending after release" in text and "sterility" in text and "final product" in text


def test_a_negative_culture_after_release_keeps_the_certificate_matching(app, api, client, auth):
    lot_id = _lot_under(app, "UCMSC-2", 42)
    _enter(api, lot_id, RAPID)
    api.post(f"/api/v1/lots/{lot_id}/release", as_="qa", json={"signature": signature("qa", "released")})
    _enter(api, lot_id, {"sterility": "negative"})
    auth.login("qa")
    certificate = client.get(f"/api/v1/lots/{lot_id}/release-certificate.pdf")
    text = " ".join(" ".join(page.get_text().split()) for page in pymupdf.open(stream=certificate.data, filetype="pdf"))
    assert "Data changed since signature: no" in text and "recorded after release" in text
    assert "Pending after release" not in text


@pytest.mark.parametrize(("version", "blocked"), [("UCMSC-BANK-1", True), ("UCMSC-2", False)])
def test_a_bank_waits_for_its_sterility_and_a_dosing_lot_does_not(app, api, version, blocked):
    lot_id = _lot_under(app, version, 43 if blocked else 44)
    values = {**PASSING} if blocked else RAPID
    _enter(api, lot_id, {k: v for k, v in values.items() if k != "sterility"})
    reasons = api.get(f"/api/v1/lots/{lot_id}/release-check", as_="qa").get_json()["reasons"]
    if blocked:
        assert [r["code"] for r in reasons if "sterility" in r["message"]] == ["qc_missing"]
    else:
        assert reasons == []


def test_each_result_shows_its_sample_stage_and_time(app, api, client, auth):
    lot_id = _lot_under(app, "UCMSC-2", 45)
    response = api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                        json={"test": "viability", "value": 93, "sample_stage": "in_process",
                              "sampled_at": SAMPLED_AT.isoformat()})
    assert response.status_code == 201
    body = response.get_json()
    assert body["sample_stage"] == "in_process"
    assert body["sampled_at"] == SAMPLED_AT.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert body["after_release"] is False
    for person, page in (("qc", f"/qc/lots/{lot_id}"), ("qa", f"/qa/lots/{lot_id}")):
        auth.login(person)
        assert f"in process sample, taken {SAMPLED_AT:%Y-%m-%d %H:%M}".encode() in client.get(page).data, page
        auth.logout()


def test_the_qc_form_needs_the_sample_stage_and_time(app, client, auth):
    lot_id = _lot_under(app, "UCMSC-2", 46)
    auth.login("qc")
    refused = auth.post(f"/qc/lots/{lot_id}/results", {"test": "viability", "value": "93"})
    assert refused.status_code == 400
    assert b"sample_stage" in refused.data and b"sampled_at" in refused.data
    done = auth.post(f"/qc/lots/{lot_id}/results", {"test": "viability", "value": "93", "sample_stage": "final_product",
                                                    "sampled_at": SAMPLED_FORM["sampled_at"]}, follow_redirects=True)
    assert done.status_code == 200 and f"final product sample, taken {SAMPLED_AT:%Y-%m-%d %H:%M}".encode() in done.data


@pytest.mark.parametrize("spec", [spec_limits.DOSE_SPEC, spec_limits.BANK_SPEC])
def test_each_built_in_specification_reads_back_equal_with_its_product_and_release_modes(spec):
    assert spec_limits.spec_from_dict(json.loads(json.dumps(spec_limits.spec_to_dict(spec)))) == spec
