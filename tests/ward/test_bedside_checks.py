"""The bedside check (rule 5): every check by name, each one failing on its own, every attempt recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry, Signature
from cellchain.core import db
from cellchain.identifiers.isbt128 import (
    ChainOfIdentity,
    encode_birth_date,
    encode_chain_of_identity,
    encode_compound,
)
from cellchain.ward import bedside_scans
from cellchain.ward.models import BedsideCheck, CustodyEvent, Infusion
from cellchain.ward.rules import bedside_checks
from tests.factories import ward

URL = "/api/v1/infusions/verify"


def setup(app, **kwargs) -> ward.Bedside:
    with app.app_context():
        scene = ward.bedside_ready(db.session(), **kwargs)
        db.commit()
        return scene


def failing(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {c["name"] for c in response.get_json()["checks"] if not c["ok"]}


def detail(response, name: str) -> str:
    return next(c["detail"] for c in response.get_json()["checks"] if c["name"] == name)


def test_all_checks_pass_for_the_right_bag_and_subject_and_are_listed_in_order(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] is True
    assert [c["name"] for c in body["checks"]] == list(bedside_checks.CHECK_NAMES)
    assert all(c["ok"] and c["detail"] for c in body["checks"])
    assert body["subject_id"] == scene.subject.subject_code and body["bag_id"] == scene.bag.bag_code
    assert body["visit_id"] == scene.visit.id


def test_the_linear_scans_identify_the_bag_like_its_2d_code(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": ward.linear_scans(scene.bag)})
    assert response.get_json()["ok"] is True
    reversed_order = list(reversed(ward.linear_scans(scene.bag)))
    assert api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": reversed_order}).get_json()["ok"]


def test_placebo_bag_passes_for_an_arm_b_subject(app, api):
    scene = setup(app, kind="placebo", arm="B")
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    assert response.get_json()["ok"] is True
    assert "50 ml saline" in detail(response, "dose_within_tolerance")


# --- each check failing alone: start from the all-pass bedside and break one thing ----------------------

def _other_subject(session, scene):
    other = ward.subject(session, arm="A")
    ward.infusion_visit(session, other)
    return {"wristband": ward.wristband(other)}


def _window_closed(session, scene):
    visit = session.get(type(scene.visit), scene.visit.id)
    start = visit.window_start
    visit.window_start, visit.window_end = start - timedelta(days=10), start - timedelta(days=4)
    session.add(visit)


def _quarantined(session, scene):
    bag = session.get(type(scene.bag), scene.bag.id)
    bag.quality_status = "quarantine"
    session.add(bag)


def _expired(session, scene):
    bag = session.get(type(scene.bag), scene.bag.id)
    bag.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    session.add(bag)
    session.flush()
    return {"bag": ward.bag_2d(bag)}


def _already_infused(session, scene):
    nurse2 = ward.user(session, "nurse2")
    check = BedsideCheck(wristband_scan=scene.wristband, bag_scan=scene.bag_scan, subject_id=scene.subject.id,
                         bag_id=scene.bag.id, ok=True, checks=[], purpose="start", checked_by=nurse2.id)
    signed = Signature(user_id=nurse2.id, signer_username="nurse2", signer_name=nurse2.full_name, meaning="verified",
                       signed_at=datetime.now(UTC), record_type="bedside_check", record_id="0", record_hash="0" * 64)
    session.add_all([check, signed])
    session.flush()
    session.add(Infusion(bag_id=scene.bag.id, subject_id=scene.subject.id, visit_id=scene.visit.id,
                         bedside_check_id=check.id, started_at=datetime.now(UTC), started_by=nurse2.id,
                         verifier_id=nurse2.id, verifier_signature_id=signed.id))


def _not_received(session, scene):
    # a second bag for the same visit, dispatched but never received on the ward
    scene_bag = ward.to_ward(session, ward.bag(session), receive=False)
    allocation = session.get(type(scene.allocation), scene.allocation.id)
    allocation.bag_id = scene_bag.id
    session.add(allocation)
    return {"bag": ward.bag_2d(scene_bag)}


def _broken_chain(session, scene):
    # an event slipped into the table behind the state machine's back: received twice
    session.add(CustodyEvent(item_type="bag", item_id=scene.bag.id, event="received_at_ward", from_state="at_ward",
                             to_state="at_ward", location="corridor",
                             occurred_at=datetime.now(UTC) - timedelta(minutes=5),
                             recorded_by=ward.user(session, "nurse").id))


def _arm_b(session, scene):
    subject = session.get(type(scene.subject), scene.subject.id)
    subject.arm = "B"
    session.add(subject)


def _heavier(session, scene):
    allocation = session.get(type(scene.allocation), scene.allocation.id)
    allocation.weight_kg = 90.0
    session.add(allocation)


def _wrong_label_expiry(session, scene):
    return {"bag": ward.bag_2d(scene.bag, expires_at=scene.bag.expires_at + timedelta(hours=1))}


def _label_of_another_chain(session, scene):
    # the bag is allocated to the wristband's subject, but its label carries another patient's chain of identity
    return {"bag": ward.bag_2d(scene.bag, chain_of_identity=ChainOfIdentity.issue("A9999", 26, 999_999).text)}


BREAKS = {
    "bag_identified": _wrong_label_expiry,
    "chain_of_identity_matches": _label_of_another_chain,
    "infusion_visit_today": _window_closed,
    "released": _quarantined,
    "not_expired": _expired,
    "not_infused": _already_infused,
    "received_on_ward": _not_received,
    "custody_unbroken": _broken_chain,
    "product_matches_arm": _arm_b,
    "dose_within_tolerance": _heavier,
}


@pytest.mark.parametrize("check", sorted(BREAKS))
def test_each_check_fails_alone_and_named_when_only_its_rule_is_broken(app, api, check: str):
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        body = {"wristband": scene.wristband, "bag": scene.bag_scan}
        body.update(BREAKS[check](session, scene) or {})
        db.commit()
    response = api.post(URL, as_="nurse", json=body)
    assert failing(response) == {check}
    assert response.get_json()["ok"] is False


def test_an_open_temperature_excursion_fails_only_no_open_excursion(app, api):
    scene = setup(app, receive_temperature_c=12.0)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    assert failing(response) == {"no_open_excursion"}
    assert "12 °C" in detail(response, "no_open_excursion")


def test_another_subjects_wristband_fails_the_subject_and_its_chain_of_identity(app, api):
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        body = {"bag": scene.bag_scan, **_other_subject(session, scene)}
        db.commit()
    response = api.post(URL, as_="nurse", json=body)
    assert failing(response) == {"right_subject", "chain_of_identity_matches"}


def test_a_chain_of_identity_mismatch_is_refused_by_name(app, api):
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        db.commit()
    other = ChainOfIdentity.issue("A9999", 26, 999_998)
    mine = ChainOfIdentity.parse(scene.subject.chain_of_identity)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband,
                                                "bag": ward.bag_2d(scene.bag, chain_of_identity=other.text)})
    assert failing(response) == {"chain_of_identity_matches"}
    message = detail(response, "chain_of_identity_matches")
    assert "CHAIN OF IDENTITY MISMATCH" in message and other.text in message and mine.text in message
    ok = api.post(URL, as_="nurse", json={"wristband": scene.wristband,
                                          "bag": ward.bag_2d(scene.bag, chain_of_identity=mine.text)})
    assert ok.get_json()["ok"] is True
    assert mine.text in detail(ok, "chain_of_identity_matches")


def test_a_wristband_whose_2d_code_carries_another_chain_of_identity_is_refused(app, api):
    scene = setup(app)
    other = ChainOfIdentity.issue("A9999", 26, 999_997)
    two_d = encode_compound([scene.wristband, encode_birth_date(scene.subject.birth_date), other.barcode_data()])
    response = api.post(URL, as_="nurse", json={"wristband": two_d, "bag": scene.bag_scan})
    assert failing(response) == {"chain_of_identity_matches"}
    assert "check the wristband" in detail(response, "chain_of_identity_matches")
    right = encode_compound([scene.wristband, encode_birth_date(scene.subject.birth_date),
                             encode_chain_of_identity(scene.subject.chain_of_identity)])
    assert api.post(URL, as_="nurse", json={"wristband": right, "bag": scene.bag_scan}).get_json()["ok"] is True


def test_wrong_patient_is_named_in_right_subject(app, api):
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        other = ward.subject(session)
        db.commit()
    response = api.post(URL, as_="nurse", json={"wristband": ward.wristband(other), "bag": scene.bag_scan})
    assert "right_subject" in failing(response)
    message = detail(response, "right_subject")
    assert "WRONG PATIENT" in message and scene.subject.subject_code in message and other.subject_code in message


def test_a_scan_that_is_not_a_wristband_fails_the_subject_checks_that_need_it(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": ward.linear_scans(scene.bag)[0], "bag": scene.bag_scan})
    assert failing(response) == {"wristband_is_a_subject", "subject_on_treatment", "right_subject",
                                 "chain_of_identity_matches", "product_matches_arm"}
    assert "not a subject's wristband" in detail(response, "wristband_is_a_subject")
    assert "cannot compare" in detail(response, "right_subject")


def test_an_unknown_bag_fails_every_check_that_needs_the_bag_saying_why(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": "A999926999999-D0001VA0"})
    assert failing(response) == set(bedside_checks.CHECK_NAMES) - {"wristband_is_a_subject", "subject_on_treatment"}
    assert "no bag A999926999999-D0001VA0 is registered" in detail(response, "bag_identified")
    assert "no bag was identified" in detail(response, "released")


def test_half_of_the_linear_identity_does_not_identify_a_bag(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": ward.linear_scans(scene.bag)[:1]})
    assert "bag_identified" in failing(response)
    assert "product code is missing" in detail(response, "bag_identified")


def test_unreadable_scan_text_is_a_failed_check_not_an_error(app, api):
    scene = setup(app)
    response = api.post(URL, as_="nurse", json={"wristband": "hello", "bag": scene.bag_scan})
    assert "wristband_is_a_subject" in failing(response)
    assert "cannot be read" in detail(response, "wristband_is_a_subject")


@pytest.mark.parametrize("body", [{}, {"wristband": "&#SUBJ-0001"}, {"wristband": 5, "bag": "x"},
                                  {"wristband": "&#SUBJ-0001", "bag": [1, 2]}, {"wristband": "", "bag": "x"}])
def test_a_request_without_both_scans_is_refused_400(app, api, body):
    response = api.post(URL, as_="nurse", json=body)
    assert response.status_code == 400
    assert response.get_json()["fields"]


def test_only_a_nurse_runs_a_bedside_check(app, api):
    scene = setup(app)
    response = api.post(URL, as_="coordinator", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    assert response.status_code == 403


def test_every_attempt_is_recorded_and_audited_failed_ones_too(app, api):
    scene = setup(app)
    api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    api.post(URL, as_="nurse", json={"wristband": "&#0008SUBJ0999", "bag": scene.bag_scan})
    api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": "A999926999999-D0001VA0"})
    with app.app_context():
        session = db.session()
        rows = list(session.exec(select(BedsideCheck).order_by(BedsideCheck.id)))
        assert [r.ok for r in rows] == [True, False, False]
        assert all(r.purpose == "verify" and len(r.checks) == len(bedside_checks.CHECK_NAMES) for r in rows)
        assert rows[1].subject_id is None and rows[1].bag_id == scene.bag.id
        assert rows[2].bag_id is None and rows[2].bag_scan == "A999926999999-D0001VA0"
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.record_type == "bedside_check")))
        assert sorted(int(e.record_id) for e in entries) == [r.id for r in rows]
        assert ('"failed":["wristband_is_a_subject","subject_on_treatment","right_subject",'
                '"chain_of_identity_matches","product_matches_arm"]' in entries[1].new_values)


def test_the_wristbands_2d_code_with_the_right_birth_date_names_the_subject(app, api):
    scene = setup(app)
    two_d = encode_compound([scene.wristband, encode_birth_date(scene.subject.birth_date)])
    response = api.post(URL, as_="nurse", json={"wristband": two_d, "bag": scene.bag_scan})
    assert response.get_json()["ok"] is True
    wrong = encode_compound([scene.wristband, encode_birth_date(date(1971, 1, 1))])
    response = api.post(URL, as_="nurse", json={"wristband": wrong, "bag": scene.bag_scan})
    assert "wristband_is_a_subject" in failing(response)
    assert "birth date 1971-01-01" in detail(response, "wristband_is_a_subject")


def test_a_date_only_expiry_on_the_label_is_compared_by_date():
    expires = datetime(2026, 11, 27, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    bag = SimpleNamespace(expires_at=expires, bag_code="A999926000001-D0001VA0")
    assert bedside_scans.label_problem(bag, {"expires_at": date(2026, 11, 27)}, ward.TZ) is None
    problem = bedside_scans.label_problem(bag, {"expires_at": date(2026, 11, 28)}, ward.TZ)
    assert problem.key == "scan:label_expiry_mismatch" and "label's expiry (2026-11-28)" in problem.text
