"""Demo cell banks, the two-tier system of ICH Q5D (docs/rules.md, "Banking"), made months ago:

cord ``DEMO-CORD-0010`` -> bank lot -> master cell bank (MCB, ten vials) tested on the bank specification
(``UCMSC-BANK-1``, samples at stage ``bank``) and released by QA -> one MCB vial taken out of the tank and
thawed -> working-bank lot -> working cell bank (WCB, twenty vials), tested and released. Every vial goes
into a position of a box in the LN2 tank when its bank is frozen, so the box maps show both banks; a vial is
taken out of its position before its thaw. The dosing lots of the supply demo (``demo/supply.py``) are thawed
from WCB vials with ``thaw_for_dosing``.

Through the real operations as the demo people (lab freezes and thaws, lab2 verifies, QC enters results,
QA releases with the demo password), at the times they happened. Safe to run twice: nothing is added once
the banked cord exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.banking import banks, vials
from cellchain.banking.models import CellBank, Vial
from cellchain.core.types import utcnow
from cellchain.demo import equipment as demo_equipment
from cellchain.demo import lab as demo_lab
from cellchain.demo import materials as demo_materials
from cellchain.demo import qc as demo_qc
from cellchain.demo import storage as demo_storage
from cellchain.demo.equipment import USED
from cellchain.manufacturing import batch, lots
from cellchain.manufacturing.models import Collection, Lot
from cellchain.people import accounts
from cellchain.quality import qc, release
from cellchain.storage import placements
from cellchain.storage.models import StorageBox

BANK_CORD = demo_lab.DemoCord("DEMO-CORD-0010", "bank", 3, None)
MCB_VIALS, WCB_VIALS = 10, 20
COLLECTED_DAYS_AGO = 200
CELLS_PER_VIAL = 5_000_000
# A bank is released on its full panel, the sterility culture included (spec_limits.BANK_SPEC).
BANK_VALUES: dict[str, Any] = {**demo_qc.DEMO_VALUES, "sterility": "negative", "karyotype": "normal"}


def vial_letter(config: Mapping[str, Any]) -> str:
    return config["LOCAL_DATA_IDENTIFIERS"]["vial"]


def _passages(session: Session, who: demo_lab.Actors, lot: Lot, first: int, count: int, start: datetime) -> datetime:
    """``count`` passages from number ``first``, three days each; the last harvest's time."""
    harvested = start
    for offset in range(count):
        seeded, cells = demo_lab.PASSAGE_COUNTS[offset]
        seeded_at = start + offset * (demo_lab.PASSAGE_DAYS + demo_lab.BETWEEN_PASSAGES)
        harvested = seeded_at + demo_lab.PASSAGE_DAYS
        lots.record_passage(session, actor=who.lab, lot_number=lot.lot_number, limit=who.config["PASSAGE_LIMIT"],
                            data={"number": first + offset, "seeded_cells": seeded, "harvested_cells": cells,
                                  "viability_pct": 95.0, "seeded_at": seeded_at, "harvested_at": harvested,
                                  "instruments": USED["passage"]})
    return harvested


def _freeze(session: Session, who: demo_lab.Actors, lot: Lot, level: str, passage: int, count: int,
            harvested: datetime) -> CellBank:
    lots.record_harvest(session, actor=who.lab, lot_number=lot.lot_number,
                        data={"harvested_cells": demo_lab.PASSAGE_COUNTS[0][1], "harvested_at": harvested,
                              "instruments": USED["harvest"]})
    bank = banks.freeze_bank(session, actor=who.lab, lot_number=lot.lot_number,
                             ranges=who.config["TEMPERATURE_RANGES"],
                             data={"level": level, "passage": passage, "vial_count": count,
                                   "cells_per_vial": CELLS_PER_VIAL, "cryoprotectant": "10% DMSO",
                                   "frozen_at": harvested + timedelta(hours=1), "instruments": USED["bank_freeze"]})
    demo_lab.verify_all(session, who, lot)
    return bank


def _store(session: Session, who: demo_lab.Actors, bank: CellBank, box_code: str) -> None:
    """Every vial of the bank into the box, row by row, an hour after the freeze (from the controlled-rate
    freezer into the tank's vapour phase)."""
    box = session.exec(select(StorageBox).where(StorageBox.code == box_code)).one()
    rows = session.exec(select(Vial).where(Vial.bank_id == bank.id).order_by(Vial.number)).all()
    for index, vial in enumerate(rows):
        placements.put(session, actor=who.lab, item=placements.Item("vial", vial.id), box=box,
                       row=index // box.columns + 1, column=index % box.columns + 1,
                       ranges=who.config["TEMPERATURE_RANGES"], now=bank.frozen_at + timedelta(hours=2))


def _test_and_release(session: Session, who: demo_lab.Actors, lot: Lot, frozen_at: datetime) -> None:
    """QC enters the bank panel (samples taken at the freeze, the culture read 14 days later); QA releases."""
    analyst, reviewer = accounts.find_user(session, "qc"), accounts.find_user(session, "qa")
    tested_at = frozen_at + timedelta(days=14)
    for code in qc.missing_tests(session, lot):
        entry = qc.ResultInput(test=code, value=BANK_VALUES[code], sample_stage="bank",
                               sampled_at=frozen_at, tested_at=tested_at)
        qc.record_result(session, actor=analyst, lot_number=lot.lot_number, entry=entry,
                         tz=ZoneInfo(who.config["SITE_TIMEZONE"]))
    signature = signatures.SignatureInput(username=reviewer.username, password=demo_lab.DEMO_PASSWORD,
                                          meaning="released")
    release.release(session, actor=reviewer, lot_number=lot.lot_number, signature=signature, policy=who.policy,
                    steps=batch.step_definitions(who.config["BATCH_RECORD_STEPS"]),
                    now=tested_at + timedelta(days=1))


# What the technician types as the reason for taking a vial out, by the purpose of the lot it starts.
TAKE_REASONS = {"dosing": "thaw to start a dosing lot", "bank": "thaw to start a bank lot"}


def take_and_thaw(session: Session, who: demo_lab.Actors, vial: Vial, purpose: str, at: datetime) -> Lot:
    """Take the vial out of its box half an hour before, then thaw it to start a lot of ``purpose``."""
    ranges = who.config["TEMPERATURE_RANGES"]
    placements.take(session, actor=who.lab, item=placements.Item("vial", vial.id), ranges=ranges,
                    reason=TAKE_REASONS[purpose], now=at - timedelta(minutes=30))
    return vials.thaw_vial(session, actor=who.lab, vial=vial.vial_code, letter=vial_letter(who.config),
                           dosing_from_mcb=who.config["DOSING_LOT_FROM_MCB"], ranges=ranges,
                           passage_limit=who.config["PASSAGE_LIMIT"],
                           data={"purpose": purpose, "post_thaw_viability_pct": 92.0, "thawed_at": at})


def next_vial(session: Session, level: str) -> Vial | None:
    """The lowest-numbered frozen vial of the demo cord's bank at ``level``."""
    statement = (select(Vial).join(CellBank, CellBank.id == Vial.bank_id)
                 .join(Lot, Lot.id == CellBank.lot_id).join(Collection, Collection.id == Lot.collection_id)
                 .where(Collection.donor_code == BANK_CORD.donor_code, CellBank.level == level,
                        Vial.state == "frozen").order_by(Vial.number))
    return session.exec(statement).first()


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The banked cord, its MCB and WCB with their vials stored, both released; the number of records made."""
    if session.exec(select(Collection.id).where(Collection.donor_code == BANK_CORD.donor_code)).first():
        return 0
    demo_materials.load(session, config=config, policy=policy)  # the released lots its steps use (none again)
    demo_equipment.load(session, config=config, policy=policy)  # the instruments its steps use, if not there yet
    who = demo_lab.Actors(accounts.find_user(session, "lab"), accounts.find_user(session, "lab2"), policy, config)
    collected = utcnow() - timedelta(days=COLLECTED_DAYS_AGO)
    cord = demo_lab.register_cord(session, who.lab, config, BANK_CORD.donor_code, collected)
    lot = lots.start_lot(session, actor=who.lab, collection_din=cord.din, purpose="bank",
                         started_at=collected + timedelta(hours=3, minutes=30))
    demo_lab.record_step(session, who, lot, "tissue_processing", collected + timedelta(hours=4),
                         {"method": "explant", "tissue_g": 11.8})
    demo_lab.record_step(session, who, lot, "media_and_reagent_lots", collected + timedelta(hours=5), {},
                         [{"material_lot": "MSCSFM2604", "quantity": 500},
                          {"material_lot": "HPL2604A", "quantity": 50}])
    harvested = _passages(session, who, lot, 0, BANK_CORD.passages, collected + timedelta(hours=6))
    mcb = _freeze(session, who, lot, "MCB", BANK_CORD.passages - 1, MCB_VIALS, harvested)
    _store(session, who, mcb, demo_storage.MCB_BOX)
    _test_and_release(session, who, lot, mcb.frozen_at)
    thawed = mcb.frozen_at + timedelta(days=20)
    wcb_lot = take_and_thaw(session, who, next_vial(session, "MCB"), "bank", thawed)
    demo_lab.record_step(session, who, wcb_lot, "media_and_reagent_lots", thawed + timedelta(hours=1), {},
                         [{"material_lot": "MSCSFM2605", "quantity": 500},
                          {"material_lot": "HPL2605B", "quantity": 50}])
    harvested = _passages(session, who, wcb_lot, mcb.passage + 1, 1, thawed + timedelta(hours=2))
    wcb = _freeze(session, who, wcb_lot, "WCB", mcb.passage + 1, WCB_VIALS, harvested)
    _store(session, who, wcb, demo_storage.WCB_BOX)
    _test_and_release(session, who, wcb_lot, wcb.frozen_at)
    return 2 + MCB_VIALS + WCB_VIALS
