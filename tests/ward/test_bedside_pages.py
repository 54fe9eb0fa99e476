"""The ward pages a nurse uses on a tablet: receive, bedside check, start with a second nurse, complete."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Bag
from cellchain.trial.models import Visit
from cellchain.ward.models import BedsideCheck, Infusion
from cellchain.ward.rules import bedside_checks
from tests.conftest import PASSWORD
from tests.factories import ward


def scene(app, **kwargs) -> ward.Bedside:
    with app.app_context():
        made = ward.bedside_ready(db.session(), **kwargs)
        db.commit()
        return made


def check_page(auth, wristband: str, scan: str, parts: list[str] | None = None):
    data = {"wristband": wristband, "scan": scan}
    if parts:
        data["bag_part"] = parts
    return auth.post("/ward/bedside/check", data, follow_redirects=True)  # the check's result is its own page


def failed_checks(html: str) -> list[str]:
    return re.findall(r'class="check-fail" data-check="([a-z_]+)"', html)


def test_the_ward_lists_todays_infusions_and_the_bags_on_the_ward(app, client, auth):
    made = scene(app)
    auth.login("nurse")
    page = client.get("/ward/").get_data(as_text=True)
    assert 'class="ward"' in page
    assert f'data-subject="{made.subject.subject_code}"' in page and f'data-bag="{made.bag.bag_code}"' in page


def test_a_nurse_receives_a_dispatched_bag_by_scanning_it(app, client, auth):
    with app.app_context():
        session = db.session()
        bag = ward.to_ward(session, ward.bag(session), receive=False)
        db.commit()
    auth.login("nurse")
    missing = auth.post("/ward/receive", {"scan": ward.bag_2d(bag), "temperature_c": "", "location": "Ward 5"})
    assert missing.status_code == 400 and "temperature" in missing.get_data(as_text=True)
    response = auth.post("/ward/receive", {"scan": ward.bag_2d(bag), "temperature_c": "5.5", "location": "Ward 5",
                                           "condition": "intact"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session().get(Bag, bag.id).custody_state == "at_ward"
    again = auth.post("/ward/receive", {"scan": ward.bag_2d(bag), "temperature_c": "5.5", "location": "Ward 5"})
    assert again.status_code == 409 and "custody_impossible_move" in again.get_data(as_text=True)


def test_bedside_scan_shows_every_check_passing_then_two_nurses_start_and_complete(app, client, auth):
    made = scene(app)
    auth.login("nurse")
    step1 = client.get("/ward/bedside", query_string={"scan": made.wristband}).get_data(as_text=True)
    assert made.subject.subject_code in step1 and 'name="wristband"' in step1
    page = check_page(auth, made.wristband, made.bag_scan)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "ALL CHECKS PASSED" in html
    assert html.count('class="check-pass"') == len(bedside_checks.CHECK_NAMES) and not failed_checks(html)
    assert 'name="signature_username"' in html and 'value="verified"' in html
    started = auth.post("/ward/infusions", {"wristband": made.wristband, "bag_part": [made.bag_scan],
                                            "ultrasound_monitored": "yes", "heart_rate": "72",
                                            "signature_username": "nurse2", "signature_password": PASSWORD,
                                            "signature_meaning": "verified"})
    assert started.status_code == 303, started.get_data(as_text=True)
    infusion_page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Zhao Lei (nurse)" in infusion_page and 'data-testid="status">started' in infusion_page
    infusion_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():  # the infusion ran for 40 minutes; the page takes times to the minute
        running = db.session().get(Infusion, infusion_id)
        running.started_at -= timedelta(minutes=40)
        db.session().add(running)
        db.commit()
    now = datetime.now(ward.TZ).strftime("%Y-%m-%dT%H:%M")
    done = auth.post(f"/ward/infusions/{infusion_id}/complete", {
        "volume_ml": "49", "ended_at": now, "ultrasound_monitored": "yes", "partial_reason": "dead volume in the line",
        "reaction_0_description": "flushing",
        "reaction_0_severity": "mild", "reaction_0_onset": now})
    assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context():
        session = db.session()
        infusion = session.get(Infusion, infusion_id)
        assert infusion.status == "completed" and infusion.volume_ml == 49.0
        assert infusion.reactions[0]["severity"] == "mild" and infusion.vital_signs["start"] == {"heart_rate": 72.0}
        assert session.get(Visit, made.visit.id).status == "done"


def test_a_wrong_patient_scan_is_refused_and_names_right_subject(app, client, auth):
    made = scene(app)
    with app.app_context():
        other = ward.subject(db.session())
        db.commit()
    auth.login("nurse")
    page = check_page(auth, ward.wristband(other), made.bag_scan)
    html = page.get_data(as_text=True)
    assert failed_checks(html) == ["right_subject", "chain_of_identity_matches"]
    assert "STOP: DO NOT INFUSE" in html and "CHAIN OF IDENTITY MISMATCH" in html and "WRONG PATIENT" in html
    assert 'action="/ward/infusions"' not in html  # no start form
    with app.app_context():
        [attempt] = db.session().exec(select(BedsideCheck)).all()
        assert not attempt.ok and attempt.subject_id == other.id


def test_the_page_refuses_a_start_the_nurse_signs_for_herself(app, client, auth):
    made = scene(app)
    auth.login("nurse")
    response = auth.post("/ward/infusions", {"wristband": made.wristband, "bag_part": [made.bag_scan],
                                             "ultrasound_monitored": "yes", "signature_username": "nurse",
                                             "signature_password": PASSWORD, "signature_meaning": "verified"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-reason="second_verifier_same_person"' in html
    with app.app_context():
        assert db.session().exec(select(Infusion)).first() is None


def test_the_linear_codes_are_scanned_one_after_the_other(app, client, auth):
    made = scene(app)
    din, product = ward.linear_scans(made.bag)
    auth.login("nurse")
    first = check_page(auth, made.wristband, din).get_data(as_text=True)
    assert "Now scan the bag&#39;s product code barcode." in first and 'name="bag_part"' in first
    second = check_page(auth, made.wristband, product, parts=[din]).get_data(as_text=True)
    assert "ALL CHECKS PASSED" in second


def test_a_scan_that_is_not_a_wristband_is_said_in_words(app, client, auth):
    made = scene(app)
    auth.login("nurse")
    response = client.get("/ward/bedside", query_string={"scan": made.bag_scan})
    assert response.status_code == 400 and "not a subject" in response.get_data(as_text=True)


def test_only_nurses_use_the_bedside(app, client, auth):
    auth.login("coordinator")
    assert client.get("/ward/bedside").status_code == 403
    auth.logout()
    auth.login("auditor")
    assert client.get("/ward/").status_code == 200
    assert client.get("/ward/bedside").status_code == 403


def test_a_wrong_second_nurse_password_is_said_on_the_page_and_nothing_starts(app, client, auth):
    made = scene(app)
    auth.login("nurse")
    response = auth.post("/ward/infusions", {"wristband": made.wristband, "bag_part": [made.bag_scan],
                                             "ultrasound_monitored": "yes", "signature_username": "nurse2",
                                             "signature_password": "wrong-password", "signature_meaning": "verified"})
    assert response.status_code == 401 and "username or password is wrong" in response.get_data(as_text=True)
    with app.app_context():
        session = db.session()
        assert session.exec(select(Infusion)).first() is None
        [attempt] = session.exec(select(BedsideCheck)).all()
        assert attempt.purpose == "start" and not attempt.ok


def test_a_placebo_bags_bedside_check_says_released_at_filling_not_released_by_qa(app, client, auth):
    made = scene(app, kind="placebo", arm="B")
    auth.login("nurse")
    page = check_page(auth, made.wristband, made.bag_scan).get_data(as_text=True)
    assert 'data-check="released" data-ok="pass"' in page
    assert "<strong>Saline released at filling</strong>" in page
    assert "Released by QA" not in page and "released by QA" not in page
    assert "<strong>right_subject</strong>" not in page
    assert "<strong>Right subject</strong>" in page
