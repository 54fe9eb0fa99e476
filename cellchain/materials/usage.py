"""Material lots used: at a batch step (scanned, with the quantity), as the anticoagulant of a fill and the
saline of a placebo fill; the batch record's lines and the release check's gaps (docs/rules.md, "Materials").

A lot is named by the supplier's GS1 barcode (GTIN and lot), this site's own lot label (``ML-000001``) or
the supplier's lot number when one lot of the catalogue has it. It is used only while released, in date,
not rejected and not on hold (``rules/lots.py``), each refusal naming it; its stock goes down by what was
used, and each use keeps the lot's status at that moment. Manufacturing calls ``check_reference`` and
``record_use`` from its fill and its step recording (a small hook), so the rules of using a material stay
here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.identifiers import gs1
from cellchain.materials.models import Material, MaterialLot, MaterialUse
from cellchain.materials.rules import lots as rules
from cellchain.people.rules.roles import Actor
from cellchain.quality.models import Hold
from cellchain.quality.rules.spec_limits import parse_number

MATERIAL_LOT_UNKNOWN = "material_lot_unknown"
MATERIAL_LOT_AMBIGUOUS = "material_lot_ambiguous"
MAX_ENTRIES = 20
_LITRES = {("ml", "l"): 0.001, ("l", "ml"): 1000.0}


def _site_day(moment: datetime, tz: ZoneInfo | None) -> date:
    return (moment.astimezone(tz) if tz else moment).date()


def find(session: Session, reference: str, *, gs_substitute: str = "") -> MaterialLot | Reason:
    """The material lot a scan or a typed text names, or the reason it names none (or several)."""
    text = reference.strip()
    if gs1.is_gs1(reference, gs_substitute):
        parsed = gs1.parse(reference, gs_substitute)
        statement = select(MaterialLot).join(Material, Material.id == MaterialLot.material_id)
        if parsed.gtin:
            statement = statement.where(Material.gtin == parsed.gtin)
        rows = list(session.exec(statement.where(MaterialLot.supplier_lot == (parsed.lot or ""))))
        text = f"GTIN {parsed.gtin or '-'} lot {parsed.lot or '-'}"
    elif text.upper().startswith("ML-"):
        rows = list(session.exec(select(MaterialLot).where(MaterialLot.code == text.upper())))
    else:
        rows = list(session.exec(select(MaterialLot).where(MaterialLot.supplier_lot == text)))
    if not rows:
        return Reason(MATERIAL_LOT_UNKNOWN, reference=text[:60])
    if len(rows) > 1:
        return Reason(MATERIAL_LOT_AMBIGUOUS, reference=text[:60], count=len(rows))
    return rows[0]


def facts_of(session: Session, lots: Sequence[MaterialLot]) -> dict[int, rules.LotFacts]:
    """Each lot as the rules read it, with its material and its open hold: two statements."""
    if not lots:
        return {}
    ids = [lot.id for lot in lots]
    names = {m.id: m for m in session.exec(select(Material).where(Material.id.in_({lot.material_id for lot in lots})))}
    held = {h.item_id: h for h in session.exec(select(Hold).where(Hold.item_kind == "material_lot",
                                                                  Hold.item_id.in_(ids), Hold.lifted_at.is_(None)))}
    return {lot.id: rules.LotFacts(lot.code, names[lot.material_id].name, names[lot.material_id].kind,
                                   lot.supplier_lot, lot.status, lot.expires_on, lot.quantity_left, lot.unit,
                                   held[lot.id].id if lot.id in held else None,
                                   held[lot.id].cause_text if lot.id in held else None)
            for lot in lots}


@dataclass(frozen=True)
class Checked:
    """A reference checked for use: the lot (None for a legacy text) and the text a bag keeps."""

    lot: MaterialLot | None
    text: str


def in_lot_unit(quantity: float, unit: str, lot_unit: str) -> float | None:
    """A quantity in the lot's own unit (ml and l convert), or None when they do not compare."""
    if unit == lot_unit:
        return quantity
    factor = _LITRES.get((unit, lot_unit))
    return None if factor is None else quantity * factor


def check_reference(session: Session, reference: Any, *, field: str, kinds: tuple[str, ...], used_at: datetime,
                    tz: ZoneInfo | None, quantity: float | None = None, unit: str = "ml", required: bool = True,
                    legacy: Any = None, gs_substitute: str = "") -> tuple[Checked | None, list[Reason]]:
    """Check the material lot ``reference`` names for use now; a text naming no lot is kept as typed only when
    material lots are not ``required`` (then ``legacy`` reads it the old way)."""
    if not isinstance(reference, str) or not reference.strip():
        raise Invalid({field: translated(N_("scan or type the material lot"))})
    try:
        found = find(session, reference, gs_substitute=gs_substitute)
    except Invalid as refusal:
        raise Invalid({field: refusal.fields.get("data", refusal.message)}) from None
    if isinstance(found, Reason):
        if found.code == MATERIAL_LOT_UNKNOWN and not required and legacy is not None:
            return Checked(None, legacy(reference, field)), []
        return None, [found]
    facts = facts_of(session, [found])[found.id]
    wanted = None if quantity is None else in_lot_unit(quantity, unit, found.unit)
    reasons = rules.guard_use(facts, on=_site_day(used_at, tz), quantity=wanted, kinds=kinds)
    printed = found.supplier_lot if len(found.supplier_lot) <= 18 else found.code  # the bag's column holds 18
    return Checked(found, printed), reasons


def record_use(session: Session, *, actor: Actor, material_lot: MaterialLot, quantity: float, unit: str,
               used_at: datetime, role: str = "step", lot_id: int | None = None, step_id: int | None = None,
               din: str | None = None, lot_number: str | None = None) -> MaterialUse:
    """Write the use and take it off the lot's stock (when the units compare); both audited."""
    row = MaterialUse(material_lot_id=material_lot.id, lot_id=lot_id, step_id=step_id, din=din, role=role,
                      quantity=quantity, unit=unit, status_at_use=material_lot.status, used_at=used_at,
                      recorded_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="material_use", record_id=row.id, action="use",
                 new={"material_lot": material_lot.code, "lot": lot_number, "din": din, "step_id": step_id,
                      "role": role, "quantity": quantity, "unit": unit, "status_at_use": row.status_at_use,
                      "used_at": used_at})
    taken = in_lot_unit(quantity, unit, material_lot.unit)
    if taken is not None:
        old = material_lot.quantity_left
        material_lot.quantity_left = max(0.0, round(old - taken, 6))
        session.add(material_lot)
        session.flush()
        trail.record(session, actor=actor, record_type="material_lot", record_id=material_lot.id, action="use",
                     old={"quantity_left": old}, new={"quantity_left": material_lot.quantity_left, "use_id": row.id})
    return row


@dataclass(frozen=True)
class Entry:
    reference: str
    quantity: float


def _entry(item: Any) -> Entry | None:
    if isinstance(item, str):
        words = item.rsplit(None, 1)
        item = {"material_lot": words[0], "quantity": words[1]} if len(words) == 2 else {}
    if not isinstance(item, Mapping) or not isinstance(item.get("material_lot"), str):
        return None
    try:
        quantity = parse_number(item.get("quantity"), "quantity")
    except Invalid:
        return None
    return Entry(item["material_lot"], quantity) if item["material_lot"].strip() and quantity > 0 else None


def parse_entries(value: Any, field: str = "materials") -> list[Entry]:
    """The material lots of a step: ``[{"material_lot": <scan or lot>, "quantity": 5}]`` (API) or lines
    ``<scan or lot> <quantity>`` (page); the quantity is in the lot's own unit."""
    if value in (None, "", []):
        return []
    items = [line for line in value.splitlines() if line.strip()] if isinstance(value, str) else value
    entries = [_entry(item) for item in items] if isinstance(items, list) else [None]
    if not entries or None in entries or len(entries) > MAX_ENTRIES:
        raise Invalid({field: translated(N_(
            "up to {max_entries} entries, each a scanned material lot and the quantity used in its unit (e.g. "
            "ML-000001 5)")).format(max_entries=MAX_ENTRIES)})
    return entries  # type: ignore[return-value]


def use_at_step(session: Session, *, actor: Actor, lot_id: int, lot_number: str, step_id: int, step_key: str,
                entries: Sequence[Entry], used_at: datetime, tz: ZoneInfo | None = None,
                gs_substitute: str = "") -> list[MaterialUse]:
    """Record the material lots of one step, all or none: every refusal of every entry is named at once."""
    checked, reasons = [], []
    for number, entry in enumerate(entries):
        found, why = check_reference(session, entry.reference, field=f"materials.{number}", kinds=(),
                                     used_at=used_at, tz=tz, gs_substitute=gs_substitute)
        reasons += why
        if found is not None and found.lot is not None:
            checked.append((found.lot, entry))
    if reasons:
        raise Refused(reasons)
    return [record_use(session, actor=actor, material_lot=lot, quantity=entry.quantity, unit=lot.unit,
                       used_at=used_at, lot_id=lot_id, step_id=step_id, lot_number=lot_number)
            for lot, entry in checked]


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UseLine:
    """One material lot used, as the batch record lists it."""

    code: str
    material: str
    kind: str
    supplier_lot: str
    expires_on: date
    quantity: float
    unit: str
    role: str
    status_at_use: str
    used_at: datetime
    step_id: int | None


def lines_of_lots(session: Session, lot_ids: Sequence[int]) -> dict[int, list[UseLine]]:
    """Every material use of the lots, by lot id, oldest first: one statement."""
    if not lot_ids:
        return {}
    statement = (select(MaterialUse, MaterialLot, Material)
                 .join(MaterialLot, MaterialLot.id == MaterialUse.material_lot_id)
                 .join(Material, Material.id == MaterialLot.material_id)
                 .where(MaterialUse.lot_id.in_(list(lot_ids))).order_by(MaterialUse.id))
    found: dict[int, list[UseLine]] = defaultdict(list)
    for use, lot, material in session.exec(statement):
        found[use.lot_id].append(UseLine(lot.code, material.name, material.kind, lot.supplier_lot, lot.expires_on,
                                         use.quantity, use.unit, use.role, use.status_at_use, use.used_at, use.step_id))
    return found


def by_step(lines: Sequence[UseLine]) -> dict[int | None, list[UseLine]]:
    grouped: dict[int | None, list[UseLine]] = defaultdict(list)
    for line in lines:
        grouped[line.step_id].append(line)
    return grouped


def release_gaps(session: Session, lots: Sequence[Any], step_keys: Mapping[int, str],
                 tz: ZoneInfo | None = None) -> dict[int, list[Reason]]:
    """For each lot, every material lot that was not valid when used, or was rejected since: three statements
    for any number of lots (one held since is the hold's gap: ``quality/release_gaps.py:_reached_gap``)."""
    ids = [lot.id for lot in lots]
    if not ids:
        return {}
    statement = (select(MaterialUse, MaterialLot).join(MaterialLot, MaterialLot.id == MaterialUse.material_lot_id)
                 .where(MaterialUse.lot_id.in_(ids)).order_by(MaterialUse.id))
    rows = list(session.exec(statement))
    facts = facts_of(session, list({m.id: m for _, m in rows}.values()))
    numbers = {lot.id: lot.lot_number for lot in lots}
    gaps: dict[int, list[Reason]] = {i: [] for i in ids}
    for use, material_lot in rows:
        step = step_keys.get(use.step_id, use.role) if use.step_id else use.role
        gaps[use.lot_id] += rules.invalid_when_used(facts[material_lot.id], status_at_use=use.status_at_use,
                                                    used_on=_site_day(use.used_at, tz),
                                                    lot_number=numbers[use.lot_id], step=step)
    return gaps


def reached(session: Session, material_lot_id: int) -> tuple[list[int], list[str]]:
    """The lots a material lot went into and the placebo DINs whose saline it was (the look-back starts there)."""
    rows = session.exec(select(MaterialUse.lot_id, MaterialUse.din)
                        .where(MaterialUse.material_lot_id == material_lot_id).order_by(MaterialUse.id)).all()
    lot_ids = list(dict.fromkeys(r[0] for r in rows if r[0] is not None))
    dins = list(dict.fromkeys(r[1] for r in rows if r[0] is None and r[1]))
    return lot_ids, dins


def uses_of(session: Session, material_lot: MaterialLot) -> list[MaterialUse]:
    return list(session.exec(select(MaterialUse).where(MaterialUse.material_lot_id == material_lot.id)
                             .order_by(MaterialUse.id)))


def now() -> datetime:
    return utcnow()
