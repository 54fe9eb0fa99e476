"""Instruments used at a batch step or a vial's thaw: scanned when the step or thaw is recorded, refused by
name when one is out of service or past its calibration or maintenance due date at its time, and read back
for the batch record, the vial's record and the release check (docs/rules.md, "Equipment").

Manufacturing calls :func:`record_uses` from ``batch.add_step`` and banking :func:`fitness` and
:func:`record_thaw_uses` from ``vials.thaw_vial``, with plain values, so this package imports neither.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.equipment.models import Instrument, InstrumentEvent, InstrumentUse, ThawInstrumentUse
from cellchain.equipment.rules import validity
from cellchain.people.rules.roles import Actor

FIELD = "instruments"


def histories(session: Session, instruments: Iterable[Instrument]) -> dict[int, validity.History]:
    """Each instrument's service history as the validity rule reads it, in one statement."""
    rows = {i.id: i for i in instruments}
    if not rows:
        return {}
    events: dict[int, list[InstrumentEvent]] = defaultdict(list)
    statement = select(InstrumentEvent).where(InstrumentEvent.instrument_id.in_(list(rows)))
    for event in session.exec(statement.order_by(InstrumentEvent.id)):
        events[event.instrument_id].append(event)
    return {key: _history(row, events[key]) for key, row in rows.items()}


def _history(row: Instrument, events: list[InstrumentEvent]) -> validity.History:
    periods, findings, outages = [], [], []
    required = {s for s in validity.SERVICES if getattr(row, f"{s}_due") is not None}
    out: InstrumentEvent | None = None
    for event in events:
        if event.kind == "register" and event.valid_until is not None:
            periods.append(validity.Period(event.service or "", None, event.valid_until))
        elif event.kind in validity.SERVICES and event.valid_until is not None:
            required.add(event.kind)
            periods.append(validity.Period(event.kind, event.valid_from, event.valid_until))
            if event.out_of_tolerance and event.valid_from is not None:
                findings.append(event.valid_from)
        elif event.kind == "out_of_service":
            out = event
        elif event.kind == "return_to_service" and out is not None:
            outages.append(validity.OutOfService(out.effective_at, event.effective_at, out.reason or ""))
            out = None
    if out is not None:
        outages.append(validity.OutOfService(out.effective_at, None, out.reason or ""))
    return validity.History(row.code, frozenset(required), validity.voided(periods, findings), tuple(outages))


def as_reason(problem: validity.Problem, instrument: Instrument) -> Reason:
    return Reason(problem.code, variant=problem.variant, name=instrument.name, **problem.params)


def _found(session: Session, codes: tuple[str, ...]) -> list[Instrument]:
    rows = {r.code: r for r in session.exec(select(Instrument).where(Instrument.code.in_(codes)))}
    missing = [c for c in codes if c not in rows]
    if missing:
        raise Invalid({FIELD: translated(N_(
            "no instrument {choices} in the registry")).format(choices=', '.join(missing))})
    return [rows[c] for c in codes]


def fitness(session: Session, raw: Any, *, at: datetime, letter: str | None = None
            ) -> tuple[list[Instrument], list[Reason]]:
    """The instruments ``raw`` names (``Invalid`` naming ``instruments`` for a bad scan or one not in the
    registry), and a reason for each way one of them was not fit for use at ``at``."""
    codes = validity.scanned_codes(raw, letter=letter)
    if not codes:
        return [], []
    rows = _found(session, codes)
    found = histories(session, rows)
    return rows, [as_reason(p, row) for row in rows for p in validity.problems_at(found[row.id], at)]


def check(session: Session, raw: Any, *, at: datetime, letter: str | None = None) -> list[Instrument]:
    """The instruments a step names, each fit for use at ``at``; refused naming every one that is not."""
    rows, reasons = fitness(session, raw, at=at, letter=letter)
    if reasons:
        raise Refused(reasons)
    return rows


def record_uses(session: Session, *, actor: Actor, step_id: int, lot_number: str, step_key: str, raw: Any,
                used_at: datetime, letter: str | None = None) -> list[InstrumentUse]:
    """Record the instruments a batch step used (``raw``: the scans), after :func:`check`; audited."""
    rows = check(session, raw, at=used_at, letter=letter)
    uses = [InstrumentUse(step_id=step_id, instrument_id=row.id, used_at=used_at, recorded_by=actor.id)
            for row in rows]
    return _written(session, actor, uses, rows, record_type="batch_step", record_id=step_id,
                    new={"lot": lot_number, "step": step_key})


def record_thaw_uses(session: Session, *, actor: Actor, vial_id: int, vial_code: str,
                     rows: Iterable[Instrument], used_at: datetime) -> list[ThawInstrumentUse]:
    """Record the instruments a vial's thaw used (``rows``: found fit by :func:`fitness`); audited on the vial."""
    found = list(rows)
    uses = [ThawInstrumentUse(vial_id=vial_id, instrument_id=row.id, used_at=used_at, recorded_by=actor.id)
            for row in found]
    return _written(session, actor, uses, found, record_type="vial", record_id=vial_id,
                    new={"vial": vial_code, "step": "thaw"})


def _written(session: Session, actor: Actor, uses: list, rows: list[Instrument], *, record_type: str,
             record_id: int, new: dict[str, Any]) -> list:
    """The uses added and the one audit entry that names their instruments, on the step or vial that used them."""
    if not uses:
        return []
    session.add_all(uses)
    session.flush()
    trail.record(session, actor=actor, record_type=record_type, record_id=record_id, action="use_instruments",
                 new={**new, "instruments": [r.code for r in rows], "used_at": uses[0].used_at})
    return uses


@dataclass(frozen=True)
class Used:
    """An instrument as a step (or a vial's thaw: ``step_id`` is then the vial's id) used it, with every reason
    it was unfit then as the registry now knows."""

    step_id: int
    instrument: Instrument
    used_at: datetime
    problems: tuple[Reason, ...]

    @property
    def fit(self) -> bool:
        return not self.problems


def _used(session: Session, pairs: list[tuple[Any, Instrument]], owner: str) -> dict[int, list[Used]]:
    found = histories(session, {i.id: i for _, i in pairs}.values())
    answer: dict[int, list[Used]] = defaultdict(list)
    for use, row in pairs:
        problems = tuple(as_reason(p, row) for p in validity.problems_at(found[row.id], use.used_at))
        key = getattr(use, owner)
        answer[key].append(Used(key, row, use.used_at, problems))
    return dict(answer)


def uses_by_step(session: Session, step_ids: Iterable[int]) -> dict[int, list[Used]]:
    """The instruments each of these steps used, by step id, in the order they were scanned."""
    ids = list(step_ids)
    if not ids:
        return {}
    statement = (select(InstrumentUse, Instrument).join(Instrument, Instrument.id == InstrumentUse.instrument_id)
                 .where(InstrumentUse.step_id.in_(ids)).order_by(InstrumentUse.id))
    return _used(session, list(session.exec(statement)), "step_id")


def uses_by_vial(session: Session, vial_ids: Iterable[int]) -> dict[int, list[Used]]:
    """The instruments each of these vials' thaws used, by vial id, in the order they were scanned."""
    ids = list(vial_ids)
    if not ids:
        return {}
    statement = (select(ThawInstrumentUse, Instrument)
                 .join(Instrument, Instrument.id == ThawInstrumentUse.instrument_id)
                 .where(ThawInstrumentUse.vial_id.in_(ids)).order_by(ThawInstrumentUse.id))
    return _used(session, list(session.exec(statement)), "vial_id")


def unfit_uses(session: Session, step_ids: Iterable[int]) -> list[Used]:
    """The uses among these steps of an instrument that was not fit when used (for the release check)."""
    return [u for uses in uses_by_step(session, step_ids).values() for u in uses if not u.fit]
