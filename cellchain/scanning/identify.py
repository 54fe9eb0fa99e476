"""From what a scanner read to the record it names: the one place a scan becomes a collection or bag.

Rule 1 is enforced before anything is looked up: a keyed DIN must carry its check character and a
scanned DIN its type 3 flags (``identifiers.scans`` refuses them otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.core.errors import Invalid, NotFound
from cellchain.identifiers.scans import Scan, parse_scan
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.trial.models import Subject


@dataclass(frozen=True)
class Identified:
    """A scan and the record it names (``kind`` is collection, bag or subject)."""

    kind: str
    record: Any
    scan: Scan


def _one(session: Session, statement: Any, missing: str, *, for_update: bool) -> Any:
    """The record ``statement`` selects, or NotFound(missing). ``for_update`` holds its row until the
    transaction ends and re-reads it, so a check judges what the previous writer committed."""
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(missing)
    return row


def collection_by_din(session: Session, din: str, *, for_update: bool = False) -> Collection:
    return _one(session, select(Collection).where(Collection.din == din), f"no collection has DIN {din}",
                for_update=for_update)


def lot_by_number(session: Session, lot_number: str, *, for_update: bool = False) -> Lot:
    return _one(session, select(Lot).where(Lot.lot_number == lot_number), f"no lot {lot_number}",
                for_update=for_update)


def bag_by_code(session: Session, bag_code: str, *, for_update: bool = False) -> Bag:
    return _one(session, select(Bag).where(Bag.bag_code == bag_code), f"no bag {bag_code}", for_update=for_update)


def subject_by_code(session: Session, subject_code: str) -> Subject:
    return _one(session, select(Subject).where(Subject.subject_code == subject_code),
                f"no subject {subject_code}", for_update=False)


def identify(session: Session, raw: Any, *, tz: ZoneInfo | None = None, field: str = "item") -> Identified:
    """The record a scan names. A DIN names the collection; a bag id or a bag's 2D code names the bag."""
    if not isinstance(raw, str):
        raise Invalid({field: "give the scanned or keyed text"})
    try:
        scan = parse_scan(raw, tz=tz)
    except Invalid as refusal:
        raise Invalid({field: refusal.fields.get("data", refusal.message)}) from None
    if scan.kind == "bag" or (scan.kind == "compound" and "bag_id" in scan.fields):
        return Identified("bag", bag_by_code(session, scan.fields["bag_id"]), scan)
    if scan.kind == "subject" or (scan.kind == "compound" and "subject_id" in scan.fields):
        return Identified("subject", subject_by_code(session, scan.fields["subject_id"]), scan)
    if scan.kind in ("din", "compound") and "din" in scan.fields:
        return Identified("collection", collection_by_din(session, scan.fields["din"]), scan)
    raise Invalid({field: f"a {scan.kind.replace('_', ' ')} does not identify a collection, bag or subject"})
