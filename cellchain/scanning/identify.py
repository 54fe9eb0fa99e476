"""From what a scanner read to the record it names: the one place a scan becomes a collection or bag.

Rule 1 is enforced before anything is looked up: a keyed DIN must carry its check character and a
scanned DIN its type 3 flags (``identifiers.scans`` refuses them otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.core.errors import Invalid
from cellchain.identifiers.scans import Scan, parse_scan
from cellchain.manufacturing.lookups import bag_by_code, collection_by_din
from cellchain.trial.subjects import subject_by_code


@dataclass(frozen=True)
class Identified:
    """A scan and the record it names (``kind`` is collection, bag or subject)."""

    kind: str
    record: Any
    scan: Scan


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
