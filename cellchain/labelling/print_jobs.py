"""Print jobs and label reconciliation (FACT-JACIE): every label printed is a row, audited, accounted for.

A print job renders many labels into one PDF or ZPL document. Each label is built from the records as
they stand (``label_items``), recorded as a ``LabelPrint`` with the SHA-256 of its canonical data, and
audited. A label printed before for the same item and kind is a reprint: it needs a reason and carries
"REPRINT" on its face, so two labels of one bag can never pass as two originals. Each printed label is
later marked applied, voided or destroyed, so none is left unaccounted for.

Public API (services never commit; the request edge does):

- ``print_labels(session, *, actor, kind, records, settings, reprint_reason=None, fmt="pdf")`` -> bytes | str
- ``print_target(session, *, actor, target, key, settings, ...)`` -> ``Printed`` (for the views)
- ``print_shipper(session, *, actor, bag_codes, ship_to, settings, ...)`` -> ``Printed``
- ``set_status(session, *, actor, label_id, status, reason=None)`` -> LabelPrint
- ``target_history(session, target, key)``, ``shipment_prints(session, shipment_id)``, ``outstanding(session)``
- ``with_user_names(session, rows)`` -> the labels with who printed and accounted for them, as the API answers
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking import banks, vials
from cellchain.core import db
from cellchain.core.canonical import canonical_json, sha256_hex
from cellchain.core.errors import DomainError, Forbidden, Invalid, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.labelling import label_items
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.label_items import KINDS, PrintItem, Shipment
from cellchain.labelling.pdf import render_pdf
from cellchain.labelling.zpl import render_zpl
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, LabelPrint, Lot
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role, roles_worded
from cellchain.trial import subjects

FORMATS = {"pdf": "application/pdf", "zpl": "text/plain"}  # ZPL is text for a printer's raw queue
RESOLUTIONS = (203, 300, 600)  # the Zebra print heads a ZPL job is rendered for
REPRINT_ROLES = ("qa",)
MAX_REASON = 500
MAX_SHIPMENT_BAGS = 40
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "printed": ("applied", "voided", "destroyed"),
    "applied": ("destroyed",),  # taken off its container (relabelled), then destroyed
    "voided": ("destroyed",),
    "destroyed": (),
}
NEEDS_REASON = ("voided", "destroyed")


@dataclass(frozen=True)
class Printed:
    """A finished job: the document and what the browser or printer needs to know about it."""

    content: bytes | str
    fmt: str
    filename: str
    count: int
    reprints: int
    label_ids: tuple[int, ...] = ()  # the LabelPrint rows of this job, for a job sent to a printer

    @property
    def mimetype(self) -> str:
        return FORMATS[self.fmt]


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the label's canonical data without the REPRINT marker: an unchanged reprint hashes as
    its original did, and a changed one (a recipient added) shows that it changed."""
    return sha256_hex(canonical_json({k: v for k, v in data.items() if k != "reprint"}))


def check_dpi(dpi: Any, settings: LabelSettings) -> int:
    """The head resolution a ZPL job is drawn for: the one named (a number or its digits), else the site's."""
    if dpi is None or dpi == "":
        return settings.zpl_dpi
    return _resolution(dpi)


def _resolution(dpi: Any) -> int:
    """A named head resolution: one of the printers' (203, 300, 600 dpi), as a number or its digits."""
    if isinstance(dpi, str) and dpi.isdigit():
        dpi = int(dpi)
    if isinstance(dpi, bool) or dpi not in RESOLUTIONS:
        raise Invalid({"dpi": translated(N_("the printer's resolution: 203, 300 or 600"))})
    return dpi


def _check_format(fmt: Any) -> str:
    if fmt not in FORMATS:
        raise Invalid({"format": translated(N_("choose pdf or zpl"))})
    return fmt


def _build_all(session: Session, kind: str, records: Sequence[Any], settings: LabelSettings) -> list[PrintItem]:
    """Every label's data, or one refusal naming every record that cannot be labelled exactly."""
    spec, items, reasons = KINDS[kind], [], []
    for record in records:
        try:
            item = spec.build(session, record, settings)
            # the label's languages go with its data (recorded): a document made again says what it said
            items.append(replace(item, data={**item.data, "languages": list(settings.label_languages)}))
        except Refused as refused:
            reasons.extend(refused.reasons)
        except (Invalid, ValueError) as bad:  # a stored value no ISBT 128 structure can carry
            message = bad.message if isinstance(bad, DomainError) else str(bad)
            reasons.append(Reason("label_cannot_print", title=spec.title, problem=message))
    if reasons:
        raise Refused(reasons)
    keys = [item.item_key for item in items]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise Invalid({"records": translated(N_(
            "the job names {choices} more than once")).format(choices=', '.join(repeated))})
    return items


def quarantined(content: dict[str, Any]) -> bool:
    """Whether a label's data says QUARANTINE (``data.quarantine_status``)."""
    return bool(content.get("quarantine_text"))


def _printed_before(session: Session, kind: str, items: Sequence[PrintItem]) -> set[str]:
    """The items printed before in the same status. A bag's first label after its release replaces the
    QUARANTINE labels printed before it (the release page lists them): a new label, not a reprint."""
    keys = sorted({item.item_key for item in items})
    status = {item.item_key: quarantined(item.data) for item in items}
    statement = select(LabelPrint.item_key, LabelPrint.content).where(LabelPrint.label_kind == kind,
                                                                      LabelPrint.item_key.in_(keys))
    return {key for key, content in session.exec(statement) if quarantined(content or {}) == status[key]}


def _reprint_reason(reason: Any, reprints: list[str]) -> str | None:
    if not reprints:
        return None
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        shown = ", ".join(reprints[:3]) + (f" and {len(reprints) - 3} more" if len(reprints) > 3 else "")
        raise Invalid({"reason": translated(N_(
            "already printed: {shown}. A reprint needs a reason")).format(shown=shown)})
    if len(text) > MAX_REASON:
        raise Invalid({"reason": translated(N_("at most {n} characters")).format(n=MAX_REASON)})
    return text


def _render(kind: str, labels: list[dict[str, Any]], fmt: str, dpi: int = 203) -> bytes | str:
    """The job's document; ZPL in the dots of a ``dpi`` print head (203, 300 or 600)."""
    layout = KINDS[kind].layout(kind) if kind in KINDS else kind
    try:
        return render_pdf(layout, labels) if fmt == "pdf" else render_zpl(layout, labels, dpi=dpi)
    except ValueError as cannot:  # a value too long for its place: refuse rather than clip a label
        raise Refused(Reason("label_cannot_print", variant="layout", problem=str(cannot))) from None


def _record(session: Session, *, actor: Actor, kind: str, items: Sequence[PrintItem], before: set[str],
            reason: str | None) -> list[LabelPrint]:
    rows = []
    for item in items:
        reprint = item.item_key in before
        rows.append(LabelPrint(item_type=item.item_type, item_id=item.item_id, item_key=item.item_key,
                               label_kind=kind, reprint=reprint, reason=reason if reprint else None,
                               content_hash=content_hash(item.data), content=item.data, printed_by=actor.id))
    session.add_all(rows)
    session.flush()
    for row in rows:
        trail.record(session, actor=actor, record_type="label_print", record_id=row.id,
                     action="reprint" if row.reprint else "print", reason=row.reason,
                     new={"label_kind": kind, "item_type": row.item_type, "item_id": row.item_id,
                          "item_key": row.item_key, "content_hash": row.content_hash, "reprint": row.reprint,
                          "status": row.status})
    return rows


def record_label(session: Session, *, actor: Actor, kind: str, record: Any, settings: LabelSettings) -> LabelPrint:
    """Record the first print of one label that an operation prints as part of its own work (the thaw's
    label), audited like any print; its document is rendered from the recorded data (``recorded_document``)."""
    spec = label_items.kind_spec(kind)
    require_role(actor.roles, *spec.roles, action=spec.print_action)
    items = _build_all(session, kind, [record], settings)
    before = _printed_before(session, kind, items)
    if before:
        raise Refused(Reason("label_already_printed", title=spec.title, item_key=items[0].item_key))
    return _record(session, actor=actor, kind=kind, items=items, before=before, reason=None)[0]


def recorded_document(session: Session, *, actor: Actor, label_id: int, fmt: str, dpi: int = 203) -> Printed:
    """The document of a recorded print (PDF or ZPL) from its recorded data, for the printer it was printed for.

    Only while the label is still ``printed`` (not yet applied, voided or destroyed) and only for the
    person who printed it: it is that print's document, sent to a printer once more if the first send
    failed, never a second original (a second label is a reprint, with its reason).
    """
    _check_format(fmt)
    dpi = _resolution(dpi)
    row = session.get(LabelPrint, label_id)
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    if row.printed_by != actor.id:
        raise Forbidden(translated(N_("only the person who printed this label may send its document to a printer")))
    if row.status != "printed":
        raise Refused(Reason("label_accounted_for", id=row.id, status=row.status))
    content = _render(row.label_kind, [{**row.content, "reprint": row.reprint}], fmt, dpi)
    return Printed(content, fmt, f"{row.label_kind}-{row.item_key}.{fmt}", 1, int(row.reprint), (row.id,))


def print_labels(session: Session, *, actor: Actor, kind: str, records: Iterable[Any], settings: LabelSettings,
                 reprint_reason: str | None = None, fmt: str = "pdf", dpi: Any = None) -> bytes | str:
    """One PDF (bytes) or ZPL (text) for all ``records`` of one label kind, each label recorded and audited.

    ``records`` are Collection, Bag or Subject rows, or ``label_items.Vessel``/``QcSample``/``Shipment``,
    as ``kind`` says. A label printed before needs ``reprint_reason`` and prints "REPRINT". The kind's
    printing role may print; a QA reviewer may only reprint.
    """
    return _print(session, actor=actor, kind=kind, records=records, settings=settings,
                  reprint_reason=reprint_reason, fmt=fmt, dpi=dpi)[0]


def _print(session: Session, *, actor: Actor, kind: str, records: Iterable[Any], settings: LabelSettings,
           reprint_reason: str | None, fmt: str, dpi: Any = None) -> tuple[bytes | str, int, tuple[int, ...]]:
    """``print_labels``, also saying how many of the labels were reprints and which rows recorded them; ZPL for
    a ``dpi`` print head, the site's (``LABEL_ZPL_DPI``) when none is named."""
    spec = label_items.kind_spec(kind)
    _check_format(fmt)
    records = list(records)
    require_role(actor.roles, *spec.roles, *REPRINT_ROLES, action=spec.print_action)
    if not records:
        raise Invalid({"records": translated(N_("nothing to print"))})
    if not all(isinstance(r, spec.record_type) for r in records):
        raise TypeError(f"{kind} labels are printed from {spec.record_type.__name__} records")
    label_items.lock(session, [pair for record in records for pair in spec.locked(record)])
    items = _build_all(session, kind, records, settings)
    before = _printed_before(session, kind, items)
    reprints = [item.item_key for item in items if item.item_key in before]
    if len(reprints) < len(items) and not actor.has_role(*spec.roles):
        raise Forbidden(translated(N_("a QA reviewer may reprint a {title} label; the first print is for {roles}"))
                        .format(title=translated(spec.title), roles=roles_worded(spec.roles)))
    reason = _reprint_reason(reprint_reason, reprints)
    output = _render(kind, [{**item.data, "reprint": item.item_key in before} for item in items], fmt,
                     check_dpi(dpi, settings))
    rows = _record(session, actor=actor, kind=kind, items=items, before=before, reason=reason)
    return output, len(reprints), tuple(row.id for row in rows)


# --- print targets: what the pages and the API name by key -----------------------------------------------
TARGETS: dict[str, str] = {"collection": "collection", "bag": "bag", "lot": "bag", "qc": "qc_tube",
                           "vessel": "culture_vessel", "subject": "wristband", "shipment": "shipper",
                           "vial": "cryovial", "bank": "cryovial"}
"""Print page target -> label kind. ``lot`` prints the bag labels of all its bags, ``bank`` the labels of
all its frozen vials."""
TARGET_TITLES = {"collection": N_("Collection label"), "bag": N_("Bag label"), "lot": N_("Bag labels of the lot"),
                 "qc": N_("QC sample tube labels"), "vessel": N_("Culture vessel labels"), "subject": N_("Wristband"),
                 "shipment": N_("Shipper label"), "vial": N_("Cryovial label"),
                 "bank": N_("Cryovial labels of the bank")}
"""Each print page's title, in English; the page shows it in the reader's language."""


def target_kind(target: Any) -> str:
    if not isinstance(target, str) or target not in TARGETS:
        raise NotFound(f"nothing to print for {str(target)[:40]!r}")
    return TARGETS[target]


def _records(session: Session, target: str, key: str, settings: LabelSettings, passage: Any,
             vessels: Any) -> list[Any]:
    if target == "collection":
        return [lookups.collection_by_din(session, key)]
    if target == "bag":
        return [lookups.bag_by_code(session, key)]
    if target == "subject":
        return [subjects.subject_by_code(session, key)]
    if target == "vial":
        return [vials.vial_by_code(session, key)]
    if target == "bank":
        frozen = label_items.frozen_vials(session, banks.bank_by_code(session, key))
        if not frozen:
            raise Refused(Reason("bank_has_no_frozen_vials", key=key))
        return frozen
    lot = lookups.lot_by_number(session, key)
    if target == "lot":
        bags = label_items.bags_of_lot(session, lot)
        if not bags:
            raise Refused(Reason("lot_has_no_bags", lot_number=lot.lot_number))
        return bags
    if target == "qc":
        return label_items.qc_samples(session, lot)
    if target == "vessel":
        return label_items.vessels(lot, passage, vessels, settings.passage_limit)
    raise NotFound(f"a {target} label is printed from its own page")


def print_target(session: Session, *, actor: Actor, target: str, key: str, settings: LabelSettings,
                 reprint_reason: str | None = None, fmt: str = "pdf", passage: Any = None,
                 vessels: Any = None, dpi: Any = None) -> Printed:
    """Print the labels a page or API path names: ``target`` (see TARGETS) and its key (DIN, bag id,
    lot id, subject id); vessel labels also take ``passage`` and ``vessels`` (how many)."""
    kind = target_kind(target)
    _check_format(fmt)
    require_role(actor.roles, *KINDS[kind].roles, *REPRINT_ROLES, action=KINDS[kind].print_action)
    records = _records(session, target, key, settings, passage, vessels)
    content, reprints, ids = _print(session, actor=actor, kind=kind, records=records, settings=settings,
                                    reprint_reason=reprint_reason, fmt=fmt, dpi=dpi)
    suffix = f"-P{passage}" if target == "vessel" else ""
    return Printed(content, fmt, f"{kind}-{key}{suffix}.{fmt}", len(records), reprints, ids)


def print_shipper(session: Session, *, actor: Actor, bag_codes: Any, ship_to: Any, settings: LabelSettings,
                  shipped_at: datetime | None = None, reprint_reason: str | None = None,
                  fmt: str = "pdf", dpi: Any = None) -> Printed:
    """The shipper label for bags dispatched together (its id follows from the bags, see ``Shipment``)."""
    require_role(actor.roles, *KINDS["shipper"].roles, *REPRINT_ROLES, action=N_("print shipper labels"))
    errors: dict[str, str] = {}
    if not isinstance(bag_codes, list) or not bag_codes or not all(isinstance(c, str) for c in bag_codes):
        errors["bags"] = translated(N_("give the bag ids in the container as a list"))
    elif len(bag_codes) > MAX_SHIPMENT_BAGS or len(set(bag_codes)) != len(bag_codes):
        errors["bags"] = translated(N_(
            "give 1 to {max_shipment_bags} different bag ids")).format(max_shipment_bags=MAX_SHIPMENT_BAGS)
    if not isinstance(ship_to, str) or not ship_to.strip() or len(ship_to) > 200:
        errors["ship_to"] = translated(N_("say where the container goes (at most 200 characters)"))
    if errors:
        raise Invalid(errors)
    bags = tuple(lookups.bag_by_code(session, code) for code in bag_codes)
    shipment = Shipment(bags, ship_to.strip(), shipped_at or utcnow())
    content, reprints, ids = _print(session, actor=actor, kind="shipper", records=[shipment], settings=settings,
                                    reprint_reason=reprint_reason, fmt=fmt, dpi=dpi)
    return Printed(content, fmt, f"shipper-{shipment.shipment_id}.{fmt}", 1, reprints, ids)


# --- history and reconciliation ---------------------------------------------------------------------------
def _history_where(session: Session, target: str, key: str):
    kind = target_kind(target)
    if target == "bag":  # its labels before and after a thaw
        return LabelPrint.label_kind.in_((kind, "thawed_bag")), LabelPrint.item_key == key
    if target in ("collection", "subject", "shipment", "vial"):
        return LabelPrint.label_kind == kind, LabelPrint.item_key == key
    if target == "bank":
        return LabelPrint.label_kind == kind, LabelPrint.item_key.startswith(banks.bank_by_code(session, key).bank_code
                                                                             + "-V")
    lot = lookups.lot_by_number(session, key)
    if target == "lot":
        bag_ids = [b.id for b in label_items.bags_of_lot(session, lot)]
        return LabelPrint.label_kind == kind, LabelPrint.item_type == "bag", LabelPrint.item_id.in_(bag_ids)
    item_type = "qc_sample" if target == "qc" else "lot"
    return LabelPrint.label_kind == kind, LabelPrint.item_type == item_type, LabelPrint.item_id == lot.id


def target_history(session: Session, target: str, key: str) -> list[LabelPrint]:
    """Every label printed for what a print page shows, by item then time: the reconciliation list."""
    statement = select(LabelPrint).where(*_history_where(session, target, key))
    return list(session.exec(statement.order_by(LabelPrint.item_key, LabelPrint.printed_at, LabelPrint.id)))


def shipment_prints(session: Session, shipment_id: str) -> list[LabelPrint]:
    return target_history(session, "shipment", shipment_id)


def outstanding(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the labels printed but not yet marked applied, voided or destroyed, oldest first (keyset
    on the print time and id; index ix_label_prints_status, migration 0012)."""
    statement = select(LabelPrint).where(LabelPrint.status == "printed")
    return db.keyset(session, statement, (LabelPrint.printed_at, LabelPrint.id), page)


def status_roles(label_kind: str) -> tuple[str, ...]:
    """Who accounts for a label: those who print it, QA, and for wristbands the nurse who puts it on."""
    spec = label_items.kind_spec(label_kind)
    return (*spec.roles, *REPRINT_ROLES, *(("nurse",) if label_kind == "wristband" else ()))


def require_status_role(session: Session, *, actor: Actor, label_id: int) -> None:
    """Refuse (404, 403) before anything else is read: who may account for a label depends on its kind."""
    row = session.get(LabelPrint, label_id)
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    require_role(actor.roles, *status_roles(row.label_kind), action=N_("account for printed labels"))


def set_status(session: Session, *, actor: Actor, label_id: Any, status: Any, reason: Any = None) -> LabelPrint:
    """Mark a printed label applied, voided or destroyed; voiding and destroying need a reason."""
    if isinstance(label_id, bool) or not isinstance(label_id, int):
        raise Invalid({"label_id": translated(N_("must be a label number"))})
    statement = (select(LabelPrint).where(LabelPrint.id == label_id).with_for_update()
                 .execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    require_role(actor.roles, *status_roles(row.label_kind), action=N_("account for printed labels"))
    if status not in ("applied", "voided", "destroyed"):
        raise Invalid({"status": translated(N_("choose applied, voided or destroyed"))})
    if status == "applied":  # closed loop: only a scan of the label on its container applies it
        raise Refused(Reason("label_apply_by_scan", id=row.id, item_key=row.item_key))
    text = reason.strip() if isinstance(reason, str) else ""
    if status in NEEDS_REASON and not text:
        raise Invalid({"reason": translated(N_("say why the label is {status}")).format(status=translated(status))})
    if len(text) > MAX_REASON:
        raise Invalid({"reason": translated(N_("at most {n} characters")).format(n=MAX_REASON)})
    if status not in TRANSITIONS[row.status]:
        allowed = " or ".join(TRANSITIONS[row.status]) or "nothing further"
        raise Refused(Reason("label_status_not_allowed", id=row.id, item_key=row.item_key, status=row.status,
                             allowed=allowed))
    old = row.status
    row.status, row.status_reason, row.status_by, row.status_at = status, text or None, actor.id, utcnow()
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="label_print", record_id=row.id, action=f"mark_{status}",
                 old={"status": old}, new={"status": status}, reason=text or None)
    return row


TARGET_PAGES = {"collection": "collection", "bag": "bag", "thawed_bag": "bag", "wristband": "subject",
                "shipper": "shipment", "cryovial": "vial"}
"""The print page each kind of label belongs to, keyed by what is printed on it; vessel and QC-tube labels
belong to their lot's page (``targets_of``)."""
LOT_PAGES = {"culture_vessel": "vessel", "qc_tube": "qc"}


def target_of(session: Session, label_id: int) -> tuple[str, str]:
    """The print page (target, key) a printed label belongs to."""
    row = session.get(LabelPrint, label_id)
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    return targets_of(session, [row])[row.id]


def targets_of(session: Session, rows: Sequence[LabelPrint]) -> dict[int, tuple[str, str]]:
    """``target_of`` for a page of printed labels, by label id: the lots of vessel and QC-tube labels read in
    one statement, whatever the number of labels."""
    lot_ids = sorted({row.item_id for row in rows if row.label_kind in LOT_PAGES})
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids))).all()) if lot_ids else {}
    return {row.id: (LOT_PAGES[row.label_kind], numbers[row.item_id]) if row.label_kind in LOT_PAGES
            else (TARGET_PAGES[row.label_kind], row.item_key) for row in rows}


def user_names(session: Session, rows: Iterable[LabelPrint]) -> dict[int, str]:
    """Usernames of the people who printed or accounted for these labels, by user id."""
    ids = {i for row in rows for i in (row.printed_by, row.status_by) if i is not None}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.username).where(User.id.in_(sorted(ids)))).all())


@dataclass(frozen=True)
class NamedLabel:
    """A printed label with the usernames of who printed it and who last accounted for it."""

    label: LabelPrint
    printed_by: str | None
    status_by: str | None


def with_user_names(session: Session, rows: Sequence[LabelPrint]) -> list[NamedLabel]:
    """The labels with their people's usernames, read in one query for all of them."""
    names = user_names(session, rows)
    return [NamedLabel(row, names.get(row.printed_by), names.get(row.status_by)) for row in rows]


def shipment_contents(session: Session, row: LabelPrint) -> list[tuple[str, Bag | None]]:
    """The bags a shipper label stands for, each with its record as it is now (None if it is gone)."""
    codes = row.content.get("bag_ids", [])
    found = {b.bag_code: b for b in session.exec(select(Bag).where(Bag.bag_code.in_(codes)))}
    return [(code, found.get(code)) for code in codes]
