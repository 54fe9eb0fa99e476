"""The trial's supply, through the API, over twelve weeks of clock time: one cord -> a master cell bank of
10 vials -> a working cell bank of 20 vials -> 4 dosing lots -> three subjects of 55, 70 and 90 kg each
infused at weeks 0, 4, 8 and 12 on their planned days, every vial in a storage position until its thaw and
every bag in date when infused.

The clock is moved with time-machine, forward only, so every operation reads "now" as it would on that
day: passages are recorded after their harvest, QC after sampling, infusions at their planned time.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from cellchain.banking.models import Vial
from cellchain.manufacturing.models import Bag
from cellchain.storage.models import Placement
from cellchain.ward.models import Infusion
from tests.conftest import signature
from tests.factories import materials
from tests.factories.lab import in_db, make_collection
from tests.factories.qc import PASSING
from tests.factories.trial import eligible_answers
from tests.factories.ward import bag_2d, wristband_data

SITE = ZoneInfo("Asia/Shanghai")
DAY0 = date(2027, 2, 1)  # in the future of any real clock this suite runs on, so the clock only moves forward
WEIGHTS = (55.0, 70.0, 90.0)
WEEKS = (0, 4, 8, 12)
CELLS_PER_ML = 1_000_000.0
# The dosing lot's release tests (rapid tests; the 14-day sterility is read after release).
RAPID = {code: PASSING[code] for code in ("cd73", "cd90", "cd105", "cd34", "cd45", "cd14", "cd19", "hla_dr",
                                          "viability", "endotoxin", "cell_count", "mycoplasma")}


def site_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SITE)


class Journey:
    """The API as the site's people use it, on a clock that the test moves."""

    def __init__(self, app, api) -> None:
        self.app, self.api = app, api

    @contextmanager
    def on(self, moment: datetime):
        with time_machine.travel(moment.astimezone(UTC), tick=True):
            self.api._tokens.clear()  # tokens live hours, not weeks: each day's people log in again
            yield

    def ok(self, response) -> Any:
        """What a step answered; each step's own status codes are tested in its area."""
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def post(self, url: str, as_: str, body: dict[str, Any] | None = None) -> Any:
        return self.ok(self.api.post(f"/api/v1{url}", as_=as_, json=body or {}))

    def get(self, url: str, as_: str = "qa") -> Any:
        return self.ok(self.api.get(f"/api/v1{url}", as_=as_))

    # --- the lab -----------------------------------------------------------------------------------------
    def step(self, lot: str, code: str, at: datetime | None = None, **details: Any) -> None:
        """An SOP step, performed at ``at`` (now when not given)."""
        body = {"step": code, "details": details or {"done": "yes"}}
        self.post(f"/lots/{lot}/batch-steps", "lab", body | ({"performed_at": at.isoformat()} if at else {}))

    def grow(self, lot: str, numbers: range, seeded: datetime) -> datetime:
        """Passages two days each, from ``seeded``; the last harvest's time."""
        harvested = seeded
        for number in numbers:
            harvested = seeded + timedelta(days=2)
            self.post(f"/lots/{lot}/passages", "lab", {
                "number": number, "seeded_cells": 60_000_000, "harvested_cells": 240_000_000, "viability_pct": 95,
                "seeded_at": seeded.isoformat(), "harvested_at": harvested.isoformat()})
            seeded = harvested + timedelta(hours=2)
        self.post(f"/lots/{lot}/harvest", "lab", {"harvested_cells": 240_000_000,
                                                  "harvested_at": (harvested + timedelta(hours=1)).isoformat()})
        return harvested + timedelta(hours=1)

    def verify_all(self, lot: str) -> None:
        for entry in self.get(f"/lots/{lot}", "lab")["batch_record"]["steps"]:
            if entry["needs_verification"] and entry["verification"] is None:
                self.post(f"/lots/{lot}/batch-steps/{entry['step_id']}/verify", "lab2",
                          {"signature": signature("lab2", "verified")})

    def results(self, lot: str, values: dict[str, Any], stage: str, sampled: datetime) -> None:
        for test, value in values.items():
            self.post(f"/lots/{lot}/qc-results", "qc", {"test": test, "value": value, "sample_stage": stage,
                                                        "sampled_at": sampled.isoformat()})

    def release(self, lot: str) -> None:
        self.post(f"/lots/{lot}/release", "qa", {"signature": signature("qa", "released")})

    def freeze(self, lot: str, level: str, passage: int, vials: int, at: datetime) -> str:
        return self.post(f"/lots/{lot}/bank", "lab", {
            "level": level, "passage": passage, "vial_count": vials, "cells_per_vial": 10_000_000,
            "cryoprotectant": "10% DMSO", "frozen_at": at.isoformat()})["bank_code"]

    def shelve(self, bank: str, box: str) -> None:
        """Every vial of the bank into the box, row by row, by scanning its label then the position."""
        columns = self.get(f"/storage/boxes/{box}", "lab")["box"]["columns"]
        for n, vial in enumerate(self.get(f"/banks/{bank}", "lab")["vials"]):
            position = f"{chr(ord('A') + n // columns)}{n % columns + 1}"
            self.post("/storage/put", "lab", {"container": f"&a{vial['vial_code']}", "target": f"&c{box}-{position}"})

    def thaw(self, vial_code: str, purpose: str) -> str:
        """Taken out of its position, then thawed, now: the lot it starts."""
        self.post("/storage/take", "lab", {"container": f"&a{vial_code}", "reason": f"thaw for a {purpose} lot"})
        return self.post("/vials/thaw", "lab", {"vial": f"&a{vial_code}", "purpose": purpose,
                                                "post_thaw_viability_pct": 92.0})["lot_id"]


def _bank_panel(journey: Journey, lot: str, sampled: datetime) -> None:
    journey.results(lot, PASSING, "bank", sampled)


def _storage(journey: Journey) -> None:
    journey.post("/storage/units", "lab", {"code": "LN2-01", "name": "LN2 tank 1 (vapour phase)", "kind": "ln2_vapour"})
    journey.post("/storage/units/LN2-01/locations", "lab", {"code": "LN2-01-R1", "kind": "rack", "name": "Rack 1"})
    for box, rows in (("MCB-BOX", 2), ("WCB-BOX", 4)):
        journey.post("/storage/locations/LN2-01-R1/boxes", "lab", {"code": box, "rows": rows, "columns": 5,
                                                                  "name": box})


def _subjects(journey: Journey) -> list[dict[str, Any]]:
    """Subjects registered and randomized until three are in the UC-MSC arm, weighing 55, 70 and 90 kg."""
    arm_a: list[dict[str, Any]] = []
    while len(arm_a) < len(WEIGHTS):
        weight = WEIGHTS[len(arm_a)]
        subject = journey.post("/subjects", "coordinator", eligible_answers(day0=DAY0.isoformat(), weight_kg=weight))
        arm = journey.post(f"/subjects/{subject['subject_id']}/randomize", "coordinator")["arm"]
        if arm == "A":
            visits = journey.get(f"/subjects/{subject['subject_id']}/visits", "coordinator")["visits"]
            arm_a.append({"code": subject["subject_id"], "weight": weight,
                          "visits": {v["week"]: v for v in visits if v["kind"] == "infusion"}})
    return arm_a


def _dosing_lot(journey: Journey, wcb: str, vial_number: int, week: int, subjects: list[dict[str, Any]]) -> str:
    """Thawed three days before the infusion day, grown one passage, formulated and filled the day before
    into one named bag per subject for this week's visit, QC'd on the rapid tests, released by QA."""
    day = DAY0 + timedelta(weeks=week)
    thawed = site_time(day - timedelta(days=3), 8)
    with journey.on(thawed):
        lot = journey.thaw(f"{wcb}-V{vial_number:03d}", "dosing")
        journey.step(lot, "media_and_reagent_lots", medium="MSC-SFM 2701")
    seeded = thawed + timedelta(hours=1)
    with journey.on(site_time(day - timedelta(days=1), 12)):
        harvested = journey.grow(lot, range(5, 6), seeded)
        journey.step(lot, "wash", harvested + timedelta(minutes=30), washes=2)
        journey.post(f"/lots/{lot}/formulation", "lab", {"cells_per_ml": CELLS_PER_ML, "volume_ml": 230,
                                                         "performed_at": (harvested + timedelta(hours=1)).isoformat()})
        for subject in subjects:
            journey.post(f"/visits/{subject['visits'][week]['visit_id']}/weight", "coordinator",
                         {"weight_kg": subject["weight"]})
        filled = journey.post(f"/lots/{lot}/bags", "lab", {
            "named": [{"subject_id": s["code"], "week": week} for s in subjects], "anticoagulant": "heparin",
            "anticoagulant_lot": "HEP2701A", "anticoagulant_volume_ml": 5,
            "filled_at": (harvested + timedelta(hours=2)).isoformat()})
        assert [b["volume_ml"] for b in filled["bags"]] == [55.0, 70.0, 90.0]
        journey.verify_all(lot)
    with journey.on(site_time(day - timedelta(days=1), 17)):
        journey.results(lot, RAPID | {"gram_stain": "negative"}, "final_product", harvested + timedelta(hours=2))
        journey.release(lot)
    return lot


def _infuse(journey: Journey, lot: str, week: int, subjects: list[dict[str, Any]]) -> None:
    """Allocated the evening before, dispatched and received on the ward in the morning, infused at the
    planned time after the two-nurse bedside check."""
    day = DAY0 + timedelta(weeks=week)
    made_for = {b["made_for_visit_id"]: b["bag_id"] for b in journey.get(f"/bags?lot_id={lot}", "coordinator")["bags"]}
    bags = {s["code"]: made_for[s["visits"][week]["visit_id"]] for s in subjects}
    with journey.on(site_time(day - timedelta(days=1), 18)):
        for subject in subjects:
            journey.post(f"/visits/{subject['visits'][week]['visit_id']}/allocation", "coordinator",
                         {"bag_id": bags[subject["code"]]})
    with journey.on(site_time(day, 7, 30)):
        for subject in subjects:
            for event, by, where in (("dispatched", "lab", "cell processing lab"),
                                     ("received_at_ward", "nurse", "liver transplant ward")):
                journey.post("/custody", by, {"item": bags[subject["code"]], "event": event, "temperature_c": 5.0,
                                              "location": where})
    planned = datetime.fromisoformat(subjects[0]["visits"][week]["planned_at"])
    started = []
    with journey.on(planned + timedelta(minutes=5)):
        for subject in subjects:
            with in_db(journey.app) as session:
                row = session.exec(select(Bag).where(Bag.bag_code == bags[subject["code"]])).one()
                scan = bag_2d(row)
            started.append(journey.post("/infusions", "nurse", {
                "wristband": wristband_data(subject["code"]), "bag": scan, "verifier": signature("nurse2", "verified"),
                "ultrasound_monitored": True, "vital_signs": {"heart_rate": 74, "bp": "120/80"}})["infusion_id"])
    with journey.on(planned + timedelta(minutes=50)):
        for subject, infusion_id in zip(subjects, started, strict=True):
            journey.post(f"/infusions/{infusion_id}/complete", "nurse", {
                "volume_ml": subject["weight"], "ended_at": (planned + timedelta(minutes=40)).isoformat(),
                "ultrasound_monitored": True})


def _chain(node: dict[str, Any]) -> list[str]:
    """The kinds of record on the first path from the cord down to a bag."""
    path = [node["type"]]
    while node["children"]:
        node = next((c for c in node["children"] if c["children"] or c["type"] == "bag"), node["children"][0])
        path.append(node["type"])
    return path


def _keys(node: dict[str, Any], kind: str) -> list[str]:
    found = [node["key"]] if node["type"] == kind else []
    for child in node["children"]:
        found += _keys(child, kind)
    return found


def _infused(app) -> list[tuple[Infusion, Bag]]:
    with in_db(app) as session:
        return list(session.exec(select(Infusion, Bag).join(Bag, Bag.id == Infusion.bag_id)).all())


def test_one_cord_supplies_three_subjects_four_infusions_each_through_two_cell_banks(app, api):
    journey = Journey(app, api)
    collected = site_time(DAY0 - timedelta(days=40), 6)
    with journey.on(collected + timedelta(hours=4)):
        with in_db(app) as session:
            din = make_collection(session, collected_at=collected, donor_code="DONOR-SUPPLY").din
            materials.released(session, "HEP2701A")  # received and released before the fills that name it
        journey.post("/lots", "lab", {"collection_din": din, "purpose": "bank"})
        journey.step(din, "tissue_processing", collected + timedelta(hours=3), method="explant")
        journey.step(din, "media_and_reagent_lots", collected + timedelta(hours=3, minutes=30), medium="MSC-SFM 2612")
        _storage(journey)
    with journey.on(site_time(DAY0 - timedelta(days=33), 9)):
        harvested = journey.grow(din, range(0, 3), collected + timedelta(hours=5))
        mcb = journey.freeze(din, "MCB", 2, 10, harvested + timedelta(hours=1))
        journey.shelve(mcb, "MCB-BOX")
        journey.verify_all(din)
        _bank_panel(journey, din, harvested + timedelta(hours=1))
    with journey.on(site_time(DAY0 - timedelta(days=18), 9)):  # the bank's 14-day sterility culture is read
        journey.release(din)
        wcb_lot = journey.thaw(f"{mcb}-V001", "bank")
        journey.step(wcb_lot, "media_and_reagent_lots", medium="MSC-SFM")
    with journey.on(site_time(DAY0 - timedelta(days=13), 9)):
        harvested = journey.grow(wcb_lot, range(3, 5), site_time(DAY0 - timedelta(days=18), 10))
        wcb = journey.freeze(wcb_lot, "WCB", 4, 20, harvested + timedelta(hours=1))
        journey.shelve(wcb, "WCB-BOX")
        journey.verify_all(wcb_lot)
        _bank_panel(journey, wcb_lot, harvested + timedelta(hours=1))
    with journey.on(site_time(DAY0 - timedelta(days=4), 9)):
        journey.release(wcb_lot)
        subjects = _subjects(journey)

    lots = []
    for n, week in enumerate(WEEKS, start=1):
        lots.append(_dosing_lot(journey, wcb, n, week, subjects))
        _infuse(journey, lots[-1], week, subjects)

    tree = journey.get(f"/collections/{din}/genealogy")
    assert (tree["type"], tree["key"]) == ("cord", din)
    assert _chain(tree) == ["cord", "lot", "bank", "vial", "lot", "bank", "vial", "lot", "bag"]
    assert sorted(_keys(tree, "bag")) == sorted(bag.bag_code for _, bag in _infused(app))
    infusions = _infused(app)
    with in_db(app) as session:
        vials = session.exec(select(Vial)).all()
        placed = {p.item_id for p in session.exec(select(Placement).where(Placement.item_type == "vial"))}
        still_placed = {p.item_id for p in session.exec(select(Placement).where(
            Placement.item_type == "vial", Placement.taken_at.is_(None)))}
    assert len(infusions) == len(WEIGHTS) * len(WEEKS)
    assert all(infusion.started_at < bag.expires_at for infusion, bag in infusions), "every bag in date"
    assert {bag.din for _, bag in infusions} == {din} and len({bag.lot_id for _, bag in infusions}) == len(WEEKS)
    by_week = sorted({infusion.started_at.astimezone(SITE).date() for infusion, _ in infusions})
    assert by_week == [DAY0 + timedelta(weeks=w) for w in WEEKS], "each infusion on its planned day"
    assert len(vials) == 30 and placed == {v.id for v in vials}, "every vial had a position"
    assert still_placed == {v.id for v in vials if v.state == "frozen"}, "a vial leaves its position only to thaw"
    assert sum(v.state == "thawed" for v in vials) == 1 + len(WEEKS)
