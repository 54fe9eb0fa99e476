"""Freezing a bank lot into a cell bank (MCB or WCB) of numbered vials, and reading banks.

One transaction writes the bank, every vial with its opening custody event ``frozen``, the batch step,
the lot's new status (awaiting release: QA releases the bank by releasing its lot) and an audit entry
for each. The rules are in ``rules/tiers.py``; this module adds what needs the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import CellBank, Vial
from cellchain.banking.rules import tiers
from cellchain.core import db
from cellchain.core.db import one
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing import batch
from cellchain.manufacturing.lot_access import effective_passages, lock_lot
from cellchain.manufacturing.models import Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.ward import custody

FREEZE_LOCATION = "cell processing lab"


def bank_by_code(session: Session, code: Any, *, for_update: bool = False) -> CellBank:
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise Invalid({"bank_code": translated(N_("give the bank's code (MCB-<DIN> or WCB-<DIN>-<nn>)"))})
    return one(session, select(CellBank).where(CellBank.bank_code == code.strip()), f"no cell bank {code.strip()}",
               for_update=for_update)


def source_bank(session: Session, lot: Lot) -> CellBank | None:
    """The bank whose vial started ``lot`` (None for a lot started from its cord)."""
    if lot.source_vial_id is None:
        return None
    return session.exec(select(CellBank).join(Vial, Vial.bank_id == CellBank.id)
                        .where(Vial.id == lot.source_vial_id)).one()


def bank_of_lot(session: Session, lot_id: int) -> CellBank | None:
    return session.exec(select(CellBank).where(CellBank.lot_id == lot_id)).first()


def _sequence(session: Session, level: str, din: str) -> int:
    if level == tiers.MCB:
        return 1
    return session.exec(select(func.count()).select_from(CellBank)
                        .where(CellBank.din == din, CellBank.level == level)).one() + 1


def freeze_bank(session: Session, *, actor: Actor, lot_number: Any, data: Mapping[str, Any],
                ranges: Mapping[str, Any]) -> CellBank:
    """Freeze a bank lot's cells into a bank of ``vial_count`` vials at a passage the lot has reached."""
    require_role(actor.roles, "lab", action=N_("freeze a cell bank"))
    entry = tiers.parse_freeze(data, now=utcnow())
    lot = lock_lot(session, lot_number)
    passages = effective_passages(session, lot.id)
    source = source_bank(session, lot)
    reasons = tiers.guard_freeze(purpose=lot.purpose, status=lot.status, source_level=source.level if source else None,
                                 level=entry.level, passage=entry.passage, reached=[p.number for p in passages],
                                 banked=bank_of_lot(session, lot.id) is not None)
    at = next((p for p in passages if p.number == entry.passage), None)
    if at is not None and entry.frozen_at < at.harvested_at:
        reasons.append(Reason(tiers.BANK_TIME_ORDER, number=at.number))
    if reasons:
        raise Refused(reasons)
    code = tiers.bank_code(entry.level, lot.din, _sequence(session, entry.level, lot.din))
    bank = CellBank(bank_code=code, lot_id=lot.id, level=entry.level, din=lot.din, vial_count=entry.vial_count,
                    cells_per_vial=entry.cells_per_vial, cryoprotectant=entry.cryoprotectant,
                    frozen_at=entry.frozen_at, passage=entry.passage, cumulative_doublings=at.cumulative_doublings,
                    created_by=actor.id)
    session.add(bank)
    session.flush()
    details = {"bank_code": code, "level": bank.level, "lot": lot.lot_number, "din": bank.din,
               "vial_count": bank.vial_count, "cells_per_vial": bank.cells_per_vial,
               "cryoprotectant": bank.cryoprotectant, "passage": bank.passage,
               "cumulative_doublings": round(bank.cumulative_doublings, 4)}
    trail.record(session, actor=actor, record_type="cell_bank", record_id=bank.id, action="freeze",
                 new={**details, "frozen_at": bank.frozen_at})
    vials = [Vial(bank_id=bank.id, number=n, vial_code=tiers.vial_code(code, n))
             for n in range(1, entry.vial_count + 1)]
    session.add_all(vials)
    session.flush()
    for vial in vials:
        trail.record(session, actor=actor, record_type="vial", record_id=vial.id, action="freeze",
                     new={"vial_code": vial.vial_code, "bank_code": code, "state": vial.state})
        custody.record_system_event(session, actor=actor, record=vial, ranges=ranges, handover=custody.Handover(
            event="frozen", location=FREEZE_LOCATION, occurred_at=bank.frozen_at))
    batch.add_step(session, actor=actor, lot=lot, key="bank_freeze", details=details, performed_at=bank.frozen_at,
                   instruments=data.get("instruments"))
    lot.status = "awaiting_release"
    session.add(lot)
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="freeze",
                 old={"status": "in_process"}, new={"status": lot.status, "bank_code": code})
    return bank


@dataclass(frozen=True)
class BankRow:
    """A bank with its lot's number and status (a bank's status is its lot's release status) and vial counts."""

    bank: CellBank
    lot_number: str
    status: str
    counts: dict[str, int]

    @property
    def frozen_left(self) -> int:
        return self.counts.get("frozen", 0)


def _counts(session: Session, bank_ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {i: {} for i in bank_ids}
    if bank_ids:
        statement = (select(Vial.bank_id, Vial.state, func.count()).where(Vial.bank_id.in_(bank_ids))
                     .group_by(Vial.bank_id, Vial.state))
        for bank_id, state, count in session.exec(statement):
            found[bank_id][state] = count
    return found


def list_banks(session: Session, *, level: str | None = None, din: str | None = None,
               page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of banks, newest first (keyset on the id), each with its lot's status and how many vials
    are frozen, thawed, discarded."""
    if level is not None and level not in (tiers.MCB, tiers.WCB):
        raise Invalid({"level": translated(N_("MCB or WCB"))})
    statement = select(CellBank, Lot.lot_number, Lot.status).join(Lot, Lot.id == CellBank.lot_id)
    if level:
        statement = statement.where(CellBank.level == level)
    if din:
        statement = statement.where(CellBank.din == din.strip())
    found = db.keyset(session, statement, (CellBank.id,), page, descending=True)
    counts = _counts(session, [bank.id for bank, _, _ in found.rows])
    return db.Page([BankRow(bank, number, status, counts[bank.id]) for bank, number, status in found.rows],
                   found.next_key)


@dataclass(frozen=True)
class BankView:
    row: BankRow
    vials: list[Vial]
    started: dict[int, str]  # vial id -> the lot number its thaw started
    source_vial_code: str | None  # the vial the bank's lot was thawed from (a WCB's MCB vial)


def bank_view(session: Session, code: Any) -> BankView:
    bank = bank_by_code(session, code)
    lot = session.get(Lot, bank.lot_id)
    vials = list(session.exec(select(Vial).where(Vial.bank_id == bank.id).order_by(Vial.number)))
    started = {vial_id: number for vial_id, number in session.exec(
        select(Vial.id, Lot.lot_number).join(Lot, Lot.id == Vial.started_lot_id).where(Vial.bank_id == bank.id))}
    source = session.get(Vial, lot.source_vial_id) if lot.source_vial_id else None
    counts: dict[str, int] = {}
    for vial in vials:
        counts[vial.state] = counts.get(vial.state, 0) + 1
    return BankView(BankRow(bank, lot.lot_number, lot.status, counts), vials, started,
                    source.vial_code if source else None)
