"""Closed-loop label reconciliation: a label is applied by scanning it on its container.

The scan must be one of the codes printed on that very label that identify its item (a bag label's 2D
code, a wristband's subject id, a collection label's DIN ...), and the label's identity must still be the
container's identity as the database holds it now (a bag label printed before the bag was allocated, or
before its thaw, no longer is: it is voided and a new one printed). Otherwise the scan is refused, naming
what it read. Marking a label applied by hand is refused (``label_apply_by_scan``): only a scan applies.
Voiding and destroying stay ``print_jobs.set_status`` with a reason. docs/rules.md, "Labels".
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import Vial
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.identifiers.scans import read_field
from cellchain.labelling import label_items, print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing.models import Bag, Collection, LabelPrint
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial.models import Subject

IDENTITY_CODES: dict[str, tuple[str, ...]] = {
    "bag": ("compound_2d",), "thawed_bag": ("compound_2d",), "collection": ("compound_2d", "din_barcode"),
    "wristband": ("subject_2d", "subject_barcode"), "culture_vessel": ("compound_2d",), "qc_tube": ("compound_2d",),
    "cryovial": ("compound_2d",), "shipper": ("shipment_barcode",),
}
"""The codes on each kind of label that name its one item (a bag's DIN alone names its cord, not the bag)."""
CURRENT_RECORDS = {"bag": Bag, "thawed_bag": Bag, "collection": Collection, "wristband": Subject, "cryovial": Vial}
"""Kinds whose item is one row, rebuilt now to check the label still is that item's; a vessel's, a QC
tube's and a shipment's identity is their key and lot, which never change."""
MAX_SCAN = 500


def identity_codes(label_kind: str, content: dict[str, Any]) -> list[str]:
    return [content[name] for name in IDENTITY_CODES.get(label_kind, ()) if content.get(name)]


def _named(raw: str, tz: ZoneInfo | None) -> str:
    """What a scan that is not this label reads as, in a few words (a bag id, a subject, a DIN)."""
    scan = read_field(raw, tz=tz)
    for name in ("bag_id", "subject_id", "din"):
        if scan.fields.get(name):
            return str(scan.fields[name])
    return scan.data[:40]


def _current_identity(session: Session, row: LabelPrint, settings: LabelSettings) -> list[str] | None:
    """The identifying codes the item's label carries if printed now, or None for kinds that never change."""
    model = CURRENT_RECORDS.get(row.label_kind)
    if model is None:
        return None
    record = session.get(model, row.item_id)
    if record is None:
        return []
    item = label_items.KINDS[row.label_kind].build(session, record, settings)
    return identity_codes(row.label_kind, item.data)


def apply_by_scan(session: Session, *, actor: Actor, label_id: Any, scan: Any, settings: LabelSettings) -> LabelPrint:
    """Mark a printed label applied: ``scan`` is what the scanner read off the label on its container."""
    if isinstance(label_id, bool) or not isinstance(label_id, int):
        raise Invalid({"label_id": translated(N_("must be a label number"))})
    statement = (select(LabelPrint).where(LabelPrint.id == label_id).with_for_update()
                 .execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    require_role(actor.roles, *print_jobs.status_roles(row.label_kind), action=N_("account for printed labels"))
    if not isinstance(scan, str) or not scan.strip():
        raise Invalid({"scan": translated(N_("scan the label on its container"))})
    if len(scan) > MAX_SCAN:
        raise Invalid({"scan": translated(N_("at most {n} characters")).format(n=MAX_SCAN)})
    if row.status != "printed":
        raise Refused(Reason("label_status_not_allowed", id=row.id, item_key=row.item_key, status=row.status,
                             allowed=" or ".join(print_jobs.TRANSITIONS[row.status]) or "nothing further"))
    text = scan.strip()
    printed = identity_codes(row.label_kind, row.content)
    if text not in printed:
        scanned = _named(text, settings.tz)
        raise Refused(Reason("label_scan_mismatch", id=row.id, item_key=row.item_key, scanned=scanned))
    now = _current_identity(session, row, settings)
    if now is not None and text not in now:
        raise Refused(Reason("label_outdated", id=row.id, item_key=row.item_key))
    row.status, row.status_reason, row.status_by, row.status_at = "applied", None, actor.id, utcnow()
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="label_print", record_id=row.id, action="mark_applied",
                 old={"status": "printed"}, new={"status": "applied", "scan": text})
    return row
