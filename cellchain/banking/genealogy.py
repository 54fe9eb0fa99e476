"""A cord's genealogy: cord -> lot -> MCB -> vial -> lot -> WCB -> vial -> dosing lot -> bags, as a tree.

Read in a fixed number of statements whatever the tree's size (the cord, its lots, their banks, the
vials that were thawed, vial counts per bank and state, the bags), then assembled in memory. A bank's
vials that started nothing are counted per state, not listed: a bank of hundreds of frozen vials shows
as one line on the tree, and the bank page lists them (bench/bench_genealogy.py holds the page flat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core.errors import Invalid, NotFound
from cellchain.core.words import N_, translated
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, Collection, Lot


@dataclass
class Node:
    """One record of the tree: ``type`` cord, lot, bank, vial or bag; ``key`` its public identifier."""

    type: str
    key: str
    summary: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)


def cord_of(session: Session, record_type: str, key: Any) -> str:
    """The DIN of the cord a lot, bank, vial or bag came from (so every page can link to its genealogy)."""
    if not isinstance(key, str) or not key.strip() or len(key) > 40:
        raise Invalid({"key": translated(N_("give the record's id"))})
    key = key.strip()
    statements = {
        "collection": select(Collection.din).where(Collection.din == key),
        "lot": select(Lot.din).where(Lot.lot_number == key),
        "bank": select(CellBank.din).where(CellBank.bank_code == key),
        "vial": select(CellBank.din).join(Vial, Vial.bank_id == CellBank.id).where(Vial.vial_code == key),
        "bag": select(Lot.din).join(Bag, Bag.lot_id == Lot.id).where(Bag.bag_code == key),
    }
    if record_type not in statements:
        raise Invalid({"type": translated(N_("one of {choices}")).format(choices=', '.join(statements))})
    din = session.exec(statements[record_type]).first()
    if din is None:
        raise NotFound(translated(N_(
            "no {record_type} {key} with a cord of origin")).format(record_type=record_type, key=key))
    return din


def genealogy(session: Session, din: Any) -> Node:
    """The cord's tree (six statements, whatever the number of lots, banks, vials and bags)."""
    if not isinstance(din, str) or not din.strip():
        raise Invalid({"din": translated(N_("give the cord's DIN"))})
    cord = lookups.collection_by_din(session, din.strip())
    lots = list(session.exec(select(Lot).where(Lot.collection_id == cord.id).order_by(Lot.id)))
    lot_ids = [lot.id for lot in lots]
    banks = list(session.exec(select(CellBank).where(CellBank.lot_id.in_(lot_ids)).order_by(CellBank.id))) \
        if lot_ids else []
    bank_ids = [bank.id for bank in banks]
    counts: dict[int, dict[str, int]] = {i: {} for i in bank_ids}
    used: list[Vial] = []
    if bank_ids:
        # Only the few vials that left the freezer are counted (an index seek on (bank_id, state)); the
        # frozen ones are the rest of the bank, so a bank of thousands costs no more than one of ten.
        gone = (select(Vial.bank_id, Vial.state, func.count())
                .where(Vial.bank_id.in_(bank_ids), Vial.state.in_(("thawed", "discarded")))
                .group_by(Vial.bank_id, Vial.state))
        for bank_id, state, count in session.exec(gone):
            counts[bank_id][state] = count
        for bank in banks:
            counts[bank.id]["frozen"] = bank.vial_count - sum(counts[bank.id].values())
        # the thawed vials, found from the lots they started (the unique index on started_lot_id), never by
        # reading through a bank's vials
        used = list(session.exec(select(Vial).where(Vial.started_lot_id.in_(lot_ids)).order_by(Vial.number)))
    bags = list(session.exec(select(Bag).where(Bag.lot_id.in_(lot_ids)).order_by(Bag.id))) if lot_ids else []
    return _assemble(cord, lots, banks, counts, used, bags)


def _assemble(cord: Collection, lots: list[Lot], banks: list[CellBank], counts: dict[int, dict[str, int]],
              used: list[Vial], bags: list[Bag]) -> Node:
    lot_nodes = {lot.id: Node("lot", lot.lot_number, {"status": lot.status, "purpose": lot.purpose,
                                                     "first_passage": lot.first_passage}) for lot in lots}
    for bag in bags:
        lot_nodes[bag.lot_id].children.append(Node("bag", bag.bag_code, {
            "quality_status": bag.quality_status, "custody_state": bag.custody_state, "din": bag.din}))
    status = {lot.id: lot.status for lot in lots}
    bank_nodes = {}
    for bank in banks:
        node = Node("bank", bank.bank_code, {"level": bank.level, "status": status[bank.lot_id],
                                             "passage": bank.passage, "vials": bank.vial_count,
                                             "cumulative_doublings": round(bank.cumulative_doublings, 2),
                                             "vial_states": counts.get(bank.id, {})})
        bank_nodes[bank.id] = node
        lot_nodes[bank.lot_id].children.insert(0, node)
    vial_nodes = {}
    for vial in used:
        node = Node("vial", vial.vial_code, {"state": vial.state,
                                             "post_thaw_viability_pct": vial.post_thaw_viability_pct})
        vial_nodes[vial.id] = node
        bank_nodes[vial.bank_id].children.append(node)
    root = Node("cord", cord.din, {"eligibility": cord.eligibility, "custody_state": cord.custody_state})
    for lot in lots:
        parent = vial_nodes.get(lot.source_vial_id) if lot.source_vial_id else root
        (parent or root).children.append(lot_nodes[lot.id])
    return root

