"""GS1 element strings from suppliers' barcodes: GS1-128, GS1 DataMatrix and GS1 QR (GS1 General Specifications).

A supplier's label carries application identifiers (AIs) in front of each value: (01) the GTIN-14 with its
check digit, (10) the batch or lot (up to 20 characters, variable length), (17) the expiry date ``YYMMDD``
(day ``00``: the last day of that month), (21) the serial number (variable), and others this reader knows
the length of. A variable-length value that is not last ends with FNC1, which a scanner sends as the GS
character (0x1D). Keyboard-wedge scanners often cannot type GS into a browser field, so a site may
configure a substitute character (``GS1_GS_SUBSTITUTE``, e.g. ``|``) that is read as GS.

The reader refuses rather than guesses (docs/identifiers.md, "Supplier barcodes"): an AI it does not know,
a fixed-length value cut short, a GTIN whose check digit is wrong, a date that is no date, an AI given
twice, and a variable-length value that runs to the end of the data while its tail reads as another
complete element string (``10ABC12317261231``: lot ``ABC123`` then expiry 2026-12-31, or lot
``ABC12317261231``?): the scanner must send the separator.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated
from cellchain.core.words.scans import scan_field_label

GS = "\x1d"
SYMBOLOGY_IDENTIFIERS = ("]C1", "]d2", "]Q3", "]e0", "]J1")  # GS1-128, DataMatrix, QR, DataBar, DotCode
MAX_LENGTH = 200

# AI -> (name, fixed length or None, maximum length, kind of value)
AIS: dict[str, tuple[str, int | None, int, str]] = {
    "00": ("sscc", 18, 18, "digits"),
    "01": ("gtin", 14, 14, "gtin"),
    "02": ("content_gtin", 14, 14, "gtin"),
    "10": ("lot", None, 20, "text"),
    "11": ("production_date", 6, 6, "date"),
    "12": ("due_date", 6, 6, "date"),
    "13": ("packaging_date", 6, 6, "date"),
    "15": ("best_before", 6, 6, "date"),
    "16": ("sell_by", 6, 6, "date"),
    "17": ("expiry", 6, 6, "date"),
    "20": ("variant", 2, 2, "digits"),
    "21": ("serial", None, 20, "text"),
    "22": ("cpv", None, 20, "text"),
    "30": ("count", None, 8, "digits"),
    "37": ("count_of_items", None, 8, "digits"),
    "240": ("additional_id", None, 30, "text"),
    "241": ("customer_part", None, 30, "text"),
    "90": ("internal_90", None, 30, "text"),
    **{f"9{n}": (f"internal_9{n}", None, 90, "text") for n in range(1, 10)},
}
# GS1 AI encodable character set 82 (General Specifications, figure 7.11-1): what a (10) or (21) may hold.
_TEXT = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
_HUMAN = re.compile(r"\((\d{2,4})\)")


@dataclass(frozen=True)
class Element:
    ai: str
    name: str
    value: Any  # text, or a date for the date AIs
    data: str  # the value as encoded


@dataclass(frozen=True)
class Gs1Data:
    """A parsed GS1 element string: each element in order, and the values by name (``gtin``, ``lot``...)."""

    elements: tuple[Element, ...]
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def gtin(self) -> str | None:
        return self.fields.get("gtin")

    @property
    def lot(self) -> str | None:
        return self.fields.get("lot")

    @property
    def expiry(self) -> date | None:
        return self.fields.get("expiry")


def refuse(words: str, **values: Any) -> Invalid:
    """A GS1 read refused: the code ``gs1`` first, as clients match it, then the catalogue's words in the reader's
    language."""
    return Invalid({"data": f"gs1: {translated(words).format(**values)}"})


def gtin_check_digit(first13: str) -> int:
    """The GS1 mod-10 check digit of a GTIN-14's first 13 digits (weights 3, 1, 3 ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first13)))
    return (10 - total % 10) % 10


def gtin_is_valid(text: str) -> bool:
    return len(text) == 14 and text.isdigit() and gtin_check_digit(text[:13]) == int(text[13])


def gs1_date(text: str) -> date:
    """``YYMMDD`` as a date; day ``00`` is the last day of the month (General Specifications 7.12)."""
    if len(text) != 6 or not text.isdigit():
        raise ValueError("a date is six digits YYMMDD")
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:])
    if not 1 <= month <= 12:
        raise ValueError(f"month {month:02d}")
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    return date(year, month, day)  # raises ValueError for 31 June


def _value(ai: str, data: str) -> Any:
    _name, _fixed, _longest, kind = AIS[ai]
    if kind == "gtin":
        if not gtin_is_valid(data):
            raise refuse(N_("({ai}) {data} is not a GTIN-14 with a right check digit"), ai=ai, data=data)
        return data
    if kind == "date":
        try:
            return gs1_date(data)
        except ValueError:
            raise refuse(N_("({ai}) {data} is not a date YYMMDD"), ai=ai, data=data) from None
    if kind == "digits" and not data.isdigit():
        raise refuse(N_("({ai}) {data} must be digits"), ai=ai, data=data)
    if kind == "text" and not _TEXT.fullmatch(data):
        raise refuse(N_("({ai}) holds a character GS1 does not allow"), ai=ai)
    return data


def _ai_at(text: str, at: int) -> str | None:
    for size in (2, 3, 4):
        if text[at:at + size] in AIS:
            return text[at:at + size]
    return None


def _reads_whole(text: str) -> bool:
    """Whether ``text`` reads completely as element strings that begin with a fixed-length one, each value
    valid (a GTIN's check digit, a real date): the tail of a variable value that may be another element."""
    ai = _ai_at(text, 0)
    if ai is None or AIS[ai][1] is None:
        return False
    try:
        _elements(text, check_tails=False)
    except Invalid:
        return False
    return True


def _elements(text: str, *, check_tails: bool = True) -> list[Element]:
    found: list[Element] = []
    at = 0
    while at < len(text):
        if text[at] == GS:
            at += 1  # FNC1 after a fixed-length value is allowed, and harmless
            continue
        ai = _ai_at(text, at)
        if ai is None:
            raise refuse(N_("no application identifier this reader knows at {text!r}"), text=text[at:at + 4])
        name, fixed, longest, _kind = AIS[ai]
        start = at + len(ai)
        if fixed is not None:
            data = text[start:start + fixed]
            if len(data) != fixed or GS in data:
                raise refuse(N_("({ai}) needs {fixed} characters"), ai=ai, fixed=fixed)
            at = start + fixed
        else:
            end = text.find(GS, start)
            data = text[start:] if end < 0 else text[start:end]
            if not data or len(data) > longest:
                raise refuse(N_("({ai}) holds 1 to {longest} characters, then FNC1 if another field follows"),
                             ai=ai, longest=longest)
            if end < 0 and check_tails:
                for cut in range(1, len(data)):
                    if _reads_whole(data[cut:]):
                        raise refuse(N_("({ai}) {data} runs on into what reads as ({next_ai}) without a separator; "
                                        "scan with FNC1/GS after the variable field"),
                                     ai=ai, data=data, next_ai=_ai_at(data, cut))
            at = start + len(data)
        found.append(Element(ai, name, _value(ai, data), data))
    return found


def normalise(raw: str, substitute: str = "") -> str | None:
    """The element string of a scan when it is GS1, else ``None``: symbology identifier, human-readable
    brackets and a leading FNC1 removed, the configured substitute read as GS. Trailing CR/LF/Tab go."""
    if not isinstance(raw, str):
        return None
    text = raw.rstrip("\r\n\t ").lstrip(" ")
    if substitute:
        text = text.replace(substitute, GS)
    marked = False
    if text[:3] in SYMBOLOGY_IDENTIFIERS:
        text, marked = text[3:], True
    if text[:1] in ("=", "&"):
        return None  # an ISBT 128 data identifier: a 2D code reader may prefix ]d2 to those too
    if text.startswith(GS):
        text, marked = text.lstrip(GS), True
    if text.startswith("(") and _HUMAN.match(text):
        parts = _HUMAN.split(text)
        if parts[0]:
            return None
        text = GS.join(ai + value for ai, value in zip(parts[1::2], parts[2::2], strict=True))
        marked = True
    if GS in text:
        marked = True
    if not marked and not (text[:2] == "01" and len(text) >= 16 and text[2:16].isdigit()):
        return None
    return text


def is_gs1(raw: Any, substitute: str = "") -> bool:
    """Whether a scan is a GS1 element string (and should be read by ``parse``)."""
    return isinstance(raw, str) and normalise(raw, substitute) is not None


def parse(raw: str, substitute: str = "") -> Gs1Data:
    """Read a GS1 element string (GS1-128, DataMatrix, QR, or the human-readable ``(01)...(10)...``), or raise
    ``Invalid({"data": "gs1: <why>"})``."""
    if not isinstance(raw, str) or len(raw) > 4 * MAX_LENGTH:
        raise refuse(N_("a scan is text of at most 200 characters"))
    text = normalise(raw, substitute)
    if text is None:
        raise refuse(N_("not a GS1 element string"))
    if not text or len(text) > MAX_LENGTH or not text.isascii() or re.search(r"[\x00-\x1c\x1e-\x1f\x7f]", text):
        raise refuse(N_("empty, too long, or a character no barcode carries"))
    elements = _elements(text)
    names = [e.name for e in elements]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise refuse(N_("{names} given twice"), names=", ".join(scan_field_label(name, "gs1") for name in twice))
    return Gs1Data(tuple(elements), {e.name: e.value for e in elements})


def encode(values: dict[str, str], *, separator: str = GS) -> str:
    """An element string from (AI -> data), variable-length fields followed by ``separator`` unless last
    (for tests and for printing a supplier-style label)."""
    out = []
    items = list(values.items())
    for index, (ai, data) in enumerate(items):
        out.append(ai + data)
        if AIS[ai][1] is None and index < len(items) - 1:
            out.append(separator)
    return "".join(out)
