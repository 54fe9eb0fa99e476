"""The demo a new site opens with `make run`: every area populated, every chain intact, a bag ready."""

from __future__ import annotations

from sqlmodel import select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.demo import supply
from cellchain.identifiers import scans
from cellchain.manufacturing.models import Bag, Lot
from cellchain.people.accounts import Policy
from cellchain.safety.models import ClinicalDeviation
from cellchain.trial import visits
from cellchain.trial.models import Subject, Visit
from cellchain.ward import infusions
from tests.conftest import FAST_HASH


def _load(app) -> int:
    with app.app_context():
        created = demo.load(db.session(), policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
    return created


def test_demo_loads_every_area_and_keeps_the_audit_chain_intact(app, runner):
    assert _load(app) > 0
    assert _load(app) == 0  # safe to run twice
    with app.app_context():
        session = db.session()
        statuses = sorted(lot.status for lot in session.exec(select(Lot)))
        # the lab demo's three lots; the banking demo's MCB and WCB lots and the supply demo's dosing lots, released
        assert statuses == ["awaiting_release", "in_process"] + ["released"] * 7
        assert session.exec(select(Bag).where(Bag.kind == "placebo")).first() is not None
        arms = [s.arm for s in session.exec(select(Subject))]
        # a screen failure and one awaiting randomization; the trial demo's six (one since withdrawn) and the supply
        # story's six randomized
        assert None in arms and len([a for a in arms if a]) == 6 + len(supply.SUBJECTS)
        withdrawn = session.exec(select(Subject).where(Subject.status == "withdrawn")).one()
        assert (withdrawn.screening_number, withdrawn.end_reason) == ("DEMO-SCR-008", "consent_withdrawn")
        assert withdrawn.end_signature_id is not None
        # one visit marked missed, its clinical protocol deviation open for the investigator
        [missed] = session.exec(select(ClinicalDeviation).where(ClinicalDeviation.kind == "missed_visit")).all()
        assert (missed.kind, missed.status, session.get(Visit, missed.visit_id).status) == ("missed_visit", "open",
                                                                                          "missed")
        assert trail.verify_chain(session).ok
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_demo_nurse_finds_todays_bags_on_the_ward_and_they_pass_the_bedside_check(app, api):
    _load(app)
    with app.app_context():
        due = infusions.due_today(db.session(), today=visits.site_today(app.config["SITE_TIMEZONE"]))
        ready = [(d.subject.subject_code, d.bag.bag_code) for d in due if d.bag.custody_state == "at_ward"]
    assert ready, "the demo should leave at least one allocated bag on the ward for today"
    for subject_code, bag_code in ready:
        answer = api.post("/api/v1/infusions/verify", as_="nurse",
                          json={"wristband": scans.wristband_data(subject_code), "bag": bag_code})
        body = answer.get_json()
        assert answer.status_code == 200 and body["ok"], [c for c in body["checks"] if not c["ok"]]


def test_demo_keeps_the_placebo_bags_still_in_the_lab_in_the_refrigerator_box(app, api):
    _load(app)
    box = api.get("/api/v1/storage/boxes/FR-0001", as_="lab").get_json()["box"]
    stored = [cell["item"] for line in box["grid"] for cell in line if cell["item"]]
    assert stored and box["taken"] == len(stored) and box["unit"] == "FRIDGE-1"
    where = api.get(f"/api/v1/storage/where-is?container={stored[0]}", as_="qa").get_json()
    assert (where["custody_state"], where["now"]["position"]) == ("in_storage", "A1")
