"""Temperature readings of a storage unit, entered one at a time or imported from its logger's CSV file, and
the excursions they reveal (docs/rules.md, "Storage: temperatures").

A reading outside the unit's allowed range is an excursion. Consecutive out-of-range readings entered or
imported together are one excursion, from the first to the last of them; it reaches every item that was
in the unit at any moment of that span (placements overlapping it, including items since taken out), and
each such item gets an open excursion that blocks its release and use until QA decides it
(21 CFR 1271.260(d); ``ward.custody.decide_excursion``). An import is all or nothing: a file with one
unreadable line is refused whole, naming the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.timeinput import stated_time_problems
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.people.rules.roles import Actor, require_role
from cellchain.storage import placements
from cellchain.storage.models import StorageUnit, TemperatureReading
from cellchain.storage.places import STORAGE_KEEPERS
from cellchain.storage.rules import readings as rules
from cellchain.ward import custody
from cellchain.ward.models import Excursion

READING_EXISTS = "storage_reading_exists"
IN_FUTURE = "storage_reading_in_future"


@dataclass(frozen=True)
class Recorded:
    """What one entry or import wrote: the readings, how many were out of range, the excursions opened."""

    readings: list[TemperatureReading]
    out_of_range: int
    excursions: list[Excursion]


def recent(session: Session, unit: StorageUnit, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the unit's readings, newest first (keyset on the time, unique per unit)."""
    statement = select(TemperatureReading).where(TemperatureReading.unit_id == unit.id)
    return db.keyset(session, statement, (TemperatureReading.measured_at,), page, descending=True)


def where_found(session: Session, reading_ids: list[int]) -> dict[int, tuple[StorageUnit, TemperatureReading]]:
    """Each reading's unit and the reading itself, in one statement (the excursions page names them)."""
    if not reading_ids:
        return {}
    statement = (select(TemperatureReading, StorageUnit).join(StorageUnit, StorageUnit.id == TemperatureReading.unit_id)
                 .where(TemperatureReading.id.in_(sorted(set(reading_ids)))))
    return {reading.id: (unit, reading) for reading, unit in session.exec(statement)}


def _check_times(session: Session, unit: StorageUnit, found: list[rules.Reading]) -> None:
    now = utcnow()
    errors = {f"line {r.line}" if r.line else "measured_at": problem for r in found
              for problem in stated_time_problems({"measured_at": r.measured_at}, now=now).values()}
    if errors:
        raise Invalid(errors)
    first, last = min(r.measured_at for r in found), max(r.measured_at for r in found)
    taken = set(session.exec(select(TemperatureReading.measured_at).where(
        TemperatureReading.unit_id == unit.id, TemperatureReading.measured_at >= first,
        TemperatureReading.measured_at <= last)))
    clashes = [r for r in found if r.measured_at in taken]
    if clashes:
        said = ", ".join(f"line {r.line}" if r.line else r.measured_at.isoformat() for r in clashes[:10])
        raise Refused(Reason(READING_EXISTS, code=unit.code, said=said))


def _record(session: Session, *, actor: Actor, unit: StorageUnit, found: list[rules.Reading], source: str,
            notes: str | None = None) -> Recorded:
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("record a storage temperature"))
    _check_times(session, unit, found)
    ordered = sorted(found, key=lambda r: r.measured_at)
    rows = [TemperatureReading(unit_id=unit.id, measured_at=r.measured_at, temperature_c=r.temperature_c,
                               low_c=unit.low_c, high_c=unit.high_c, source=source[:120], recorded_by=actor.id,
                               notes=notes,
                               excursion=rules.out_of_range(r.temperature_c, unit.low_c, unit.high_c))
            for r in ordered]
    session.add_all(rows)
    session.flush()
    opened: list[Excursion] = []
    for span in rules.excursion_spans(ordered, unit.low_c, unit.high_c):
        worst = rows[span.worst]
        items = dict.fromkeys((p.item_type, p.item_id)
                              for p in placements.in_unit_during(session, unit.id, span.start, span.end))
        for kind, item_id in items:
            opened.append(custody.open_storage_excursion(
                session, actor=actor, kind=kind, item_id=item_id, reading_id=worst.id,
                temperature_c=worst.temperature_c, low=unit.low_c, high=unit.high_c))
    return Recorded(rows, sum(1 for row in rows if row.excursion), opened)


def enter(session: Session, *, actor: Actor, unit: StorageUnit, measured_at: datetime | None, temperature_c: object,
          notes: str | None = None) -> Recorded:
    """One reading read off the unit's display; now when no time is given."""
    reading = rules.Reading(measured_at or utcnow(), rules.read_temperature(temperature_c))
    recorded = _record(session, actor=actor, unit=unit, found=[reading], source="entered", notes=notes)
    row = recorded.readings[0]
    trail.record(session, actor=actor, record_type="storage_reading", record_id=row.id, action="enter",
                 new={"unit": unit.code, "measured_at": row.measured_at, "temperature_c": row.temperature_c,
                      "range": [unit.low_c, unit.high_c], "excursion": row.excursion,
                      "excursions_opened": [x.id for x in recorded.excursions]})
    return recorded


def import_file(session: Session, *, actor: Actor, unit: StorageUnit, content: bytes | str, file_name: str,
                tz: ZoneInfo) -> Recorded:
    """Every reading of a logger's CSV file, or none (``Invalid`` naming each bad line)."""
    require_role(actor.roles, *STORAGE_KEEPERS, action=N_("import a temperature logger file"))
    raw = content if isinstance(content, bytes) else content.encode()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid({"file": translated(N_("the file is not UTF-8 text"))}) from None
    name = (file_name or "logger file").strip()[:80] or "logger file"
    recorded = _record(session, actor=actor, unit=unit, found=rules.parse_csv(text, tz), source=f"file {name}")
    first, last = recorded.readings[0], recorded.readings[-1]
    trail.record(session, actor=actor, record_type="storage_unit", record_id=unit.id, action="import_readings",
                 new={"file": name, "sha256": hashlib.sha256(raw).hexdigest(), "readings": len(recorded.readings),
                      "from": first.measured_at, "to": last.measured_at, "out_of_range": recorded.out_of_range,
                      "excursions_opened": [x.id for x in recorded.excursions]})
    return recorded
