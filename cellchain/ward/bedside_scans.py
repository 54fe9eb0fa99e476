"""Reading the two bedside scans: which subject a wristband names, which bag a bag's codes name.

A scan's content never makes the request fail: what cannot be read, or reads as the wrong kind of
thing, becomes the reason a bedside check fails (``bedside_checks.wristband_is_a_subject``,
``bedside_checks.bag_identified``), so the nurse sees it beside every other check and the attempt is recorded.
Only a request without both scans is refused outright (``parse_scans``, 400).

What the label carries besides the identity is compared with the record: a wristband 2D code's birth
date, a bag 2D code's expiry. A label that disagrees with its record is a wrong label (at the bedside
every identifier on the container is matched: docs/rules.md, "Ward: the bedside check").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated
from cellchain.core.words.checks import Said, said
from cellchain.core.words.moments import site_clock
from cellchain.identifiers.scans import MAX_SCAN_LENGTH, Scan, parse_scan
from cellchain.ward.bedside_facts import BagView, SubjectView, subject_by_code

MAX_BAG_SCANS = 4


@dataclass(frozen=True)
class Scans:
    """What was scanned: the wristband, and the bag's 2D code (one text) or its linear codes."""

    wristband: str
    bag: tuple[str, ...]

    @property
    def bag_text(self) -> str:
        return "\n".join(self.bag)


def parse_scans(wristband: Any, bag: Any) -> Scans:
    """The two scans as text; only a missing or malformed request is refused (400), never a scan's content."""
    fields = {}
    if not isinstance(wristband, str) or not wristband.strip():
        fields["wristband"] = translated(N_("scan the subject's wristband"))
    elif len(wristband) > MAX_SCAN_LENGTH:
        fields["wristband"] = translated(N_(
            "at most {max_scan_length} characters")).format(
            max_scan_length=MAX_SCAN_LENGTH)
    parts = [bag] if isinstance(bag, str) else bag
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_BAG_SCANS or not all(
            isinstance(p, str) and p.strip() and len(p) <= 4 * MAX_SCAN_LENGTH for p in parts):
        fields["bag"] = (translated(N_(
            "scan the bag's 2D code, or give its linear scans (DIN, product code) as a list of 1-{max_bag_scans} "
            "texts")).format(
                max_bag_scans=MAX_BAG_SCANS))
    if fields:
        raise Invalid(fields)
    return Scans(wristband.strip(), tuple(p.strip() for p in parts))


class Wristband(NamedTuple):
    """What a wristband scan says: the subject's id and, on a 2D wristband, the birth date and the chain-of-
    identity identifier; or why not."""

    subject_code: str | None
    birth_date: date | None
    problem: Said | None
    chain_of_identity: str | None = None


def read_wristband(text: str, tz: ZoneInfo) -> Wristband:
    """Read a wristband scan without looking anything up (a typed id is not a wristband)."""
    try:
        scan = parse_scan(text, tz=tz)
    except Invalid as refusal:
        return Wristband(None, None, said("scan:wristband_unreadable",
                                          why=refusal.fields.get("data", refusal.message)))
    is_2d = scan.kind == "compound" and "subject_id" in scan.fields and "bag_id" not in scan.fields
    if scan.kind != "subject" and not is_2d:
        return Wristband(None, None, said("scan:not_a_wristband", scan=scan.kind))
    born = next((s.fields["birth_date"] for s in scan.fields.get("structures", ()) if s.kind == "patient_birth_date"),
                None)
    return Wristband(scan.fields["subject_id"], born, None, scan.fields.get("chain_of_identity"))


def wristband_match(wristband: Wristband, subject: SubjectView | None) -> tuple[SubjectView | None, Said | None]:
    """The subject the wristband names, as found in the database, or why it names none."""
    if wristband.subject_code is None:
        return None, wristband.problem
    code = wristband.subject_code
    if subject is None:
        return None, said("scan:subject_not_registered", subject_code=code)
    if wristband.birth_date is not None and wristband.birth_date != subject.birth_date:
        return None, said("scan:birth_date_mismatch", birth_date=wristband.birth_date.isoformat(), subject_code=code)
    return subject, None


def wristband_subject(session: Session, text: str, tz: ZoneInfo) -> tuple[SubjectView | None, Said | None]:
    """The subject a wristband scan names, or why it names none."""
    wristband = read_wristband(text, tz)
    if wristband.subject_code is None:
        return None, wristband.problem
    return wristband_match(wristband, subject_by_code(session.connection(), wristband.subject_code))


def bag_code_of(parts: Sequence[str], tz: ZoneInfo) -> tuple[str | None, dict[str, Any], Said | None]:
    """The bag id the scans spell, with what else the label carries, or why they spell none."""
    try:
        scans = [parse_scan(p, tz=tz) for p in parts]
    except Invalid as refusal:
        return None, {}, said("scan:bag_unreadable", why=refusal.fields.get("data", refusal.message))
    if len(scans) == 1 and "bag_id" in scans[0].fields:
        return scans[0].fields["bag_id"], scans[0].fields, None
    by_kind: dict[str, Scan] = {}
    for scan in scans:
        if scan.kind not in ("din", "product_code", "expiry_datetime", "expiry_date") or scan.kind in by_kind:
            return None, {}, said("scan:not_bag_identity", scan=scan.kind)
        by_kind[scan.kind] = scan
    missing = [kind for kind in ("din", "product_code") if kind not in by_kind]
    if missing:
        return None, {}, said(f"scan:{'_and_'.join(missing)}_missing")
    din, product = by_kind["din"].fields, by_kind["product_code"].fields
    label = {k: v for s in scans for k, v in s.fields.items() if k == "expires_at"}
    return f"{din['din']}-{product['product_code']}{product['collection_type']}{product['division']}", label, None


def label_problem(bag: BagView, label: Mapping[str, Any], tz: ZoneInfo) -> Said | None:
    """A label whose expiry disagrees with the bag's record is a label of another bag, or a wrong label."""
    printed = label.get("expires_at")
    if printed is None:
        return None
    frozen_expiry = getattr(bag, "frozen_expires_at", None) if getattr(bag, "thawed_at", None) else None
    if frozen_expiry is not None and printed == frozen_expiry.astimezone(tz).replace(second=0, microsecond=0):
        return None  # the bag's own frozen label: identified; ``thaw_label_scanned`` refuses it by name
    record = bag.expires_at.astimezone(tz)
    if isinstance(printed, datetime):
        same = printed == record.replace(second=0, microsecond=0)
    else:
        same = printed == record.date()
    if same:
        return None
    shown = site_clock(printed, tz) if isinstance(printed, datetime) else printed.isoformat()
    return said("scan:label_expiry_mismatch", printed=shown, bag_code=bag.bag_code, record=site_clock(record, tz))


def bag_scan_prompt(parts: Sequence[str], tz: ZoneInfo) -> str | None:
    """What to scan next when a page has only half of a bag's linear identity (DIN or product code)."""
    try:
        kinds = {parse_scan(p, tz=tz).kind for p in parts}
    except Invalid:
        return None
    if kinds == {"din"}:
        return translated(N_("Now scan the bag's product code barcode."))
    if kinds == {"product_code"}:
        return translated(N_("Now scan the bag's DIN barcode."))
    return None

