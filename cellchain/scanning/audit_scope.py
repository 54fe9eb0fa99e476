"""Which audit entries belong to a record named by a scan or its code: the audit page's "by code" filter.

The audit trail names records by type and row id (``audit_entries.record_type``, ``record_id``), which no one
at a bench knows. A code someone scans or types (a bag, a DIN, a lot number, a subject id, a vial or bank
code) is read through the one scan resolver, or matched exactly as a code (``search.SEARCHED``), and
widened to the records whose entries tell that record's story: its custody, and for a lot its bags, QC
results, passages, batch steps, deviations and holds; for a cord its lots; for a subject the visits,
allocations and infusions; for a bank its vials. Each child kind is one statement, bounded by the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag, BatchStep, Lot, Passage
from cellchain.quality.models import Deviation, Hold, QcResult
from cellchain.scanning import resolver, search
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.ward.models import Infusion

RecordKeys = tuple[tuple[str, tuple[str, ...]], ...]
KEYS = {"bag": "bag_code", "lot": "lot_number", "collection": "din", "vial": "vial_code", "bank": "bank_code"}


@dataclass(frozen=True)
class Scope:
    """The record a code named (kind and key) and the audit record types and ids its story is written under."""

    kind: str
    key: str
    records: RecordKeys


def _ids(session: Session, column: Any, *where: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in session.exec(select(column).where(*where)).all())


def _bag(session: Session, bag_id: int) -> dict[str, tuple[str, ...]]:
    return {"bag": (str(bag_id),), "bag_custody": (str(bag_id),),
            "infusion": _ids(session, Infusion.id, Infusion.bag_id == bag_id),
            "allocation": _ids(session, Allocation.id, Allocation.bag_id == bag_id)}


def _lot(session: Session, lot_id: int) -> dict[str, tuple[str, ...]]:
    bags = _ids(session, Bag.id, Bag.lot_id == lot_id)
    return {"lot": (str(lot_id),), "bag": bags, "bag_custody": bags,
            "qc_result": _ids(session, QcResult.id, QcResult.lot_id == lot_id),
            "passage": _ids(session, Passage.id, Passage.lot_id == lot_id),
            "batch_step": _ids(session, BatchStep.id, BatchStep.lot_id == lot_id),
            "deviation": _ids(session, Deviation.id, Deviation.lot_id == lot_id),
            "hold": _ids(session, Hold.id, Hold.lot_id == lot_id),
            "cell_bank": _ids(session, CellBank.id, CellBank.lot_id == lot_id)}


def _collection(session: Session, collection_id: int) -> dict[str, tuple[str, ...]]:
    return {"collection": (str(collection_id),), "collection_custody": (str(collection_id),),
            "lot": _ids(session, Lot.id, Lot.collection_id == collection_id)}


def _subject(session: Session, subject: Subject) -> dict[str, tuple[str, ...]]:
    return {"subject": (subject.subject_code,), "visit": _ids(session, Visit.id, Visit.subject_id == subject.id),
            "allocation": _ids(session, Allocation.id, Allocation.subject_id == subject.id),
            "infusion": _ids(session, Infusion.id, Infusion.subject_id == subject.id)}


def _vial(session: Session, vial_id: int) -> dict[str, tuple[str, ...]]:
    return {"vial": (str(vial_id),), "vial_custody": (str(vial_id),)}


def _bank(session: Session, bank_id: int) -> dict[str, tuple[str, ...]]:
    vials = _ids(session, Vial.id, Vial.bank_id == bank_id)
    return {"cell_bank": (str(bank_id),), "vial": vials, "vial_custody": vials}


def _exact(session: Session, text: str) -> tuple[str, Any] | None:
    """A record whose code is exactly ``text`` (any case): a lot number, subject id or screening number, ..."""
    for kind, model, code, others in search.SEARCHED:
        for column in (code, *others):
            row = session.exec(select(model).where(column == (text.upper() if column is code else text))).first()
            if row is not None:
                return kind, row
    return None


def _named(session: Session, text: str, tz: ZoneInfo, letters: Mapping[str, str]) -> tuple[str, Any]:
    try:
        answer = resolver.describe(session, text, tz=tz, letters=letters)
    except Invalid:
        answer = None
    if answer is not None and answer.record is not None:
        found = answer.record
        if found.type == "subject":
            return "subject", session.exec(select(Subject).where(Subject.id == found.id)).one()
        return found.type, found
    exact = _exact(session, text)
    if exact is None:
        raise Invalid({"code": translated(N_("no bag, cord, lot, subject, bank or vial here has the code {code}"))
                       .format(code=text[:40])})
    return exact


def scope_of(session: Session, text: Any, *, tz: ZoneInfo, letters: Mapping[str, str] = resolver.LETTERS) -> Scope:
    """The audit records of what ``text`` names; ``Invalid`` names ``code`` when it names nothing here."""
    if not isinstance(text, str) or not text.strip() or len(text) > search.MAX_TYPED or not text.isprintable():
        raise Invalid({"code": translated(N_("scan or type a bag id, DIN, lot number, subject id, bank or vial code"))})
    kind, row = _named(session, text.strip(), tz, letters)
    if kind == "subject":
        return Scope(kind, row.subject_code, _flatten(_subject(session, row)))
    widen = {"bag": _bag, "lot": _lot, "collection": _collection, "vial": _vial, "bank": _bank}.get(kind)
    if widen is None:
        raise Invalid({"code": translated(N_("a {kind} has no audit trail of its own here; scan what it holds"))
                       .format(kind=kind)})
    key = row.key if isinstance(row, resolver.Found) else _key(kind, row)
    return Scope(kind, key, _flatten(widen(session, row.id)))


def _key(kind: str, row: Any) -> str:
    """The public key of a row found by its code (a resolver's answer carries its own ``key``)."""
    return str(getattr(row, KEYS[kind]))


def _flatten(records: Mapping[str, tuple[str, ...]]) -> RecordKeys:
    return tuple((record_type, ids) for record_type, ids in records.items() if ids)
