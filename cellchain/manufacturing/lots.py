"""Lots: started from an eligible, received cord or from a thawed bank vial; expanded over passages;
harvested and formulated.

A lot started from its cord has the cord's DIN as its id (one such lot per cord); a lot started from a
thawed vial of a cell bank (``banking/vials.py``) is ``<DIN>-L<nn>``, the next number of that cord, and
its passages and population doublings continue from the bank (``first_passage``, ``starting_doublings``).
Population doublings are computed by ``rules.expansion`` and stored with each passage, together with
the running total, so the batch record prints exactly what was decided at the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import CellBank, Vial
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.fields import read_fields
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.equipment import usage
from cellchain.identifiers.isbt128 import Din
from cellchain.manufacturing import batch, lookups
from cellchain.manufacturing.lot_access import effective_passages, get_lot, lock_lot, moment, not_in_process, people
from cellchain.manufacturing.models import LOT_PURPOSES, Bag, Collection, Lot, Passage
from cellchain.manufacturing.rules import expansion, lot_numbers
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import qc, specifications
from cellchain.quality.rules.spec_limits import parse_number
from cellchain.ward.custody import open_excursions

RECEIVED_STATES = ("at_lab", "in_storage")
MAX_CELLS = 10**12
"""More cells than any lot holds: a count beyond it is a typing error (and would overflow BIGINT later)."""
DONOR_INELIGIBLE = "donor_ineligible"
COLLECTION_NOT_RECEIVED = "collection_not_received"
EXCURSION_OPEN = "excursion_open"
LOT_EXISTS = "lot_exists"
DOSING_FROM_CORD_OFF = "dosing_lot_from_cord_not_allowed"
LOT_TIME_ORDER = "lot_time_order"
PASSAGE_TIME_ORDER = "passage_time_order"
NO_PASSAGE = "lot_no_passage"
HARVEST_RECORDED = "harvest_already_recorded"
HARVEST_TIME_ORDER = "harvest_time_order"
NOT_HARVESTED = "lot_not_harvested"
FORMULATION_RECORDED = "formulation_already_recorded"
FORMULATION_EXCEEDS_HARVEST = "formulation_exceeds_harvest"


def _locked_collection(session: Session, din: Any) -> Collection:
    if not isinstance(din, str):
        raise Invalid({"collection_din": translated(N_("give the collection's 13-character DIN"))})
    try:
        text = Din.parse(din.strip()).text
    except Invalid as error:
        raise Invalid({"collection_din": error.fields.get("din", error.message)}) from None
    return lookups.collection_by_din(session, text, for_update=True)


def guard_start(session: Session, collection: Collection) -> list[Reason]:
    """Every reason the cord cannot start a lot: ineligible donor (pending is allowed), not received, open
    excursion, lot exists."""
    reasons = []
    # A cord whose results are still pending may start a lot; release waits for the determination.
    if collection.eligibility not in ("eligible", "pending"):
        reasons.append(Reason(DONOR_INELIGIBLE, din=collection.din, why="; ".join(
            r["message"] for r in collection.eligibility_reasons)))
    if collection.custody_state not in RECEIVED_STATES:
        state = (collection.custody_state or "not collected").replace("_", " ")
        reasons.append(Reason(COLLECTION_NOT_RECEIVED, state=state))
    excursions = open_excursions(session, "collection", collection.id)
    if excursions:
        temps = ", ".join(f"{e.temperature_c:g} °C" for e in excursions)
        reasons.append(Reason(EXCURSION_OPEN, variant="cord", temps=temps))
    started = select(Lot).where(Lot.collection_id == collection.id, Lot.source_vial_id.is_(None))
    if session.exec(started).first() is not None:
        reasons.append(Reason(LOT_EXISTS, din=collection.din))
    return reasons


def purpose_of(value: Any) -> str:
    """A lot's purpose as given (default ``dosing``): ``bank`` or ``dosing``."""
    if value in (None, ""):
        return "dosing"
    if value not in LOT_PURPOSES:
        raise Invalid({"purpose": translated(N_("one of {choices}")).format(choices=', '.join(LOT_PURPOSES))})
    return value


def start_lot(session: Session, *, actor: Actor, collection_din: Any, started_at: datetime | None = None,
              purpose: Any = "dosing", dosing_from_cord: bool = True) -> Lot:
    """Start the lot of a cord; its id is the cord's DIN and its QC specification the one now in force.

    ``purpose`` ``bank`` starts the lot a master cell bank is frozen from; ``dosing`` (the default) a lot
    filled into bags, which a site that doses only from banked cells turns off (``DOSING_LOT_FROM_CORD``,
    given here as ``dosing_from_cord``). ``started_at`` (default now) lets a lot begun before it was
    entered be recorded at its real time; it cannot be in the future or before the cord was collected.
    """
    require_role(actor.roles, "lab", action=N_("start a lot"))
    started = moment({"started_at": started_at}, "started_at", default=utcnow())
    use = purpose_of(purpose)
    collection = _locked_collection(session, collection_din)
    reasons = guard_start(session, collection)
    if started < collection.collected_at:
        reasons.append(Reason(LOT_TIME_ORDER))
    if use == "dosing" and not dosing_from_cord:
        reasons.append(Reason(DOSING_FROM_CORD_OFF))
    if reasons:
        raise Refused(reasons)
    return _new_lot(session, actor=actor, collection=collection, lot_number=collection.din, purpose=use,
                    started_at=started)


def _new_lot(session: Session, *, actor: Actor, collection: Collection, lot_number: str, purpose: str,
             started_at: datetime, source_vial_id: int | None = None, first_passage: int = 0,
             starting_doublings: float = 0.0) -> Lot:
    specifications.ensure_defaults(session, actor=actor)
    # A bank lot is judged on the bank's full panel, a dosing lot on its release tests (docs/rules.md, "Release").
    product = specifications.BANK_PRODUCT if purpose == "bank" else specifications.DOSE_PRODUCT
    version = specifications.current(session, product=product).version
    lot = Lot(lot_number=lot_number, collection_id=collection.id, din=collection.din, purpose=purpose,
              source_vial_id=source_vial_id, first_passage=first_passage, starting_doublings=starting_doublings,
              status="in_process", spec_version=version, created_by=actor.id, created_at=started_at)
    session.add(lot)
    session.flush()
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="start",
                 new={"lot_number": lot.lot_number, "collection_din": collection.din, "status": lot.status,
                      "purpose": purpose, "source_vial_id": source_vial_id, "first_passage": first_passage,
                      "starting_doublings": round(starting_doublings, 4), "spec_version": version,
                      "started_at": started_at})
    return lot


def next_lot_number(session: Session, collection: Collection) -> str:
    """``<DIN>-L<nn>``: the next lot number of a cord for a lot started from a thawed vial (L01, L02 ...)."""
    numbers = session.exec(select(Lot.lot_number).where(Lot.collection_id == collection.id,
                                                        Lot.source_vial_id.is_not(None)))
    used = [n for n in (lot_numbers.sequence_of(number) for number in numbers) if n is not None]
    return lot_numbers.from_vial(collection.din, max(used, default=0) + 1)


def start_lot_from_vial(session: Session, *, actor: Actor, collection_id: int, vial_id: int, purpose: str,
                        first_passage: int, starting_doublings: float, started_at: datetime) -> Lot:
    """The lot a thawed vial starts (called by the thaw, which has checked the bank and the vial).

    Its passages continue from the bank's (``first_passage`` is the bank's passage + 1) and its population
    doublings add to the bank's, so the passage limit and the doublings count from the cord.
    """
    require_role(actor.roles, "lab", action=N_("start a lot"))
    collection = session.exec(select(Collection).where(Collection.id == collection_id).with_for_update()).one()
    return _new_lot(session, actor=actor, collection=collection, lot_number=next_lot_number(session, collection),
                    purpose=purpose_of(purpose), started_at=started_at, source_vial_id=vial_id,
                    first_passage=first_passage, starting_doublings=starting_doublings)


def parse_passage(data: Mapping[str, Any]) -> expansion.PassageInput:
    """``expansion.parse_passage``, with times read strictly (an offset, not in the future)."""
    if not isinstance(data, Mapping):
        raise Invalid({"passage": translated(N_("must be an object"))})
    fields: dict[str, str] = {}
    values = dict(data)
    for name in ("seeded_at", "harvested_at"):
        if data.get(name) not in (None, ""):
            try:
                values[name] = moment(data, name)
            except Invalid as error:
                fields.update(error.fields)
                values[name] = None
    try:
        entry = expansion.parse_passage(values)
    except Invalid as error:
        fields.update({k: v for k, v in error.fields.items() if k not in fields})
    else:
        for name in ("seeded_cells", "harvested_cells"):
            if getattr(entry, name) > MAX_CELLS:
                fields[name] = translated(N_(
                    "more than {max_cells:.0e} cells: check the count")).format(max_cells=MAX_CELLS)
    if fields:
        raise Invalid(fields, translated(N_("the passage has invalid fields")))
    return entry


def _passage_order(collection: Collection, previous: Passage | None, entry: expansion.PassageInput) -> list[Reason]:
    if entry.seeded_at < collection.collected_at:
        return [Reason(PASSAGE_TIME_ORDER, variant="cord")]
    if previous is not None and entry.seeded_at < previous.harvested_at:
        return [Reason(PASSAGE_TIME_ORDER, number=entry.number, number2=previous.number)]
    return []


def record_passage(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any],
                   limit: int = expansion.DEFAULT_PASSAGE_LIMIT) -> Passage:
    """Record the next passage (P0, P1 ...), its doublings and their running total; also its batch step."""
    require_role(actor.roles, "lab", action=N_("record a passage"))
    entry = parse_passage(data)
    lot = lock_lot(session, lot_number)
    existing = effective_passages(session, lot.id)
    reasons = not_in_process(lot, N_("take a passage"))
    try:
        expansion.guard_next_passage([p.number for p in existing], entry.number, limit=limit,
                                     first=lot.first_passage)
    except Refused as refusal:
        reasons.extend(refusal.reasons)
    previous = existing[-1] if existing else None
    reasons.extend(_passage_order(session.get(Collection, lot.collection_id), previous, entry))
    if reasons:
        raise Refused(reasons)
    doublings = entry.population_doublings
    cumulative = (previous.cumulative_doublings if previous else lot.starting_doublings) + doublings
    row = Passage(lot_id=lot.id, number=entry.number, seeded_cells=entry.seeded_cells,
                  harvested_cells=entry.harvested_cells, viability_pct=entry.viability_pct, seeded_at=entry.seeded_at,
                  harvested_at=entry.harvested_at, population_doublings=doublings, cumulative_doublings=cumulative,
                  recorded_by=actor.id)
    session.add(row)
    session.flush()
    counts = {"seeded_cells": row.seeded_cells, "harvested_cells": row.harvested_cells,
              "viability_pct": row.viability_pct, "population_doublings": round(doublings, 4),
              "cumulative_doublings": round(cumulative, 4)}
    trail.record(session, actor=actor, record_type="passage", record_id=row.id, action="record",
                 new={"lot": lot.lot_number, "number": row.number, **counts, "seeded_at": row.seeded_at,
                      "harvested_at": row.harvested_at})
    batch.add_step(session, actor=actor, lot=lot, key=f"passage:{row.number}", details=counts,
                   performed_at=row.harvested_at, instruments=data.get("instruments"))
    return row


def _whole_cells(value: Any, name: str) -> int:
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = value if whole else parse_number(value, name)
    if number <= 0 or not float(number).is_integer() or number > MAX_CELLS:
        raise Invalid({name: translated(N_(
            "{value!r} is not a positive whole number of cells (at most {max_cells:.0e})")).format(
            value=value, max_cells=MAX_CELLS)})
    return int(number)


def _positive(value: Any, name: str, unit: str) -> float:
    number = parse_number(value, name)
    if not number > 0:
        raise Invalid({name: translated(N_("a positive number of {unit}")).format(unit=unit)})
    return number



def record_harvest(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any]) -> Lot:
    """The final harvest after the last passage: the cell count formulation and fill draw on."""
    require_role(actor.roles, "lab", action=N_("record a harvest"))
    values = read_fields({"harvested_cells": lambda: _whole_cells(data.get("harvested_cells"), "harvested_cells"),
                    "harvested_at": lambda: moment(data, "harvested_at", default=utcnow())})
    lot = lock_lot(session, lot_number)
    passages = effective_passages(session, lot.id)
    reasons = not_in_process(lot, N_("be harvested"))
    if not passages:
        reasons.append(Reason(NO_PASSAGE))
    elif values["harvested_at"] < passages[-1].seeded_at:
        reasons.append(Reason(HARVEST_TIME_ORDER, number=passages[-1].number))
    if lot.harvested_cells is not None:
        reasons.append(Reason(HARVEST_RECORDED, lot_number=lot.lot_number))
    if reasons:
        raise Refused(reasons)
    lot.harvested_cells, lot.harvested_at = values["harvested_cells"], values["harvested_at"]
    session.add(lot)
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="harvest",
                 old={"harvested_cells": None}, new=values)
    batch.add_step(session, actor=actor, lot=lot, key="harvest", details={"harvested_cells": lot.harvested_cells},
                   performed_at=lot.harvested_at, instruments=data.get("instruments"))
    return lot


def record_formulation(session: Session, *, actor: Actor, lot_number: str, data: Mapping[str, Any]) -> Lot:
    """The formulated concentration and volume; together they cannot hold more cells than were harvested."""
    require_role(actor.roles, "lab", action=N_("record a formulation"))
    values = read_fields({"cells_per_ml": lambda: _positive(data.get("cells_per_ml"), "cells_per_ml", "cells per ml"),
                    "volume_ml": lambda: _positive(data.get("volume_ml"), "volume_ml", "ml"),
                    "performed_at": lambda: moment(data, "performed_at", default=utcnow())})
    lot = lock_lot(session, lot_number)
    reasons = not_in_process(lot, N_("be formulated"))
    total = values["cells_per_ml"] * values["volume_ml"]
    if lot.harvested_cells is None:
        reasons.append(Reason(NOT_HARVESTED))
    elif total > lot.harvested_cells:
        reasons.append(Reason(FORMULATION_EXCEEDS_HARVEST, total=total, harvested_cells=lot.harvested_cells))
    if lot.formulated_cells_per_ml is not None:
        reasons.append(Reason(FORMULATION_RECORDED, lot_number=lot.lot_number))
    if reasons:
        raise Refused(reasons)
    lot.formulated_cells_per_ml, lot.formulated_volume_ml = values["cells_per_ml"], values["volume_ml"]
    session.add(lot)
    details = {"cells_per_ml": lot.formulated_cells_per_ml, "volume_ml": lot.formulated_volume_ml,
               "total_cells": round(total)}
    trail.record(session, actor=actor, record_type="lot", record_id=lot.id, action="formulate",
                 old={"cells_per_ml": None, "volume_ml": None}, new=details)
    batch.add_step(session, actor=actor, lot=lot, key="formulation", details=details,
                   performed_at=values["performed_at"], instruments=data.get("instruments"))
    return lot


@dataclass(frozen=True)
class Thaw:
    """The vial a lot was thawed from, as its batch record shows it: who thawed it when, the viability after
    the thaw and the instruments the thaw used (docs/rules.md, "Equipment")."""

    vial: Vial
    bank: CellBank
    instruments: tuple[usage.Used, ...] = ()


def thaw_of(session: Session, lot: Lot) -> Thaw | None:
    """The thaw that started ``lot`` (None for a lot started from its cord)."""
    vial = session.get(Vial, lot.source_vial_id) if lot.source_vial_id else None
    if vial is None:
        return None
    used = usage.uses_by_vial(session, [vial.id]).get(vial.id, ())
    return Thaw(vial, session.get(CellBank, vial.bank_id), tuple(used))


@dataclass(frozen=True)
class LotView:
    """Everything a lot page, the lot API and the batch record PDF show, read in one place."""

    lot: Lot
    collection: Collection
    passages: list[Passage]
    bags: list[Bag]
    qc_results: list[qc.LotResult]
    record: batch.BatchRecord
    people: dict[int, User]
    # the lot's labels: printed in all, applied, voided, destroyed, not yet accounted for (batch.label_tally)
    labels: dict[str, int] = field(default_factory=dict)
    thaw: Thaw | None = None  # the vial the lot was thawed from

    @property
    def cumulative_doublings(self) -> float:
        return self.passages[-1].cumulative_doublings if self.passages else self.lot.starting_doublings

    @property
    def formulated_cells(self) -> float | None:
        return self.lot.formulated_cells

    def name(self, user_id: int | None) -> str:
        person = self.people.get(user_id) if user_id is not None else None
        return person.full_name if person else ""

    @property
    def actions(self) -> frozenset[str]:
        """Which of the lot page's forms apply now (the services still check every rule)."""
        lot = self.lot
        if lot.status != "in_process":
            return frozenset({"step", "verify"}) if lot.status == "awaiting_release" else frozenset()
        actions = {"passage", "step", "verify"}
        if self.passages and lot.harvested_cells is None:
            actions.add("harvest")
        if lot.harvested_cells is not None and lot.formulated_cells_per_ml is None:
            actions.add("formulation")
        if self.formulated_cells is not None and lot.purpose == "dosing":
            actions.add("fill")
        return frozenset(actions)


def lot_view(session: Session, lot_number: str, steps: Sequence[StepDef] = DEFAULT_STEPS) -> LotView:
    lot = get_lot(session, lot_number)
    passages = effective_passages(session, lot.id)
    bags = list(session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.id)))
    results = qc.lot_results(session, lot)
    record = batch.batch_record(session, lot, steps)
    ids = {lot.created_by, *(p.recorded_by for p in passages), *(r.result.recorded_by for r in results)}
    ids |= {e.step.performed_by for e in record.entries}
    thaw = thaw_of(session, lot)
    if thaw is not None:
        ids.add(thaw.vial.thawed_by)
    labels = batch.label_tally(batch.labels_of_lots(session, [lot.id])[lot.id])
    return LotView(lot, session.get(Collection, lot.collection_id), passages, bags, results, record,
                   people(session, ids), labels, thaw)


def lots_with_status(session: Session, status: str) -> list[Lot]:
    return list(session.exec(select(Lot).where(Lot.status == status).order_by(Lot.created_at.desc())))

