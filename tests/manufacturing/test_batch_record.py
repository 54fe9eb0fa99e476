"""The batch record: SOP steps with performer and time, second-person e-signatures, completeness, PDF."""

from __future__ import annotations

import pymupdf
import pytest

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Refused
from cellchain.manufacturing import batch
from cellchain.manufacturing.models import BatchStep
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from tests.conftest import signature
from tests.factories.lab import days_ago, formulated_lot, in_db, iso, make_bag, make_lot, snapshot, user


def lot_with_passages(app, **kwargs) -> str:
    with in_db(app) as session:
        return make_lot(session, passages=[(1_000_000, 8_000_000), (4_000_000, 16_000_000)], **kwargs).lot_number


def step_id(app, lot_id: str, key: str) -> int:
    with in_db(app) as session:
        rows = session.exec(BatchStep.__table__.select().where(BatchStep.step_key == key)).all()
        return rows[-1].id


def test_a_step_is_recorded_with_its_performer_details_and_time(app, api):
    lot_id = lot_with_passages(app)
    when = days_ago(3)
    response = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab",
                        json={"step": "media_and_reagent_lots", "details": {"medium lot": "M2611", "volume_ml": 500},
                              "performed_at": iso(when)})
    assert response.status_code == 201, response.get_json()
    steps = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()["batch_record"]["steps"]
    entry = next(s for s in steps if s["step"] == "media_and_reagent_lots")
    assert entry["performed_by"] == "lab" and entry["details"] == {"medium lot": "M2611", "volume_ml": 500}
    assert entry["performed_at"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))


def test_step_refusals_are_named_and_write_nothing(app, api):
    lot_id = lot_with_passages(app)
    api.token("lab")
    api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "wash"})
    with in_db(app) as session:
        before = snapshot(session)
    cases = [({"step": "wash"}, "step_already_recorded"), ({"step": "fill"}, "step_recorded_elsewhere"),
             ({"step": "harvest"}, "step_recorded_elsewhere")]
    for body, code in cases:
        response = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json=body)
        assert response.status_code == 409 and [r["code"] for r in response.get_json()["reasons"]] == [code]
    unknown = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "dance"})
    assert unknown.status_code == 400 and "step" in unknown.get_json()["fields"]
    future = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab",
                      json={"step": "tissue_processing", "performed_at": iso(days_ago(-1))})
    assert future.status_code == 400 and "performed_at" in future.get_json()["fields"]
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_per_passage_step_names_a_recorded_passage(app):
    steps = (*DEFAULT_STEPS, StepDef("media_change", "Media change", repeat_per_passage=True))
    lot_id = lot_with_passages(app)
    with in_db(app) as session:
        lab = user(session, "lab")
        with pytest.raises(Invalid) as missing:
            batch.record_step(session, actor=lab, lot_number=lot_id, data={"step": "media_change"}, steps=steps)
        assert "passage_number" in missing.value.fields
        with pytest.raises(Refused) as unknown:
            batch.record_step(session, actor=lab, lot_number=lot_id, steps=steps,
                              data={"step": "media_change", "passage_number": 7})
        assert [r.code for r in unknown.value.reasons] == ["passage_not_recorded"]
        row = batch.record_step(session, actor=lab, lot_number=lot_id, steps=steps,
                                data={"step": "media_change", "passage_number": 1})
        assert row.step_key == "media_change:1"


def test_the_performer_cannot_verify_their_own_step(app, api):
    lot_id = lot_with_passages(app)
    sid = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "tissue_processing"}).get_json()[
        "step_id"]
    with in_db(app) as session:
        before = snapshot(session)
    response = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="lab",
                        json={"signature": signature("lab", "verified")})
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["self_verification"]
    with in_db(app) as session:
        assert snapshot(session) == before


def test_a_second_person_verifies_by_e_signature_once(app, api):
    lot_id = lot_with_passages(app)
    sid = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "tissue_processing"}).get_json()[
        "step_id"]
    wrong_signer = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
                            json={"signature": signature("lab", "verified")})
    assert [r["code"] for r in wrong_signer.get_json()["reasons"]] == ["signer_not_actor"]
    wrong_meaning = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
                             json={"signature": signature("qa", "released")})
    assert wrong_meaning.status_code == 400
    ok = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
                  json={"signature": signature("qa", "verified")})
    assert ok.status_code == 201, ok.get_json()
    again = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
                     json={"signature": signature("qa", "verified")})
    assert [r["code"] for r in again.get_json()["reasons"]] == ["step_already_verified"]
    entry = next(s for s in api.get(f"/api/v1/lots/{lot_id}", as_="lab").get_json()["batch_record"]["steps"]
                 if s["step_id"] == sid)
    assert entry["verification"]["signer_name"] == "Wang Fang (QA reviewer)"
    assert entry["verification"]["meaning"] == "verified" and entry["verification"]["intact"] is True


def test_a_wrong_password_does_not_verify(app, api):
    lot_id = lot_with_passages(app)
    sid = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "tissue_processing"}).get_json()[
        "step_id"]
    response = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
                        json={"signature": signature("qa", "verified", password="not-it")})
    assert response.status_code == 401
    assert api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()["batch_record"]["steps"][-1]["verification"] is None


def test_qc_cannot_verify_steps(app, api):
    lot_id = lot_with_passages(app)
    sid = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "wash"}).get_json()["step_id"]
    response = api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qc",
                        json={"signature": signature("qc", "verified")})
    assert response.status_code == 403


def test_a_decided_lots_record_is_closed(app):
    lot_id = lot_with_passages(app, status="released")
    with in_db(app) as session:
        with pytest.raises(Refused) as caught:
            batch.record_step(session, actor=user(session, "lab"), lot_number=lot_id, data={"step": "wash"})
        assert [r.code for r in caught.value.reasons] == ["lot_closed"]


def test_the_record_is_complete_only_when_every_step_is_done_and_verified(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000,
                          formulation=(1e6, 5.0)).lot_number
        lab = user(session, "lab")
        for key in ("harvest", "fill"):
            session.add(BatchStep(lot_id=session.exec(BatchStep.__table__.select()).first().lot_id, step_key=key,
                                  details={}, performed_by=lab.id, performed_at=days_ago(0.5)))
    for code in ("tissue_processing", "media_and_reagent_lots", "wash"):
        api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": code})
    record = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()["batch_record"]
    assert not record["complete"]
    assert {r["code"] for r in record["missing"]} == {"batch_step_unverified"}
    assert len(record["missing"]) == 3  # tissue processing, formulation, fill
    for step in record["steps"]:
        if step["needs_verification"]:
            api.post(f"/api/v1/lots/{lot_id}/batch-steps/{step['step_id']}/verify", as_="qa",
                     json={"signature": signature("qa", "verified")})
    record = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()["batch_record"]
    assert record["complete"] and record["missing"] == []
    with in_db(app) as session:
        assert [e.action for e in trail.search(session, trail.AuditFilter(record_type="batch_step"))].count(
            "verify") == 3


def test_the_batch_record_pdf_shows_steps_signatures_passages_and_gaps(app, api, client, auth):
    lot_id = lot_with_passages(app)
    sid = api.post(f"/api/v1/lots/{lot_id}/batch-steps", as_="lab", json={"step": "tissue_processing"}).get_json()[
        "step_id"]
    api.post(f"/api/v1/lots/{lot_id}/batch-steps/{sid}/verify", as_="qa",
             json={"signature": signature("qa", "verified")})
    response = api.get(f"/api/v1/lots/{lot_id}/batch-record.pdf", as_="auditor")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.get_text() for page in pymupdf.open(stream=response.data, filetype="pdf"))
    text = " ".join(text.split())
    for expected in (f"Batch record - lot {lot_id}", "Donor eligibility", "eligible", "Wang Fang (QA reviewer)",
                     "meaning: verified", "Li Wei (lab technician)", "P0", "P1", "3.00", "5.00", "INCOMPLETE",
                     "Wash (wash) is not recorded as performed"):
        assert expected in text, expected
    auth.login("qa")
    assert client.get(f"/api/v1/lots/{lot_id}/batch-record.pdf").status_code == 200  # the page's link (cookie)


def test_the_batch_record_pdf_writes_numbers_as_the_lot_page_does(app, api):
    with in_db(app) as session:
        lot = formulated_lot(session)
        make_bag(session, lot, "A0")
        make_bag(session, lot, "B0")
        lot_id = lot.lot_number
    response = api.get(f"/api/v1/lots/{lot_id}/batch-record.pdf", as_="qa")
    text = " ".join(" ".join(page.get_text() for page in pymupdf.open(stream=response.data, filetype="pdf")).split())
    for expected in ("400,000,000 (4 x 10^8) cells at",  # the harvest, grouped with its power of ten
                     "1,000,000 cells/ml x 300 ml = 300,000,000 (3 x 10^8) cells",  # the formulation
                     "1,000,000 8,000,000", "12,000,000 60,000,000",  # each passage's seeded and harvested cells
                     "Status in process", "2 bags:", "70 ml 70,000,000 in quarantine"):
        assert expected in text, expected
    assert "e+0" not in text and "e+1" not in text and "item(s)" not in text
    assert "items missing" in text or "1 item missing" in text
