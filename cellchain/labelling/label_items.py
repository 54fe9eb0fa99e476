"""Which records a print job covers, and what each of their labels says, read from the database.

A label names one item: a collection, a bag, a subject, one culture vessel of a lot's passage, one QC
sample tube of a lot, or one shipment. ``build`` reads the current rows (a bag's allocation and its
subject, a lot's collection and specification) and hands them to the pure builders of
``cellchain.labelling.data``, so that what prints is what the database holds at the moment of printing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core.canonical import sha256_hex
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.labelling import data as build_data
from cellchain.labelling.data import LabelSettings, Recipient
from cellchain.manufacturing.models import Bag, Collection, Lot, Passage
from cellchain.quality import specifications
from cellchain.trial.models import Allocation, Subject

MAX_VESSELS = 99


@dataclass(frozen=True)
class Vessel:
    """Culture vessel ``vessel_no`` of ``vessels`` at passage ``passage`` of a lot."""

    lot: Lot
    passage: int
    vessel_no: int
    vessels: int


@dataclass(frozen=True)
class QcSample:
    """The tube for test ``test_code``, the ``number``-th test of the lot's specification."""

    lot: Lot
    number: int
    test_code: str


@dataclass(frozen=True)
class Shipment:
    """Bags dispatched together in one transport container."""

    bags: tuple[Bag, ...]
    ship_to: str
    shipped_at: datetime

    @property
    def shipment_id(self) -> str:
        """``SHP-`` + 10 hex digits of the sorted bag ids: the same bags make the same shipment, so
        printing its label again is recognised as a reprint."""
        return "SHP-" + sha256_hex(",".join(sorted(b.bag_code for b in self.bags)))[:10].upper()


@dataclass(frozen=True)
class PrintItem:
    """One label to print: the item it belongs to (type, row id, key) and the data the template prints."""

    item_type: str
    item_id: int
    item_key: str
    data: dict[str, Any]


# --- reading what a label needs -------------------------------------------------------------------------
def recipient_of(session: Session, bag: Bag) -> Recipient | None:
    """The subject the bag is allocated to (allocations.bag_id is unique), or None before allocation."""
    statement = (select(Subject).join(Allocation, Allocation.subject_id == Subject.id)
                 .where(Allocation.bag_id == bag.id))
    subject = session.exec(statement).first()
    return Recipient(subject.subject_code, subject.birth_date, subject.chain_of_identity) if subject else None


def collection_of(session: Session, lot: Lot) -> Collection:
    return session.get(Collection, lot.collection_id)


def passage_row(session: Session, lot: Lot, number: int) -> Passage | None:
    """The passage as last recorded (a correction is a newer row with the same number)."""
    statement = (select(Passage).where(Passage.lot_id == lot.id, Passage.number == number)
                 .order_by(Passage.id.desc()).limit(1))
    return session.exec(statement).first()


def _vessel_dated(session: Session, lot: Lot, passage: int, settings: LabelSettings) -> str:
    row = passage_row(session, lot, passage)
    return build_data.vessel_dated(row.seeded_at if row is not None else None, utcnow(), settings.tz,
                                   settings.label_languages)


# --- one builder per kind ---------------------------------------------------------------------------------
def _collection(session: Session, row: Collection, settings: LabelSettings) -> PrintItem:
    return PrintItem("collection", row.id, row.din, build_data.collection_label(row, settings))


def _bag(session: Session, row: Bag, settings: LabelSettings) -> PrintItem:
    if row.quality_status == "rejected":
        raise Refused(Reason("bag_rejected", variant="label", bag_code=row.bag_code))
    return PrintItem("bag", row.id, row.bag_code, build_data.bag_label(row, recipient_of(session, row), settings))


def _thawed_bag(session: Session, row: Bag, settings: LabelSettings) -> PrintItem:
    """The label printed at a thaw: the bag's label with its thawed expiry (docs/rules.md, "Frozen bags and
    the thaw")."""
    if row.thawed_at is None:
        raise Refused(Reason("bag_not_thawed", bag_code=row.bag_code))
    return _bag(session, row, settings)


def _wristband(session: Session, row: Subject, settings: LabelSettings) -> PrintItem:
    if not row.eligible:
        raise Refused(Reason("subject_not_eligible", subject_code=row.subject_code))
    return PrintItem("subject", row.id, row.subject_code, build_data.wristband_label(row, settings))


def _vessel(session: Session, row: Vessel, settings: LabelSettings) -> PrintItem:
    din = collection_of(session, row.lot).din
    data = build_data.vessel_label(row.lot.lot_number, din, passage=row.passage, vessel_no=row.vessel_no,
                                   vessels=row.vessels, dated=_vessel_dated(session, row.lot, row.passage, settings),
                                   letter=settings.vessel_letter, languages=settings.label_languages)
    key = build_data.vessel_key(row.lot.lot_number, row.passage, row.vessel_no)
    return PrintItem("lot", row.lot.id, key, data)


def _qc_tube(session: Session, row: QcSample, settings: LabelSettings) -> PrintItem:
    din = collection_of(session, row.lot).din
    data = build_data.qc_tube_label(row.lot.lot_number, din, number=row.number, test_code=row.test_code,
                                    spec_version=row.lot.spec_version, letter=settings.qc_letter,
                                    languages=settings.label_languages)
    return PrintItem("qc_sample", row.lot.id, data["sample_id"], data)


def _vial(session: Session, row: Vial, settings: LabelSettings) -> PrintItem:
    """A bank vial's label; a thawed or discarded vial is gone and gets none."""
    if row.state != "frozen":
        raise Refused(Reason("vial_not_frozen", vial_code=row.vial_code, state=row.state))
    bank = session.get(CellBank, row.bank_id)
    data = build_data.vial_label(row.vial_code, bank.din, letter=settings.vial_letter, level=bank.level,
                                 passage=bank.passage, cells_per_vial=bank.cells_per_vial,
                                 cryoprotectant=bank.cryoprotectant, frozen_at=bank.frozen_at, tz=settings.tz,
                                 languages=settings.label_languages)
    return PrintItem("vial", row.id, row.vial_code, data)


def frozen_vials(session: Session, bank: CellBank) -> list[Vial]:
    return list(session.exec(select(Vial).where(Vial.bank_id == bank.id, Vial.state == "frozen")
                             .order_by(Vial.number)))


def _shipper(session: Session, row: Shipment, settings: LabelSettings) -> PrintItem:
    """Only released bags travel (docs/rules.md, "Quarantine"), so only they go into a labelled shipper."""
    held = [Reason("bag_not_released", variant="shipment", bag_code=b.bag_code, quality_status=b.quality_status)
            for b in row.bags if b.quality_status != "released"]
    if held:
        raise Refused(held)
    # a dry shipper and a 2-8 °C container are different containers: one label states one storage
    frozen = [b.bag_code for b in row.bags if build_data.travels_frozen(b)]
    if frozen and len(frozen) != len(row.bags):
        fresh = next(b.bag_code for b in row.bags if not build_data.travels_frozen(b))
        raise Refused(Reason("shipment_mixes_storage", frozen_bag=frozen[0], other_bag=fresh))
    data = build_data.shipper_label(row.shipment_id, row.bags, ship_to=row.ship_to, shipped_at=row.shipped_at,
                                    settings=settings)
    return PrintItem("shipment", min(b.id for b in row.bags), row.shipment_id, data)


@dataclass(frozen=True)
class KindSpec:
    """What a label kind prints from, which rows a job locks, and who may print it first."""

    record_type: type
    build: Callable[[Session, Any, LabelSettings], PrintItem]
    locked: Callable[[Any], list[tuple[type, int]]]
    roles: tuple[str, ...]
    title: str  # marked N_: a refusal words it in the reader's language
    template: str = ""  # the layout in labels/ when it is not the kind's own (a thawed bag's is the bag's)
    print_action: str = N_("print labels")  # what a refusal names the person's attempt (docs/architecture.md)

    def layout(self, kind: str) -> str:
        return self.template or kind


KINDS: dict[str, KindSpec] = {
    "collection": KindSpec(Collection, _collection, lambda r: [(Collection, r.id)], ("lab",), N_("collection"),
                           print_action=N_("print collection labels")),
    "bag": KindSpec(Bag, _bag, lambda r: [(Bag, r.id)], ("lab",), N_("bag"), print_action=N_("print bag labels")),
    # printed by the thaw, on the ward or in the lab (ward/thaw.py); the same layout as the bag's
    "thawed_bag": KindSpec(Bag, _thawed_bag, lambda r: [(Bag, r.id)], ("nurse", "lab"), N_("thawed bag"), "bag",
                           print_action=N_("print a thawed bag's label")),
    "wristband": KindSpec(Subject, _wristband, lambda r: [(Subject, r.id)], ("coordinator", "lab"), N_("wristband"),
                          print_action=N_("print wristbands")),
    "culture_vessel": KindSpec(Vessel, _vessel, lambda r: [(Lot, r.lot.id)], ("lab",), N_("culture vessel"),
                               print_action=N_("print culture vessel labels")),
    "qc_tube": KindSpec(QcSample, _qc_tube, lambda r: [(Lot, r.lot.id)], ("lab",), N_("QC sample tube"),
                        print_action=N_("print QC sample tube labels")),
    "shipper": KindSpec(Shipment, _shipper, lambda r: [(Bag, b.id) for b in r.bags], ("lab",), N_("shipper"),
                        print_action=N_("print shipper labels")),
    "cryovial": KindSpec(Vial, _vial, lambda r: [(Vial, r.id)], ("lab",), N_("cell bank cryovial"),
                         print_action=N_("print cell bank cryovial labels")),
}


def kind_spec(kind: Any) -> KindSpec:
    if not isinstance(kind, str) or kind not in KINDS:
        raise Invalid({"kind": translated(N_(
            "label kind must be one of {choices}")).format(choices=', '.join(sorted(KINDS)))})
    return KINDS[kind]


def lock(session: Session, pairs: Sequence[tuple[type, int]]) -> None:
    """Lock the items' rows, so two jobs for one item cannot both count as its first print."""
    by_model: dict[type, set[int]] = {}
    for model, row_id in pairs:
        by_model.setdefault(model, set()).add(row_id)
    for model, ids in sorted(by_model.items(), key=lambda pair: pair[0].__name__):
        statement = (select(model).where(model.id.in_(sorted(ids))).order_by(model.id).with_for_update()
                     .execution_options(populate_existing=True))
        list(session.exec(statement))


# --- the records behind a print request -------------------------------------------------------------------
def bags_of_lot(session: Session, lot: Lot) -> list[Bag]:
    return list(session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.division, Bag.id)))


def qc_samples(session: Session, lot: Lot) -> list[QcSample]:
    """One tube per required test of the specification the lot is judged by, in the specification's order."""
    spec = specifications.for_lot(session, lot)
    return [QcSample(lot, number, test.code) for number, test in enumerate(spec.tests, start=1) if test.required]


def vessels(lot: Lot, passage: Any, count: Any, passage_limit: int) -> list[Vessel]:
    """Labels for ``count`` vessels of ``passage`` (0 .. the configured passage limit)."""
    errors: dict[str, str] = {}
    if isinstance(passage, bool) or not isinstance(passage, int) or not 0 <= passage <= passage_limit:
        errors["passage"] = translated(N_(
            "give the passage number, 0 to {passage_limit}")).format(passage_limit=passage_limit)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_VESSELS:
        errors["vessels"] = translated(N_(
            "give the number of vessels, 1 to {max_vessels}")).format(max_vessels=MAX_VESSELS)
    if errors:
        raise Invalid(errors)
    if lot.status != "in_process":
        raise Refused(Reason("lot_not_in_process", variant="vessel", lot_number=lot.lot_number, status=lot.status))
    return [Vessel(lot, passage, n, count) for n in range(1, count + 1)]
