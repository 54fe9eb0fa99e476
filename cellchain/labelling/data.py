"""What each label says, built from the database's own values: the data dicts the templates print.

A label is trusted at the bedside only if it says exactly what the record holds, so nothing here is typed
in by a person: every barcode is encoded from the stored DIN, product code, division, expiry and subject
with the strict encoders of ``cellchain.identifiers.isbt128`` (which refuse rather than print a structure a
scanner could not read back), and every eye-readable line is formatted from the same values.

Pure functions: rows are read for their attributes only (no session, no Flask). Site settings (time zone,
facility name, product descriptions, storage range, label languages) arrive in a ``LabelSettings``, taken
from the app's configuration by the caller.

The words of a value (the storage instruction, the product description, "cells", the anticoagulant and its
lot) are English messages of ``site/words.py``, printed in every label language: a sentence whole in each,
one language a line; words beside a number or code around it, the number once. A product description the
site configures prints in Chinese when the catalogue has it in the context ``label``, else in English only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cellchain.core.words.moments import site_clock
from cellchain.identifiers import isbt128
from cellchain.identifiers.scans import wristband_data
from cellchain.labelling.site import words

DATE_FORMAT = "%Y-%m-%d"
MOMENT_FORMAT = "%Y-%m-%d %H:%M"  # 24-hour clock, as ISBT 128 bag labels print times


@dataclass(frozen=True)
class LabelSettings:
    """The site's values that appear on labels; built from the app configuration by the web layer."""

    timezone: str
    facility_name: str
    product_descriptions: Mapping[str, str]
    bag_temperature: tuple[float, float]
    trial_id: str
    passage_limit: int
    facility_contact: str = ""
    verify_url_base: str = ""  # the shipper's QR: verify_url_base + shipment id
    vial_letter: str = "a"  # the local data identifier of a bank vial (LOCAL_DATA_IDENTIFIERS["vial"])
    label_languages: tuple[str, ...] = ("en",)  # captions, statements and status in these, in this order
    statement: str = "cn_clinical_trial"  # the product statement's jurisdiction (site/words.py STATEMENTS)
    facility_address: str = ""
    facility_telephone: str = ""
    zpl_dpi: int = 203  # the site's Zebra heads, when a job names no printer
    vessel_letter: str = "e"  # ... of a culture vessel (LOCAL_DATA_IDENTIFIERS["vessel"])
    qc_letter: str = "f"  # ... of a QC sample tube (LOCAL_DATA_IDENTIFIERS["qc_tube"])
    location_code: str = "00"  # the patient structures' location code (PATIENT_LOCATION_CODE)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, verify_url_base: str = "") -> LabelSettings:
        low, high = config["TEMPERATURE_RANGES"]["bag"]
        return cls(timezone=config["SITE_TIMEZONE"], facility_name=config["FACILITY_NAME"],
                   product_descriptions=dict(config["PRODUCT_DESCRIPTIONS"]),
                   bag_temperature=(float(low), float(high)), trial_id=config["TRIAL_ID"],
                   passage_limit=int(config["PASSAGE_LIMIT"]),
                   facility_contact=config.get("FACILITY_CONTACT") or "", verify_url_base=verify_url_base,
                   vial_letter=config["LOCAL_DATA_IDENTIFIERS"]["vial"],
                   label_languages=words.check_languages(config["LABEL_LANGUAGES"]),
                   statement=config["LABEL_STATEMENT"], facility_address=config["FACILITY_ADDRESS"] or "",
                   facility_telephone=config["FACILITY_TELEPHONE"] or "", zpl_dpi=int(config["LABEL_ZPL_DPI"]),
                   vessel_letter=config["LOCAL_DATA_IDENTIFIERS"]["vessel"],
                   qc_letter=config["LOCAL_DATA_IDENTIFIERS"]["qc_tube"],
                   location_code=config["PATIENT_LOCATION_CODE"])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Recipient:
    """The subject a bag is allocated to, as the bag label prints it (identifier, birth date and the
    subject's chain-of-identity identifier, issued at randomization)."""

    subject_code: str
    birth_date: date
    chain_of_identity: str | None = None


# --- formatting -------------------------------------------------------------------------------------------
def site_moment(moment: datetime, tz: ZoneInfo) -> str:
    """``2026-11-26 12:00 UTC+8``: seconds dropped, as the ISBT 128 date-time structures drop them; the
    offset in its short form, which a label's line has room for."""
    return site_clock(moment, tz, MOMENT_FORMAT, compact=True)


def utc_moment(moment: datetime) -> str:
    return f"{moment.astimezone(UTC).strftime(MOMENT_FORMAT)} UTC"


def cell_content(total_cells: int | None, languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> str:
    """``7.0 x 10^7 cells``: two significant figures, the way cell doses are stated (``7.0 x 10^7 个细胞 cells``
    in Chinese and English)."""
    if total_cells is None:
        return words.say(words.NO_CELLS, languages)
    if isinstance(total_cells, bool) or not isinstance(total_cells, int) or total_cells <= 0:
        raise ValueError(f"total cells must be a positive whole number, got {total_cells!r}")
    mantissa, exponent = f"{total_cells:.1e}".split("e")
    return f"{mantissa} x 10^{int(exponent)} {words.say(words.CELLS, languages)}"


def millilitres(volume: float) -> str:
    if not isinstance(volume, int | float) or not math.isfinite(volume) or volume <= 0:
        raise ValueError(f"a volume must be a positive number, got {volume!r}")
    return f"{volume:g} mL"


def temperature_instruction(message: str, low: float, high: float, languages: Sequence[str]) -> str:
    """``Store at 2 °C to 8 °C`` (``words.STORE_AT`` or ``KEEP_AT``) in every label language, a line each."""
    return words.lines(message, languages, low=f"{low:g}", high=f"{high:g}")


# --- shared pieces ----------------------------------------------------------------------------------------
def din_fields(din_text: str) -> dict[str, str]:
    """The DIN barcode (``=`` + DIN + type 3 flags), its eye-readable form and the boxed check character."""
    din = isbt128.Din.parse(din_text)
    return {"din_barcode": din.barcode_data(), "din_eye_readable": din.eye_readable, "din_check": din.check}


def _product(row: Any) -> isbt128.ProductCode:
    return isbt128.ProductCode(row.product_code, row.collection_type, row.division)


# --- one builder per label kind ---------------------------------------------------------------------------
def collection_label(collection: Any, settings: LabelSettings) -> dict[str, Any]:
    """The cord's container at collection: DIN, collection date-time in site time, QUARANTINE."""
    fields = din_fields(collection.din)
    collected = isbt128.encode_moment("collection_datetime", collection.collected_at, settings.tz)
    # A pending donor is not yet ineligible: the label says the determination is still to come.
    quarantine = words.say({"eligible": words.QUARANTINE, "pending": words.QUARANTINE_DONOR_PENDING}.get(
        collection.eligibility, words.QUARANTINE_DONOR_INELIGIBLE), settings.label_languages)
    return {**fields, "collection_barcode": collected,
            "collected_local": site_moment(collection.collected_at, settings.tz),
            "compound_2d": isbt128.encode_compound([fields["din_barcode"], collected]),
            "product_description": words.lines(words.COLLECTION_DESCRIPTION, settings.label_languages),
            "collection_facility": settings.facility_name,
            "quarantine_text": quarantine}


def vessel_key(lot_number: str, passage: int, vessel_no: int) -> str:
    """``A999926000001-P2-V03``: one culture vessel of one passage (it names its lot, too)."""
    return f"{lot_number}-P{passage}-V{vessel_no:02d}"


def vessel_dated(seeded_at: datetime | None, labelled_at: datetime, tz: ZoneInfo,
                 languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> str:
    """``Seeded 2026-11-30`` (the passage's seeding day in site time), or ``Labelled`` and today before the
    passage is recorded."""
    word, moment = (words.SEEDED, seeded_at) if seeded_at is not None else (words.LABELLED, labelled_at)
    return f"{words.say(word, languages)} {moment.astimezone(tz).strftime(DATE_FORMAT)}"


def vessel_label(lot_number: str, din_text: str, *, passage: int, vessel_no: int, vessels: int,
                 dated: str, letter: str = "e", languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> dict[str, Any]:
    """A culture vessel: the lot's DIN and the vessel's own identifier, a local data structure (``&e`` +
    vessel key by default: LOCAL_DATA_IDENTIFIERS["vessel"]; docs/identifiers.md)."""
    fields = din_fields(din_text)
    structures = [fields["din_barcode"], isbt128.encode_local(letter, vessel_key(lot_number, passage, vessel_no))]
    which = words.say(words.VESSEL_OF, languages, number=str(vessel_no), count=str(vessels))
    return {**fields, "lot_id": lot_number, "passage": f"P{passage}", "vessel_no": which,
            "dated": dated, "compound_2d": isbt128.encode_compound(structures)}


def qc_sample_id(lot_number: str, number: int) -> str:
    """``A999926000001-Q03``: the third test of the lot's specification."""
    return f"{lot_number}-Q{number:02d}"


def qc_tube_label(lot_number: str, din_text: str, *, number: int, test_code: str, spec_version: str,
                  letter: str = "f", languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> dict[str, Any]:
    """A QC sample tube: too small for linear codes, so the 2D code carries the DIN and the sample id (a
    local data structure, ``&f`` by default: LOCAL_DATA_IDENTIFIERS["qc_tube"]), which names the lot."""
    fields = din_fields(din_text)
    sample_id = qc_sample_id(lot_number, number)
    structures = [fields["din_barcode"], isbt128.encode_local(letter, sample_id)]
    return {**fields, "sample_id": sample_id, "test_name": f"{words.say(words.TEST, languages)} {test_code}",
            "spec_version": f"{words.say(words.SPEC, languages)} {spec_version}", "lot_id": lot_number,
            "compound_2d": isbt128.encode_compound(structures)}


def _bag_contents(bag: Any, languages: Sequence[str]) -> str:
    """The second description line: what is in the bag besides the product (``0.9% sodium chloride, lot
    NS260415``; ``0.9% 氯化钠 sodium chloride, 批号 lot NS260415`` in Chinese and English)."""
    lot_number = bag.saline_lot if bag.kind == "placebo" else bag.anticoagulant_lot
    lot = f", {words.say(words.LOT, languages)} {lot_number}" if lot_number else ""
    if bag.kind == "placebo":
        return f"0.9% {words.say(words.SODIUM_CHLORIDE, languages)}{lot}"
    if not bag.anticoagulant:
        return words.say(words.NO_ANTICOAGULANT, languages)
    volume = f" {millilitres(bag.anticoagulant_volume_ml)}" if bag.anticoagulant_volume_ml else ""
    return f"{words.say(words.ANTICOAGULANT, languages)} {bag.anticoagulant}{volume}{lot}"


FROZEN_STORAGE = words.STORE_FROZEN


def _bag_storage(bag: Any, settings: LabelSettings) -> str:
    """The storage instruction: the bag range for fresh bags; frozen storage for a cryopreserved bag before
    its thaw; after the thaw, when it was thawed and that it is never refrozen. A sentence in each label
    language, a line each."""
    languages = settings.label_languages
    if getattr(bag, "preservation", "fresh") != "cryopreserved":
        return temperature_instruction(words.STORE_AT, *settings.bag_temperature, languages)
    if getattr(bag, "thawed_at", None) is None:
        return words.lines(FROZEN_STORAGE, languages)
    return words.lines(words.THAWED, languages, moment=site_moment(bag.thawed_at, settings.tz))


def travels_frozen(bag: Any) -> bool:
    """A cryopreserved bag not yet thawed: it travels in a dry shipper, in vapour-phase liquid nitrogen."""
    return getattr(bag, "preservation", "fresh") == "cryopreserved" and getattr(bag, "thawed_at", None) is None


def shipper_storage(bags: Sequence[Any], settings: LabelSettings) -> str:
    """The shipper's storage instruction: the frozen bag's own (``FROZEN_STORAGE``) when it carries frozen
    bags, else the bag range; a sentence in each label language, a line each. One container holds bags of
    one storage only (``label_items._shipper`` refuses a mix)."""
    if any(travels_frozen(b) for b in bags):
        return words.lines(FROZEN_STORAGE, settings.label_languages)
    return temperature_instruction(words.KEEP_AT, *settings.bag_temperature, settings.label_languages)


def bag_label(bag: Any, recipient: Recipient | None, settings: LabelSettings) -> dict[str, Any]:
    """The final bag (ISBT 128 cellular-therapy layout) and its 2D code carrying every structure on it.

    The expiry is the one that applies now: after a thaw, the thawed expiry (``ward/thaw.py``), so the
    post-thaw label's 2D code carries the new expiry date-time (ISBT 128 ``&>`` structure).
    """
    if bag.kind not in settings.product_descriptions:
        raise ValueError(f"no product description configured for {bag.kind!r} (PRODUCT_DESCRIPTIONS)")
    fields = din_fields(bag.din)
    product = _product(bag)
    expiry = isbt128.encode_moment("expiry_datetime", bag.expires_at, settings.tz)
    structures = [fields["din_barcode"], product.encode(), expiry]
    coi = coi_fields(recipient.chain_of_identity if recipient else None)
    if recipient is not None:
        structures += [wristband_data(recipient.subject_code, location=settings.location_code),
                       isbt128.encode_birth_date(recipient.birth_date, settings.location_code)]
    if coi["coi_barcode"]:
        structures.append(coi["coi_barcode"])
    return {**fields, "collection_facility": settings.facility_name,
            "product_code_barcode": product.encode(), "product_code_eye_readable": product.text,
            "product_description": words.lines(settings.product_descriptions[bag.kind], settings.label_languages),
            "anticoagulant": _bag_contents(bag, settings.label_languages), "volume": millilitres(bag.volume_ml),
            "cell_content": cell_content(bag.total_cells, settings.label_languages),
            "storage_temperature": _bag_storage(bag, settings),
            "recipient_id": recipient.subject_code if recipient else "",
            "recipient_birth_date": recipient.birth_date.strftime(DATE_FORMAT) if recipient else "",
            **coi, "expiry_barcode": expiry, "expiry_local": site_moment(bag.expires_at, settings.tz),
            "expiry_utc": utc_moment(bag.expires_at), "compound_2d": isbt128.encode_compound(structures),
            "releasing_establishment": establishment(settings),
            "statement": words.statement(settings.statement, settings.label_languages),
            **quarantine_status(bag.quality_status, settings)}


def establishment(settings: LabelSettings) -> str:
    """The releasing establishment: name, address and telephone, a line each (those the site sets)."""
    telephone = (words.say(words.TELEPHONE, settings.label_languages, number=settings.facility_telephone)
                 if settings.facility_telephone else "")
    return "\n".join(line for line in (settings.facility_name, settings.facility_address, telephone) if line)


def quarantine_status(quality_status: str, settings: LabelSettings) -> dict[str, str]:
    """QUARANTINE, in every label language, on the label of a product QA has not released (docs/rules.md,
    "Quarantine"); a released product's label carries none, so the two cannot be mistaken."""
    if quality_status == "released":
        return {}
    return {"quarantine_text": words.say(words.QUARANTINE, settings.label_languages)}


def coi_fields(chain_of_identity: str | None) -> dict[str, str]:
    """The chain-of-identity identifier (DS 040) as a label prints it: ``&/`` data, eye-readable text and the
    boxed check character K; empty before the subject is randomized."""
    if not chain_of_identity:
        return {"coi_barcode": "", "coi_eye_readable": "", "coi_check": ""}
    coi = isbt128.ChainOfIdentity.parse(chain_of_identity)
    return {"coi_barcode": coi.barcode_data(), "coi_eye_readable": coi.eye_readable, "coi_check": coi.check}


def wristband_label(subject: Any, settings: LabelSettings) -> dict[str, Any]:
    """The subject's wristband: subject id (``&#``), birth date (``=#``) and, once randomized, the chain-of-
    identity identifier (``&/``); never a name or the arm."""
    subject_barcode = wristband_data(subject.subject_code, location=settings.location_code)
    coi = coi_fields(getattr(subject, "chain_of_identity", None))
    structures = [subject_barcode, isbt128.encode_birth_date(subject.birth_date, settings.location_code)]
    return {"subject_barcode": subject_barcode, "subject_id": subject.subject_code, **coi,
            "subject_2d": isbt128.encode_compound(structures + ([coi["coi_barcode"]] if coi["coi_barcode"] else [])),
            "screening_number": subject.screening_number,
            "birth_date": subject.birth_date.strftime(DATE_FORMAT),
            "trial_name": words.lines(words.TRIAL, settings.label_languages, trial=settings.trial_id)}


def shipment_contents(bags: Sequence[Any], languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> str:
    """The count of bags (``3 bags``, ``3 个细胞袋 bags``), then one line per DIN and product:
    ``A9999 26 000001 D0001V: A0 B0 C0`` (the divisions shipped)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for bag in sorted(bags, key=lambda b: b.bag_code):
        groups.setdefault((bag.din, bag.product_code + bag.collection_type), []).append(bag.division)
    count = f"{len(bags)} {words.say(words.BAGS if len(bags) != 1 else words.BAG, languages)}"
    lines = [f"{isbt128.Din.parse(din).eye_readable} {product}: {' '.join(divisions)}"
             for (din, product), divisions in groups.items()]
    return "\n".join([count, *lines])


def shipper_label(shipment_id: str, bags: Sequence[Any], *, ship_to: str, shipped_at: datetime,
                  settings: LabelSettings) -> dict[str, Any]:
    """The transport container: shipment id, what is inside, where to, and a QR to verify the contents."""
    return {"shipment_barcode": shipment_id, "shipment_id": shipment_id,
            "bag_ids": sorted(b.bag_code for b in bags),  # not printed: what the verify page checks against
            "verify_url": settings.verify_url_base + shipment_id, "ship_from": settings.facility_name,
            "ship_to": ship_to, "contents": shipment_contents(bags, settings.label_languages),
            "shipped_at": site_moment(shipped_at, settings.tz),
            "temperature_requirement": shipper_storage(bags, settings),
            "emergency_contact": settings.facility_contact}


def vial_label(vial_code: str, din_text: str, *, letter: str, level: str, passage: int, cells_per_vial: int,
               cryoprotectant: str, frozen_at: datetime, tz: ZoneInfo,
               languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> dict[str, Any]:
    """A cell-bank cryovial: the cord's DIN and the vial's own identifier, a local data structure
    (``&a`` + vial code by default; docs/identifiers.md), together in the 2D code."""
    fields = din_fields(din_text)
    structures = [fields["din_barcode"], isbt128.encode_local(letter, vial_code)]
    return {**fields, "vial_code": vial_code,
            "bank_line": f"{level} · {words.say(words.FROZEN_AT, languages)} P{passage}",
            "contents": f"{cells_per_vial:.2g} {words.say(words.CELLS, languages)} · {cryoprotectant}",
            "frozen": f"{words.say(words.FROZEN, languages)} {frozen_at.astimezone(tz).strftime(DATE_FORMAT)}",
            "compound_2d": isbt128.encode_compound(structures)}
