"""Thawing a bank vial: the thaw, its post-thaw viability, the instruments it used and the lot it starts, in
one transaction.

The vial's custody moves ``at_lab -> thawed`` (a terminal state: a vial is thawed once), the vial row
records who thawed it, when and the viability, and the new lot (``<DIN>-L<nn>``) carries on the bank's
passage numbers and population doublings (``rules/tiers.py``). The instruments scanned at the thaw (a water
bath or dry thawing device) must each be fit for use at the thaw's time, as a batch step's must
(docs/rules.md, "Equipment"). Each change writes its audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import CellBank, Vial
from cellchain.banking.rules import tiers
from cellchain.core.db import one
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.equipment import usage
from cellchain.identifiers.isbt128 import parse_local
from cellchain.identifiers.scans import parse_scan
from cellchain.manufacturing import lots
from cellchain.manufacturing.models import Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.ward import custody
from cellchain.ward.models import CustodyEvent

THAW_LOCATION = "cell processing lab"


def scanned_vial_code(raw: Any, letter: str) -> str:
    """The vial code in a scan of its label (its 2D code, or ``&<letter><code>`` alone) or as typed
    (``MCB-...-V001``)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 80:
        raise Invalid({"vial": translated(N_("scan the vial's label or type its code"))})
    text = raw.strip()
    if text.startswith("=+"):
        try:
            scan = parse_scan(text)
        except Invalid:
            raise Invalid({"vial": translated(N_("the 2D code could not be read; scan it again"))}) from None
        codes = [s.fields["identifier"] for s in scan.fields.get("structures", ())
                 if s.kind == "local" and s.fields["letter"] == letter]
        if not codes:
            raise Invalid({"vial": translated(N_("that 2D code is not a vial label's"))})
        return codes[0]
    if text.startswith("&"):
        try:
            found, code = parse_local(text)
        except Invalid:
            raise Invalid({"vial": translated(N_(
                "{text} is not a vial label's scan")).format(text=text[:40])}) from None
        if found != letter:
            raise Invalid({"vial": translated(N_(
                "&{found} is not this site's vial identifier (&{letter})")).format(found=found, letter=letter)})
        return code
    return text.upper()


def vial_by_code(session: Session, code: str, *, for_update: bool = False) -> Vial:
    return one(session, select(Vial).where(Vial.vial_code == code), f"no vial {code}", for_update=for_update)


BANK_ON_HOLD = "bank_on_hold"


def thaw_vial(session: Session, *, actor: Actor, vial: Any, data: Mapping[str, Any], letter: str,
              dosing_from_mcb: bool, ranges: Mapping[str, Any], passage_limit: int | None = None) -> Lot:
    """Thaw a vial of a released bank and start the lot it seeds (the next tier's bank lot, or a dosing lot)."""
    require_role(actor.roles, "lab", action=N_("thaw a vial"))
    code = scanned_vial_code(vial, letter)
    entry = tiers.parse_thaw(data, now=utcnow())
    row = vial_by_code(session, code, for_update=True)
    bank = session.get(CellBank, row.bank_id)
    bank_lot = session.get(Lot, bank.lot_id)
    reasons = tiers.guard_thaw(vial_state=row.state, custody_state=row.custody_state, bank_level=bank.level,
                               bank_status=bank_lot.status, purpose=entry.purpose, dosing_from_mcb=dosing_from_mcb,
                               bank_passage=bank.passage, passage_limit=passage_limit)
    if entry.thawed_at < bank.frozen_at:
        reasons.append(Reason(tiers.BANK_TIME_ORDER, variant="thaw", bank_code=bank.bank_code))
    reach = holds.nearest_over(session, "bank", bank.id)  # a hold on the bank, its lot, a bank above or the cord
    if reach is not None:
        reasons.append(Reason(BANK_ON_HOLD, bank_code=bank.bank_code, id=reach[0].id, cause=reach[0].cause_text))
    used, unfit = usage.fitness(session, data.get("instruments"), at=entry.thawed_at)
    reasons += unfit
    if reasons:
        raise Refused(reasons)
    first, doublings = tiers.continuation(bank.passage, bank.cumulative_doublings)
    custody.record_system_event(session, actor=actor, record=row, ranges=ranges, handover=custody.Handover(
        event="thawed", location=THAW_LOCATION, occurred_at=entry.thawed_at))
    lot = lots.start_lot_from_vial(session, actor=actor, collection_id=bank_lot.collection_id, vial_id=row.id,
                                   purpose=entry.purpose, first_passage=first, starting_doublings=doublings,
                                   started_at=entry.thawed_at)
    old = {"state": row.state}
    row.state, row.thawed_at, row.thawed_by = "thawed", entry.thawed_at, actor.id
    row.post_thaw_viability_pct, row.started_lot_id = entry.post_thaw_viability_pct, lot.id
    session.add(row)
    trail.record(session, actor=actor, record_type="vial", record_id=row.id, action="thaw", old=old,
                 new={"state": row.state, "thawed_at": row.thawed_at, "post_thaw_viability_pct":
                      row.post_thaw_viability_pct, "started_lot": lot.lot_number, "purpose": lot.purpose})
    usage.record_thaw_uses(session, actor=actor, vial_id=row.id, vial_code=row.vial_code, rows=used,
                           used_at=entry.thawed_at)
    return lot


@dataclass(frozen=True)
class VialView:
    vial: Vial
    bank: CellBank
    bank_status: str
    started_lot: str | None
    events: list[CustodyEvent]
    instruments: list[usage.Used] = field(default_factory=list)  # what the thaw used, each flagged if unfit then


def vial_view(session: Session, code: str) -> VialView:
    vial = vial_by_code(session, code)
    bank = session.get(CellBank, vial.bank_id)
    bank_lot = session.get(Lot, bank.lot_id)
    started = session.get(Lot, vial.started_lot_id) if vial.started_lot_id else None
    return VialView(vial, bank, bank_lot.status, started.lot_number if started else None,
                    custody.events_of(session, "vial", vial.id),
                    usage.uses_by_vial(session, [vial.id]).get(vial.id, []))
