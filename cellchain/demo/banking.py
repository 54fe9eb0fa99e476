"""Demo cell bank: one cord grown as a bank lot and frozen into a master cell bank of ten vials, awaiting
QA release (the bank's release is its lot's). Loaded after the lab demo; safe to run twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from cellchain.banking import banks
from cellchain.core.types import utcnow
from cellchain.demo import lab as demo_lab
from cellchain.manufacturing import lots
from cellchain.manufacturing.models import Collection
from cellchain.people import accounts

BANK_CORD = demo_lab.DemoCord("DEMO-CORD-0010", "bank", 3, None)
VIALS = 10


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The banked cord (collection, lot, MCB and its vials) unless it is there; the number of records made."""
    if session.exec(select(Collection.id).where(Collection.donor_code == BANK_CORD.donor_code)).first():
        return 0
    lab = accounts.find_user(session, "lab")
    collected = utcnow() - timedelta(days=14)
    cord = demo_lab.register_cord(session, lab, config, BANK_CORD.donor_code, collected)
    lot = lots.start_lot(session, actor=lab, collection_din=cord.din, purpose="bank",
                         started_at=collected + timedelta(hours=3, minutes=30))
    harvested = collected
    for number, (seeded, cells) in enumerate(demo_lab.PASSAGE_COUNTS[:BANK_CORD.passages]):
        seeded_at = collected + timedelta(hours=6, days=3 * number)
        harvested = seeded_at + timedelta(days=2, hours=20)
        lots.record_passage(session, actor=lab, lot_number=lot.lot_number, limit=config["PASSAGE_LIMIT"],
                            data={"number": number, "seeded_cells": seeded, "harvested_cells": cells,
                                  "viability_pct": 95.0, "seeded_at": seeded_at, "harvested_at": harvested})
    banks.freeze_bank(session, actor=lab, lot_number=lot.lot_number, ranges=config["TEMPERATURE_RANGES"],
                      data={"level": "MCB", "passage": BANK_CORD.passages - 1, "vial_count": VIALS,
                            "cells_per_vial": 5_000_000, "cryoprotectant": "10% DMSO",
                            "frozen_at": harvested + timedelta(hours=1)})
    return 3 + VIALS
