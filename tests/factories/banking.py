"""Cell banks and vials made directly through the models, for tests (and the genealogy benchmark) that
need a tree of a given size without freezing and thawing through every step."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from cellchain.banking.models import CellBank, Vial
from cellchain.banking.rules import tiers
from cellchain.manufacturing.models import Collection, Lot
from cellchain.ward.models import CustodyEvent
from tests.factories.lab import make_collection, user


def bank_lot(session: Session, collection: Collection, *, status: str = "released", source: Vial | None = None,
             number: str | None = None, purpose: str = "bank", first_passage: int = 0) -> Lot:
    creator = user(session, "lab")
    lot = Lot(lot_number=number or collection.din, din=collection.din, collection_id=collection.id, purpose=purpose,
              source_vial_id=source.id if source else None, first_passage=first_passage, status=status,
              spec_version="UCMSC-1", created_by=creator.id, created_at=collection.collected_at + timedelta(hours=4))
    session.add(lot)
    session.flush()
    if source is not None:
        source.state, source.custody_state, source.started_lot_id = "thawed", "thawed", lot.id
        source.thawed_at, source.post_thaw_viability_pct = collection.collected_at + timedelta(days=5), 90.0
        session.add(source)
    return lot


def make_bank(session: Session, lot: Lot, *, level: str = tiers.MCB, vials: int = 10, passage: int = 2,
              sequence: int = 1) -> CellBank:
    """A bank of ``vials`` frozen vials at the lab (each with its ``frozen`` custody event)."""
    creator = user(session, "lab")
    code = tiers.bank_code(level, lot.din, sequence)
    frozen_at = lot.created_at + timedelta(days=3)
    bank = CellBank(bank_code=code, lot_id=lot.id, level=level, din=lot.din, vial_count=vials,
                    cells_per_vial=5_000_000, cryoprotectant="10% DMSO", frozen_at=frozen_at, passage=passage,
                    cumulative_doublings=8.5, created_by=creator.id)
    session.add(bank)
    session.flush()
    rows = [Vial(bank_id=bank.id, number=n, vial_code=tiers.vial_code(code, n), custody_state="at_lab")
            for n in range(1, vials + 1)]
    session.add_all(rows)
    session.flush()
    session.add_all([CustodyEvent(item_type="vial", item_id=v.id, event="frozen", to_state="at_lab",
                                  location="cell processing lab", occurred_at=frozen_at, recorded_by=creator.id)
                     for v in rows])
    session.flush()
    return bank


def first_vial(session: Session, bank: CellBank, number: int = 1) -> Vial:
    from sqlmodel import select

    return session.exec(select(Vial).where(Vial.bank_id == bank.id, Vial.number == number)).one()


def banked_cord(session: Session, *, wcb_count: int = 1, vials_per_bank: int = 10) -> Collection:
    """A cord with a released MCB, ``wcb_count`` released WCBs (each from its own MCB vial) and a dosing lot
    thawed from the first WCB's first vial."""
    cord = make_collection(session)
    mcb = make_bank(session, bank_lot(session, cord), vials=vials_per_bank)
    wcbs = []
    for n in range(1, wcb_count + 1):
        lot = bank_lot(session, cord, source=first_vial(session, mcb, n), number=f"{cord.din}-L{n:02d}",
                       first_passage=3)
        wcbs.append(make_bank(session, lot, level=tiers.WCB, vials=vials_per_bank, passage=4, sequence=n))
    bank_lot(session, cord, source=first_vial(session, wcbs[0]), number=f"{cord.din}-L{wcb_count + 1:02d}",
             purpose="dosing", first_passage=5, status="in_process")
    session.flush()
    return cord
