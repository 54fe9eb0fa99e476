"""Demo manufacturing data: three cords at three stages, a batch of placebo bags, and a cord whose donor
is pending (one maternal result came in late, one is still awaited).

Made through the same services as real work, acting as the demo lab technician (``lab``) and, for
second-person verifications, a second lab technician (``lab2``) who signs with the demo password (not
QA: a reviewer who verified a step took part in making the lot and may not release it); so the
demo records are checked, audited and signed exactly like real ones. Times lie in the past and follow
one timeline per cord (collected, received, passages every three days, harvest, formulation, fill)
ending a few hours ago, so the filled bags are still within their shelf life when the demo starts.
Safe to run twice: a cord whose donor code exists, or a placebo batch whose saline lot exists, is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.core.types import utcnow
from cellchain.demo import equipment as demo_equipment
from cellchain.demo import materials as demo_materials
from cellchain.demo.equipment import USED
from cellchain.manufacturing import bags, batch, collections, donor_results, lots
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.people import accounts
from cellchain.people.models import User
from cellchain.ward import custody

DEMO_PASSWORD = "cellchain-demo"  # noqa: S105 - the published demo password (demo.loader.DEMO_PASSWORD)
DEMO_SALINE_LOT = "NS2611B"
SCREENING = {"HIV-1/2": "negative", "HBV": "negative", "HCV": "negative", "HTLV-I/II": "negative",
             "syphilis": "negative", "CMV": "negative"}
# (seeded, harvested) per passage: 3.0, 2.58, 2.32 and 2.0 population doublings.
PASSAGE_COUNTS = ((1_000_000, 8_000_000), (4_000_000, 24_000_000), (12_000_000, 60_000_000),
                  (60_000_000, 240_000_000))
PASSAGE_DAYS = timedelta(days=3)
BETWEEN_PASSAGES = timedelta(hours=2)


@dataclass(frozen=True)
class DemoCord:
    donor_code: str
    purpose: str  # expansion | awaiting_qc | to_release
    passages: int
    fill_hours_ago: float | None  # None: still in expansion


DEMO_CORDS = (
    DemoCord("DEMO-CORD-0001", "expansion", 3, None),
    DemoCord("DEMO-CORD-0002", "awaiting_qc", 4, 5),
    DemoCord("DEMO-CORD-0003", "to_release", 4, 3),
)


def demo_lot(session: Session, purpose: str) -> Lot | None:
    """The demo lot made for ``purpose`` (``to_release`` is the one the QC and QA demos finish)."""
    cord = next(c for c in DEMO_CORDS if c.purpose == purpose)
    statement = (select(Lot).join(Collection, Collection.id == Lot.collection_id)
                 .where(Collection.donor_code == cord.donor_code))
    return session.exec(statement).first()


@dataclass(frozen=True)
class Actors:
    lab: User
    verifier: User
    policy: accounts.Policy
    config: Mapping[str, Any]


def _seed_passage(collected: datetime, number: int) -> datetime:
    return collected + timedelta(hours=6) + number * (PASSAGE_DAYS + BETWEEN_PASSAGES)


def _collected_at(cord: DemoCord, now: datetime) -> datetime:
    """Back from the fill (or from now, for a lot still growing) to the cord's collection."""
    last_harvest = _seed_passage(now, cord.passages - 1) + PASSAGE_DAYS - now
    if cord.fill_hours_ago is None:
        return now - last_harvest - timedelta(hours=14)
    return now - timedelta(hours=cord.fill_hours_ago) - last_harvest - timedelta(hours=4)


def _register(session: Session, who: Actors, cord: DemoCord, collected: datetime) -> Collection:
    return register_cord(session, who.lab, who.config, cord.donor_code, collected)


def register_cord(session: Session, lab: User, cfg: Mapping[str, Any], donor_code: str,
                  collected: datetime) -> Collection:
    """A demo cord registered, shipped and received at the lab (also for the banking demo)."""
    row = collections.register_collection(
        session, actor=lab, fin=cfg["FACILITY_FIN"], tz=ZoneInfo(cfg["SITE_TIMEZONE"]),
        ranges=cfg["TEMPERATURE_RANGES"],
        data={"donor_code": donor_code, "collected_at": collected, "site": "Delivery suite, maternity ward",
              "consent_obtained": True, "screening": SCREENING, "specimen_collected_at": collected - timedelta(days=1),
              "medical_history_ok": True})
    for event, hours, place, temperature in (("shipped", 1, "Delivery suite, maternity ward", 18.0),
                                             ("received", 3, "cell processing lab", 6.0)):
        custody.record_handover(session, actor=lab, record=row, ranges=cfg["TEMPERATURE_RANGES"],
                                handover=custody.Handover(event=event, location=place, temperature_c=temperature,
                                                          occurred_at=collected + timedelta(hours=hours)))
    return row


def record_step(session: Session, who: Actors, lot: Lot, code: str, when: datetime, details: dict[str, Any],
                materials: list[dict[str, Any]] | None = None) -> None:
    steps = batch.step_definitions(who.config["BATCH_RECORD_STEPS"])
    batch.record_step(session, actor=who.lab, lot_number=lot.lot_number, steps=steps,
                      data={"step": code, "details": details, "performed_at": when, "materials": materials,
                            "instruments": USED.get(code)})


def _grow(session: Session, who: Actors, lot: Lot, cord: DemoCord, collected: datetime) -> datetime:
    record_step(session, who, lot, "tissue_processing", collected + timedelta(hours=4),
          {"method": "explant", "tissue_g": 12.5})
    # the media lots scanned as released material lots (demo/materials.py)
    record_step(session, who, lot, "media_and_reagent_lots", collected + timedelta(hours=5), {},
                [{"material_lot": "MSCSFM2611", "quantity": 500}, {"material_lot": "HPL2610C", "quantity": 50},
                 {"material_lot": "TRY2609", "quantity": 20}])
    harvested = collected
    for number, (seeded, cells) in enumerate(PASSAGE_COUNTS[:cord.passages]):
        seeded_at = _seed_passage(collected, number)
        harvested = seeded_at + PASSAGE_DAYS
        lots.record_passage(session, actor=who.lab, lot_number=lot.lot_number,
                            limit=who.config["PASSAGE_LIMIT"],
                            data={"number": number, "seeded_cells": seeded, "harvested_cells": cells,
                                  "viability_pct": 96.0 - number, "seeded_at": seeded_at, "harvested_at": harvested,
                                  "instruments": USED["passage"]})
    return harvested


def _finish(session: Session, who: Actors, lot: Lot, last_harvest: datetime) -> None:
    cells = PASSAGE_COUNTS[-1][1]
    number = lot.lot_number
    lots.record_harvest(session, actor=who.lab, lot_number=number,
                        data={"harvested_cells": cells, "harvested_at": last_harvest + timedelta(hours=1),
                              "instruments": USED["harvest"]})
    record_step(session, who, lot, "wash", last_harvest + timedelta(hours=2), {"washes": 2, "buffer lot": "PBS2611"})
    lots.record_formulation(session, actor=who.lab, lot_number=number,
                            data={"cells_per_ml": 1_000_000, "volume_ml": 220,
                                  "performed_at": last_harvest + timedelta(hours=3),
                                  "instruments": USED["formulation"]})
    bags.fill_bags(session, actor=who.lab, lot_number=number, settings=bags.FillSettings.from_config(who.config),
                   data={"count": 3, "volume_ml": 70, "total_cells": 70_000_000, "anticoagulant": "heparin",
                         "anticoagulant_lot": "HEP2611A", "anticoagulant_volume_ml": 5,
                         "filled_at": last_harvest + timedelta(hours=4), "instruments": USED["fill"]})


def verify_all(session: Session, who: Actors, lot: Lot) -> None:
    """A second lab technician verifies every step that needs a second person (never their own work)."""
    steps = batch.step_definitions(who.config["BATCH_RECORD_STEPS"])
    signature = signatures.SignatureInput(username=who.verifier.username, password=DEMO_PASSWORD, meaning="verified")
    for entry in batch.batch_record(session, lot, steps).entries:
        if entry.awaiting_verification:
            batch.verify_step(session, actor=who.verifier, lot_number=lot.lot_number, step_id=entry.step.id,
                              signature=signature, policy=who.policy)


def _make_cord(session: Session, who: Actors, cord: DemoCord, now: datetime) -> int:
    collected = _collected_at(cord, now)
    row = _register(session, who, cord, collected)
    lot = lots.start_lot(session, actor=who.lab, collection_din=row.din,
                         started_at=collected + timedelta(hours=3, minutes=30))
    last_harvest = _grow(session, who, lot, cord, collected)
    if cord.fill_hours_ago is None:
        verify_all(session, who, lot)
        return 2
    _finish(session, who, lot, last_harvest)
    verify_all(session, who, lot)
    return 2 + 3


def _placebo(session: Session, who: Actors, now: datetime) -> int:
    if session.exec(select(Bag.id).where(Bag.kind == "placebo", Bag.saline_lot == DEMO_SALINE_LOT)).first():
        return 0
    filled = bags.fill_placebo(session, actor=who.lab, settings=bags.FillSettings.from_config(who.config),
                               data={"count": 10, "saline_lot": DEMO_SALINE_LOT, "filled_at": now - timedelta(days=1)})
    return len(filled)


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """Load the demo cords, lots, bags and placebo batch that are not there yet; the number of records made."""
    lab, verifier = accounts.find_user(session, "lab"), accounts.find_user(session, "lab2")
    if lab is None or verifier is None:
        raise RuntimeError("load the demo people (services.demo.load_people) before the lab demo")
    demo_materials.load(session, config=config, policy=policy)  # the released lots the cords use (none again)
    who = Actors(lab, verifier, policy, config)
    now = utcnow()
    demo_equipment.load(session, config=config, policy=policy)  # the instruments its steps use, if not there yet
    created = 0
    for cord in DEMO_CORDS:
        if session.exec(select(Collection.id).where(Collection.donor_code == cord.donor_code)).first() is None:
            created += _make_cord(session, who, cord, now)
    return created + _placebo(session, who, now) + _pending_cord(session, who, now)


PENDING_DONOR = "DEMO-CORD-0004"


def _pending_cord(session: Session, who: Actors, now: datetime) -> int:
    """A cord registered two days ago with its HTLV-I/II and CMV results still to come; the CMV result came in
    yesterday (entered late, with its laboratory), HTLV-I/II is still awaited, so the donor is pending and the
    investigator has nothing to sign yet."""
    if session.exec(select(Collection.id).where(Collection.donor_code == PENDING_DONOR)).first() is not None:
        return 0
    collected = now - timedelta(days=2)
    cfg = who.config
    awaited = {k: v for k, v in SCREENING.items() if k not in ("HTLV-I/II", "CMV")}
    row = collections.register_collection(
        session, actor=who.lab, fin=cfg["FACILITY_FIN"], tz=ZoneInfo(cfg["SITE_TIMEZONE"]),
        ranges=cfg["TEMPERATURE_RANGES"],
        data={"donor_code": PENDING_DONOR, "collected_at": collected, "site": "Delivery suite, maternity ward",
              "consent_obtained": True, "screening": awaited, "specimen_collected_at": collected,
              "medical_history_ok": True})
    reported = (now - timedelta(days=1)).astimezone(ZoneInfo(cfg["SITE_TIMEZONE"])).date()
    donor_results.enter_result(session, actor=who.lab, din=row.din, today=reported,
                               data={"test": "CMV", "result": "negative", "result_date": reported.isoformat(),
                                     "laboratory": "Provincial CDC virology laboratory"})
    return 1
