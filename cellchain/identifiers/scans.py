"""One entry point for anything a barcode scanner or a person types into cellchain.

Scanner stations, the bedside check and the custody screens all call ``parse_scan``, so that one set of
rules decides what a string *is* before anything is looked up. Keyboard-wedge scanners add noise
(an AIM symbology identifier such as ``]C0`` in front, CR/LF/Tab behind), which is removed; everything
else must match a known structure exactly. Any input that is not understood raises
``Invalid({"data": "<code>: <why>"})`` and nothing else, because this text comes straight from the wire.

Identifier formats (site conventions, kept here as constants):

* subject id: ``<prefix>-nnnn``, e.g. ``SUBJ-0001`` (4 digits); the wristband barcode carries it as the
  ISBT 128 patient identification structure (DS 025) ``&#`` + location code + length + the id without its
  hyphen (``&#0008SUBJ0001``: letters and digits only), so a wristband scan is kind ``subject`` and the
  hyphen is put back. A bare, typed subject id is *not* accepted: the bedside identity check must come
  from the wristband.
* bag id: ``<DIN 13>-<product code 5><collection type 1><division 2>``, e.g. ``A999926000001-D0001V00``
  (kind ``bag``); pick lists may print it as ``BAG-A999926000001-D0001V00`` (``<bag prefix>-`` is
  optional and ignored).
* DIN: the barcode ``=`` + 13 + type 3 flags, or keyed with its check character K
  (``A9999 26 123456 N``); a bare 13-character DIN without K is refused.
* any single ISBT 128 structure of ``cellchain.identifiers.isbt128``, the ``=+`` compound message of a 2D
  code and a concatenated read (several structures of one label in one read, no ``=+`` header): both kind
  ``compound``, the second with ``fields["concatenated"]``.
* a material lot's own label: ``ML-000001`` (kind ``material_lot``).
* a supplier's GS1 barcode (GS1-128, GS1 DataMatrix or QR: ``cellchain.identifiers.gs1``), kind ``gs1`` with
  ``gtin``, ``lot``, ``expiry``, ``serial`` as the label carries them; a GS1 code is told apart by its
  symbology identifier (``]C1``, ``]d2``, ``]Q3``), a GS (or the site's substitute for it) or a leading (01).

A read that is wrong in a way scanners are known to get wrong is named as such: a structure whose leading
``=`` was not read (``missing_data_identifier``), and a read with upper and lower case swapped, as a
keyboard-wedge scanner types with Caps Lock on (``caps_lock``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cellchain.core.errors import DomainError, Invalid, Refused
from cellchain.core.words import N_, translated
from cellchain.core.words.entries import record_type_label
from cellchain.core.words.scans import scan_field_label, scan_kind_label
from cellchain.identifiers import gs1
from cellchain.identifiers.isbt128 import (
    Din,
    ParsedStructure,
    ProductCode,
    encode_patient_id,
    parse_keyed_din,
    parse_structure,
)

MAX_SCAN_LENGTH = 200
SUBJECT_PREFIX = "SUBJ"
BAG_PREFIX = "BAG"
SUBJECT_ID_FORMAT = "{prefix}-{number:04d}"
BAG_ID_PATTERN = re.compile(r"([0-9A-Z]{13})-([0-9A-Z]{8})")
MATERIAL_LOT_PATTERN = re.compile(r"ML-[0-9]{6}")  # this site's label of a received material lot
_PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,9}")
_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_TRAILING = "\r\n\t "
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONVENIENCE = {"din": ("din",), "product_code": ("product_code", "collection_type", "division"),
                "expiry_date": ("expires_at",), "expiry_datetime": ("expires_at",),
                "chain_of_identity": ("chain_of_identity",)}
DEFAULT_LOCATION = "00"


@dataclass(frozen=True)
class Scan:
    """What a scan turned out to be: ``kind``, its interpreted ``fields`` and the cleaned ``data``."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    data: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``POST /scans`` (dates in ISO 8601, structures as dicts)."""
        return {"kind": self.kind, "fields": jsonable(self.fields), "data": self.data}


def jsonable(value: Any) -> Any:
    """Dates to ISO 8601 text and parsed structures to dicts, recursively, so the API can dump them."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, ParsedStructure):
        return {"kind": value.kind, "fields": jsonable(value.fields), "data": value.data}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _check_prefix(prefix: str, name: str) -> None:
    """A malformed configured prefix is a bug in the caller, not a bad scan, hence ValueError."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"{name} must be an upper-case letter then up to 9 letters/digits")


def format_subject_id(number: int, prefix: str = SUBJECT_PREFIX) -> str:
    """``SUBJ-0001``: the subject identifier printed on the wristband (no names: 21 CFR 1271.290)."""
    _check_prefix(prefix, "prefix")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 9999:
        raise Invalid({"subject_id": translated(N_("subject number must be 1..9999"))})
    return SUBJECT_ID_FORMAT.format(prefix=prefix, number=number)


def is_subject_id(text: str, prefix: str = SUBJECT_PREFIX) -> bool:
    """Whether ``text`` is exactly a subject id of this site (``<prefix>-0001`` .. ``<prefix>-9999``)."""
    return isinstance(text, str) and re.fullmatch(re.escape(prefix) + r"-(?!0000)[0-9]{4}", text) is not None


def patient_id_of(subject_id: str) -> str:
    """What a patient identification structure carries for a subject: its id without the hyphen."""
    return subject_id.replace("-", "")


def subject_of_patient_id(patient_id: str, prefix: str = SUBJECT_PREFIX) -> str | None:
    """The subject id a scanned patient identification names (``SUBJ0003`` -> ``SUBJ-0003``), or None."""
    found = re.fullmatch(re.escape(prefix) + r"-?([0-9]{4})", patient_id) if isinstance(patient_id, str) else None
    subject_id = f"{prefix}-{found.group(1)}" if found else None
    return subject_id if subject_id and is_subject_id(subject_id, prefix) else None


def wristband_data(subject_id: str, prefix: str = SUBJECT_PREFIX, location: str = DEFAULT_LOCATION) -> str:
    """Barcode data of a wristband: the ``&#`` patient identification structure (DS 025) for the subject."""
    if not isinstance(subject_id, str) or not is_subject_id(subject_id, prefix):
        raise Invalid({"subject_id": translated(N_("must look like {example}")).format(
            example=SUBJECT_ID_FORMAT.format(prefix=prefix, number=1))})
    return encode_patient_id(patient_id_of(subject_id), location)


def format_bag_id(din: Din, product: ProductCode) -> str:
    """``A999926000001-D0001V00``: DIN + product code + division, the minimum traceable identity."""
    return f"{din.text}-{product.text}"


def parse_bag_id(text: str) -> tuple[Din, ProductCode]:
    """The DIN and product code of a bag id (strict: exactly the ``format_bag_id`` form)."""
    m = BAG_ID_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise Invalid({"bag_id": translated(N_("must be DIN-product code, e.g. A999926000001-D0001V00"))})
    return Din.parse(m.group(1)), ProductCode.parse("=<" + m.group(2))


def clean(raw: str) -> str:
    """Remove keyboard-wedge noise: trailing CR/LF/Tab, surrounding spaces, one leading AIM identifier.

    Refuses non-ASCII and any other control character (a Data Matrix GS, an escape sequence), so later
    steps only ever see printable ASCII. The 200-character limit applies to the data itself, not to the
    scanner's noise around it.
    """
    if not isinstance(raw, str):
        raise refused("not_text", N_("a scan must be text"))
    if len(raw) > 4 * MAX_SCAN_LENGTH:
        raise refused("too_long", N_("{length} characters, at most {most}"), length=len(raw), most=MAX_SCAN_LENGTH)
    if not raw.isascii():
        raise refused("not_ascii", N_("only ASCII characters can come from a barcode"))
    text = raw.rstrip(_TRAILING).lstrip(" ")
    if _CONTROL.search(text):
        raise refused("control_character", N_("a control character is inside the scan"))
    if text.startswith("]"):
        if not _AIM.match(text):
            raise refused("bad_aim_identifier", N_("']' must start an AIM identifier like ]C0"))
        text = text[3:].strip(" ")
    if not text:
        raise refused("empty", N_("nothing was scanned"))
    if len(text) > MAX_SCAN_LENGTH:
        raise refused("too_long", N_("{length} characters, at most {most}"), length=len(text), most=MAX_SCAN_LENGTH)
    return text


def refused(code: str, words: str, **values: Any) -> Invalid:
    """A scan refused as ``Invalid({"data": "<code>: <why>"})``: the code stays as it is, for the clients and
    stations that match it; the words after it are the catalogue's, in the reader's language."""
    return Invalid({"data": f"{code}: {translated(words).format(**values)}"})


def _structure_scan(text: str, subject_prefix: str, tz: ZoneInfo | None) -> Scan:
    parsed = parse_structure(text, tz)
    if parsed.kind == "compound":
        return Scan("compound", _compound_fields(parsed, subject_prefix), text)
    if parsed.kind == "patient_id":
        subject_id = subject_of_patient_id(parsed.fields["patient_id"], subject_prefix)
        if subject_id is None:
            raise refused("not_subject", N_("{patient_id} is not a subject identifier of this site"),
                          patient_id=parsed.fields["patient_id"])
        return Scan("subject", {"subject_id": subject_id, "location": parsed.fields["location"]}, text)
    fields = dict(parsed.fields)
    if parsed.kind == "din":
        fields["entry"] = "barcode"
    return Scan(parsed.kind, fields, text)


def _compound_fields(parsed: ParsedStructure, subject_prefix: str) -> dict[str, Any]:
    """The structures, plus convenience fields (din, product_code, division, ...) when present.

    A kind appearing twice (or an expiry date and an expiry date-time) would make them ambiguous: refused.
    """
    structures: list[ParsedStructure] = parsed.fields["structures"]
    kinds = [s.kind for s in structures]
    duplicated = sorted({k for k in kinds if kinds.count(k) > 1})
    fields: dict[str, Any] = {"structures": structures, "reference": parsed.fields["reference"]}
    if parsed.fields.get("concatenated"):
        fields["concatenated"] = True
    for s in structures:
        for key in _CONVENIENCE.get(s.kind, ()):
            if key in fields:
                duplicated.append(key)
            fields[key] = s.fields[key]
        subject_id = subject_of_patient_id(s.fields["patient_id"], subject_prefix) if s.kind == "patient_id" else None
        if subject_id is not None:
            fields["subject_id"] = subject_id
    if duplicated:
        raise refused("ambiguous", N_("the 2D code repeats {fields}"),
                      fields=", ".join(scan_field_label(name) for name in sorted(set(duplicated))))
    if "din" in fields and "product_code" in fields:
        product = ProductCode(fields["product_code"], fields["collection_type"], fields["division"])
        fields["bag_id"] = format_bag_id(Din.parse(fields["din"]), product)
    return fields


def _bare_scan(text: str, bag_prefix: str) -> Scan:
    """Text without a data identifier: a bag id, or a DIN keyed by a person (which must carry K)."""
    bag_text = text[len(bag_prefix) + 1:] if text.startswith(bag_prefix + "-") else text
    if BAG_ID_PATTERN.fullmatch(bag_text):
        din, product = parse_bag_id(bag_text)
        fields = {"bag_id": bag_text, "din": din.text, "product_code": product.code,
                  "collection_type": product.collection_type, "division": product.division}
        return Scan("bag", fields, text)
    if MATERIAL_LOT_PATTERN.fullmatch(text):
        return Scan("material_lot", {"code": text}, text)
    compact = text.replace(" ", "")
    if len(compact) == 13 and re.fullmatch(r"[0-9A-Z]{13}", compact):
        Din.parse(compact)  # says what is wrong if it is not even a DIN
        raise refused("missing_check_character", N_("a keyed DIN must carry its check character K"))
    if len(compact) == 14 and re.fullmatch(r"[0-9A-Z]{13}[0-9A-Z*]", compact):
        din = parse_keyed_din(text)
        return Scan("din", {"din": din.text, "check": din.check, "flags": None, "entry": "keyed"}, text)
    raise refused("unrecognised", N_("not a DIN, product code, date, 2D code, wristband or bag id"))


def _gs1_scan(raw: str, substitute: str) -> Scan:
    parsed = gs1.parse(raw, substitute)
    return Scan("gs1", dict(parsed.fields), gs1.normalise(raw, substitute) or "")


def parse_scan(raw: str, *, subject_prefix: str = SUBJECT_PREFIX, bag_prefix: str = BAG_PREFIX,
               tz: ZoneInfo | None = None, gs_substitute: str = "") -> Scan:
    """Say what a scanned or typed string is, or raise ``Invalid({"data": reason})``.

    Kinds: ``din`` (barcode or keyed with K; ``fields["entry"]`` says which), ``product_code``, the date
    kinds (``expiry_date``, ``expiry_datetime``, ``collection_date`` ...), ``container_lot``,
    ``patient_birth_date``, ``chain_of_identity``, ``local`` (``&a``-``&z``: ``letter`` and
    ``identifier``; which of the site's structures a letter names is configuration), ``compound``,
    ``subject``, ``bag`` and ``gs1`` (a supplier's barcode; ``gs_substitute`` is the character a keyboard-wedge
    scanner types for GS). Self-check
    failures (wrong K, wrong type 3 flags) are reported the same way, with their reason code, since to a
    scanner station they are all "this scan cannot be used". Date-times are site time, aware if ``tz``.
    """
    _check_prefix(subject_prefix, "subject_prefix")
    _check_prefix(bag_prefix, "bag_prefix")
    if gs1.is_gs1(raw, gs_substitute):
        return _gs1_scan(raw, gs_substitute)
    text = clean(raw)
    try:
        return _read(text, subject_prefix, bag_prefix, tz)
    except Invalid as err:
        misread = _misread(text, subject_prefix, bag_prefix, tz)
        if misread is None:
            return _refusal(err)
        raise Invalid({"data": misread}) from None
    except Refused as err:
        return _refusal(err)
    except DomainError as err:  # pragma: no cover - no other domain error is raised by the parsers
        return _refusal(err)


def _read(text: str, subject_prefix: str, bag_prefix: str, tz: ZoneInfo | None) -> Scan:
    if text[0] in "=&":
        return _structure_scan(text, subject_prefix, tz)
    return _bare_scan(text, bag_prefix)


def _readable(text: str, subject_prefix: str, bag_prefix: str, tz: ZoneInfo | None) -> Scan | None:
    try:
        return _read(text, subject_prefix, bag_prefix, tz)
    except DomainError:
        return None


def _misread(text: str, subject_prefix: str, bag_prefix: str, tz: ZoneInfo | None) -> str | None:
    """Why an unreadable scan would have read if the scanner had not dropped or swapped something: a
    structure without its leading ``=`` (a code read from its second character, or a scanner set to strip
    it), or a read with the case of every letter swapped (Caps Lock on a keyboard-wedge scanner)."""
    if text[0] not in "=&":
        scan = _readable("=" + text, subject_prefix, bag_prefix, tz)
        if scan is not None and scan.kind != "bag":
            return "missing_data_identifier: " + translated(N_(
                "this reads as a {kind} without its leading '=': check the scanner's settings and scan again"
            )).format(kind=scan_kind_label(scan.kind))
    swapped = text.swapcase()
    if swapped != text and any(c.islower() for c in text) and _readable(swapped, subject_prefix, bag_prefix, tz):
        return "caps_lock: " + translated(N_("upper and lower case are swapped in this read (Caps Lock is on at the "
                                             "scanner's computer): turn it off and scan again"))
    return None


def _refusal(err: DomainError) -> Scan:
    """Every parser refusal as ``Invalid({"data": "<code>: <why>"})``: to a scanner station a wrong K and an
    unreadable structure alike say "this scan cannot be used"."""
    if isinstance(err, Refused):
        raise Invalid({"data": "; ".join(f"{r.code}: {r.message}" for r in err.reasons)}) from None
    if isinstance(err, Invalid) and set(err.fields) == {"data"}:
        raise err
    if isinstance(err, Invalid):
        raise Invalid({"data": "; ".join(f"{k}: {v}" for k, v in err.fields.items())}) from None
    raise Invalid({"data": err.message}) from None  # pragma: no cover - the parsers raise nothing else


def read_field(raw: Any, *, tz: ZoneInfo | None = None, field: str = "scan", gs_substitute: str = "") -> Scan:
    """``parse_scan`` for a request field: a refusal names ``field``, not ``data``."""
    if not isinstance(raw, str):
        raise Invalid({field: translated(N_("give the scanned or keyed text"))})
    try:
        return parse_scan(raw, tz=tz, gs_substitute=gs_substitute)
    except Invalid as refusal:
        raise Invalid({field: refusal.fields.get("data", refusal.message)}) from None


def scanned_bag_id(raw: Any, *, tz: ZoneInfo | None = None, field: str = "bag_id") -> str:
    """The bag id a scan names (a keyed or scanned bag id, or a bag label's 2D code), or Invalid naming ``field``."""
    scan = read_field(raw, tz=tz, field=field)
    if "bag_id" in scan.fields and scan.kind in ("bag", "compound"):
        return scan.fields["bag_id"]
    return _not_a_bag(scan, field)


def _not_a_bag(scan: Scan, field: str) -> str:
    kind = "subject" if "subject_id" in scan.fields else "collection" if "din" in scan.fields else None
    if kind:
        raise Invalid({field: translated(N_("that is a {record}; scan the bag's label")).format(
            record=record_type_label(kind))})
    raise Invalid({field: translated(N_("a {scan} does not identify a collection, bag or subject")).format(
        scan=scan_kind_label(scan.kind))})
