"""ISBT 128 identifiers and data structures, encoded and parsed strictly (ICCBBA ISBT 128 ST-001).

Chain of identity rests on these strings: what a label prints is what the database holds, and a scanner
reading the label must get exactly that back. So every parser checks the data identifier, the length and
the character set *before* interpreting anything, and refuses rather than guesses. Parsers raise
``Invalid`` for text that cannot be read and ``Refused`` for well-formed text that fails a self-check
(a keyed DIN with the wrong check character K, a DIN barcode whose type 3 flags disagree with the DIN).

Pure Python: no Flask, no database. The licensed code tables (facility numbers, product description
codes) are configuration that callers pass in. ``WRITTEN`` lists every structure the product prints, with
its ST-001 reference (docs/identifiers.md keeps the same table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated

# kind -> (data identifier, ST-001 reference): every data structure a cellchain label or page writes.
WRITTEN = MappingProxyType({
    "din": ("=", "DS 001 Donation Identification Number"),
    "product_code": ("=<", "DS 003 Product Code"),
    "expiry_datetime": ("&>", "DS 005 Expiration Date and Time"),
    "collection_datetime": ("&*", "DS 007 Collection Date and Time"),
    "compound": ("=+", "DS 023 Compound Message"),
    "patient_birth_date": ("=#", "DS 024 Patient Date of Birth"),
    "patient_id": ("&#", "DS 025 Patient Identification Number"),
    "chain_of_identity": ("&/", "DS 040 Chain of Identity Identifier (ST-028)"),
    "local": ("&a-&z", "local data identifiers (a facility's own structures)"),
})

# --- ISO/IEC 7064 Mod 37-2 ---
MOD37_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_VALUE = {ch: i for i, ch in enumerate(MOD37_ALPHABET)}


def check_value(din: str) -> int:
    """Mod 37-2 check value (0..36) of the 13 DIN characters.

    Pure ISO/IEC 7064 over the 37-character alphabet (``*`` included), so that tests can show every single
    substitution and adjacent transposition changes it; whether the text is a *valid DIN* is
    ``Din.parse``'s job.
    """
    if not isinstance(din, str) or len(din) != 13:
        raise Invalid({"din": translated(N_("the check character is computed over exactly 13 characters"))})
    s = 0
    for ch in din:
        if ch not in _VALUE:
            raise Invalid({"din": translated(N_(
                "character {ch!r} is not in the ISO 7064 Mod 37-2 alphabet (0-9, A-Z, *)"
            )).format(ch=ch)})
        s = ((s + _VALUE[ch]) * 2) % 37
    return (38 - s) % 37


def check_character(din: str) -> str:
    """The check character K printed boxed after the eye-readable DIN."""
    return MOD37_ALPHABET[check_value(din)]


# --- DIN (data structure 001) ---
_FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"  # a letter or digit other than O and 0
_DIN_CHARS = re.compile(r"[0-9A-Z]{13}")
_KEYED = re.compile(r"(\S{5}) ?(\S{2}) ?(\S{6}) ?(\S)")
DIN_BARCODE_LENGTH = 16


def _din_problem(fin: str, year: str, sequence: str) -> str | None:
    """What is wrong with a DIN's parts, in words a person at a scanner can act on (None if valid)."""
    if len(fin) != 5 or fin[0] not in _FIN_FIRST:
        return translated(N_(
            "facility number {fin!r} must start with a letter or digit other than O and 0"
        )).format(fin=fin)
    if not re.fullmatch(r"[0-9]{4}", fin[1:]):
        return translated(N_("facility number {fin!r} must end in 4 digits")).format(fin=fin)
    if not re.fullmatch(r"[0-9]{2}", year):
        return translated(N_("year {year!r} must be 2 digits")).format(year=year)
    if not re.fullmatch(r"[0-9]{6}", sequence):
        return translated(N_("sequence {sequence!r} must be 6 digits")).format(sequence=sequence)
    return None


@dataclass(frozen=True)
class Din:
    """A Donation Identification Number: FIN (5) + year (2) + sequence (6), 13 characters, no K.

    The FIN is ``αpppp`` (ISBT 128: first character a letter or digit other than O/0, then four digits).
    Built only from valid parts, so holding a ``Din`` means the text has been checked.
    """

    fin: str
    year: str
    sequence: str

    def __post_init__(self) -> None:
        parts = (self.fin, self.year, self.sequence)
        if not all(isinstance(p, str) for p in parts):
            raise Invalid({"din": translated(N_("parts must be text"))})
        problem = _din_problem(*parts)
        if problem:
            raise Invalid({"din": problem})

    @classmethod
    def parse(cls, text: str) -> Din:
        """Strictly parse 13 DIN characters (no K, no spaces, upper case only)."""
        if not isinstance(text, str):
            raise Invalid({"din": translated(N_("must be text"))})
        if len(text) != 13:
            raise Invalid({"din": translated(N_("must be 13 characters, got {length}")).format(length=len(text))})
        if not _DIN_CHARS.fullmatch(text):
            raise Invalid({"din": translated(N_("must contain only digits and upper-case letters"))})
        return cls(text[:5], text[5:7], text[7:])

    @property
    def text(self) -> str:
        return self.fin + self.year + self.sequence

    @property
    def check(self) -> str:
        """K, the Mod 37-2 check character."""
        return check_character(self.text)

    @property
    def flags_type3(self) -> str:
        """Type 3 flags ``60``..``96``: 60 + check value, so the barcode checks itself."""
        return f"{60 + check_value(self.text):02d}"

    @property
    def eye_readable(self) -> str:
        """``A9999 26 123456``: the label prints K boxed separately, so it is not included."""
        return f"{self.fin} {self.year} {self.sequence}"

    def barcode_data(self) -> str:
        """Data structure 001: ``=`` + 13 characters + type 3 flags (what cellchain always issues)."""
        return "=" + self.text + self.flags_type3


def format_din(fin: str, year: int, sequence: int) -> str:
    """13-character DIN from a FIN, a year and a sequence number (the database issues the sequence).

    ``year`` is either the 2-digit year (0..99) or a full calendar year (1000..9999, its last two digits
    are used); ``sequence`` must be 1..999999, since 0 is never issued.
    """
    if isinstance(year, bool) or not isinstance(year, int) or not (0 <= year <= 99 or 1000 <= year <= 9999):
        raise Invalid({"year": translated(N_("must be 0..99 or a four-digit year"))})
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= 999_999:
        raise Invalid({"sequence": translated(N_("must be 1..999999"))})
    if not isinstance(fin, str):
        raise Invalid({"fin": translated(N_("must be text"))})
    return Din(fin, f"{year % 100:02d}", f"{sequence:06d}").text


def parse_keyed_din(text: str) -> Din:
    """A DIN keyed by a person: 13 characters + K, with optional single spaces as printed.

    Accepts ``A999926123456N`` and ``A9999 26 123456 N``. K is mandatory because a typing mistake in a
    DIN must be caught before anything is looked up (docs/rules.md, "Identifiers"); a wrong K is refused.
    """
    if not isinstance(text, str):
        raise Invalid({"din": translated(N_("must be text"))})
    m = _KEYED.fullmatch(text)
    if not m:
        compact = text.replace(" ", "")
        if len(compact) == 13:
            raise Invalid({"din": translated(N_("a keyed DIN must carry its check character K (14 characters)"))})
        raise Invalid({"din": translated(N_("a keyed DIN is 13 characters then K, e.g. A9999 26 123456 N"))})
    din = Din.parse("".join(m.groups()[:3]))
    k = m.group(4)
    if k not in _VALUE:
        raise Invalid({"din": translated(N_("check character {k!r} must be 0-9, A-Z or *")).format(k=k)})
    if k != din.check:
        raise Refused(Reason("din_check_character_mismatch", k=k, eye_readable=din.eye_readable))
    return din


class DinBarcode(NamedTuple):
    """A scanned data structure 001: the DIN and its two flag characters."""

    din: Din
    flags: str


def parse_din_barcode(data: str) -> DinBarcode:
    """Parse ``=`` + 13 DIN characters + 2 flag digits (``00``..``96``).

    Type 3 flags (60..96) must equal 60 + the check value, else ``Refused`` (``din_flags_mismatch``):
    a misread barcode must never resolve to some other product.
    """
    if not isinstance(data, str) or not data.startswith("="):
        raise Invalid({"din": translated(N_("a DIN barcode starts with '='"))})
    if len(data) != DIN_BARCODE_LENGTH:
        raise Invalid({"din": translated(N_("a DIN barcode is {want} characters, got {length}")).format(
            want=DIN_BARCODE_LENGTH, length=len(data))})
    din = Din.parse(data[1:14])
    flags = data[14:]
    if not re.fullmatch(r"[0-9]{2}", flags) or int(flags) > 96:
        raise Invalid({"din": translated(N_("flags {flags!r} must be two digits 00..96")).format(flags=flags)})
    if int(flags) >= 60 and flags != din.flags_type3:
        raise Refused(Reason("din_flags_mismatch", flags=flags, din=din.eye_readable, expected=din.flags_type3))
    return DinBarcode(din, flags)


# --- Product code (data structure 003) ---
PRODUCT_DEFAULTS = MappingProxyType({"uc_msc": "D0001", "placebo": "D0002"})
"""Documentation only: the default local ``D`` product description codes a site's configuration starts
from (UC-MSC, saline placebo). The ISBT code table is licensed, so the real codes are configuration and
every function here takes the code as a parameter; nothing in this module reads this mapping."""

PRODUCT_FAMILIES = MappingProxyType({
    "cellular_therapy": re.compile(r"S[0-9]{4}"),
    "clinical_trial": re.compile(r"Y[A-Z][0-9A-Z]{3}"),
    "local": re.compile(r"D[0-9A-Z]{4}"),
})
"""The product description codes a site may configure (ST-001, ST-022): ``S`` cellular therapy,
``YA``-``YZ`` clinical-trial products, ``D`` facility-local."""


def product_family(code: str) -> str | None:
    """Which family a 5-character product description code belongs to, or None."""
    return next((name for name, pattern in PRODUCT_FAMILIES.items()
                 if isinstance(code, str) and pattern.fullmatch(code)), None)


COLLECTION_TYPE_VOLUNTEER_ALLOGENEIC = "V"
NOT_DIVIDED = "00"
_PRODUCT = re.compile(r"=<([A-Z][0-9A-Z]{4})([0-9A-Z])([0-9A-Z]{2})")


@dataclass(frozen=True)
class ProductCode:
    """Product description code ``αoooo`` + collection type ``t`` + division ``ds`` (``00`` undivided).

    DIN + product code + division is the minimum traceable identity of a container.
    """

    code: str
    collection_type: str = COLLECTION_TYPE_VOLUNTEER_ALLOGENEIC
    division: str = NOT_DIVIDED

    def __post_init__(self) -> None:
        parts = (self.code, self.collection_type, self.division)
        well_formed = all(isinstance(p, str) for p in parts) and len(self.code) == 5 \
            and len(self.collection_type) == 1 and _PRODUCT.fullmatch("=<" + "".join(parts)) is not None
        if not well_formed:
            raise Invalid({"product_code": translated(N_(
                "code must be a letter + 4 letters/digits, collection type one letter/digit, division 2 letters/digits"
            ))})

    @property
    def text(self) -> str:
        """The 8 characters after the data identifier, e.g. ``D0001V00`` (also the eye-readable form)."""
        return self.code + self.collection_type + self.division

    def encode(self) -> str:
        return "=<" + self.text

    @classmethod
    def parse(cls, data: str) -> ProductCode:
        """Strictly parse ``=<`` + ``αoooo`` + ``t`` + ``ds`` (10 characters)."""
        if not isinstance(data, str) or not data.startswith("=<"):
            raise Invalid({"product_code": translated(N_("a product code starts with '=<'"))})
        if len(data) != 10:
            raise Invalid({"product_code": translated(N_(
                "a product code is 10 characters, got {length}"
            )).format(length=len(data))})
        m = _PRODUCT.fullmatch(data)
        if not m:
            raise Invalid({"product_code": translated(N_("expected =< + letter + 4 letters/digits + type + division"))})
        return cls(*m.groups())


# --- Dates: cyyjjj[hhmm], site local time ---
DATE_STRUCTURES = MappingProxyType({
    "expiry_date": ("=>", False), "expiry_datetime": ("&>", True),
    "collection_date": ("=*", False), "collection_datetime": ("&*", True),
    "production_datetime": ("&}", True),
})
"""kind -> (data identifier, carries hhmm)."""
_DATE_BY_ID = {ident: (kind, timed) for kind, (ident, timed) in DATE_STRUCTURES.items()}
END_OF_DAY = time(23, 59)


def _local(kind: str, when: datetime, tz: ZoneInfo) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise Invalid({kind: translated(N_("needs a timezone-aware datetime"))})
    local = when.astimezone(tz)
    if not 2000 <= local.year <= 2999:
        raise Invalid({kind: translated(N_("year must be 2000..2999 (cyy holds the last three digits)"))})
    return local


def encode_moment(kind: str, when: datetime, tz: ZoneInfo) -> str:
    """Encode ``when`` in site time ``tz`` as the date structure ``kind`` (a key of DATE_STRUCTURES).

    Labels are read by people in site time, so the conversion happens here. Seconds are dropped (an expiry
    rounds down, never later). A date-only *expiry* would mean 23:59, so it is refused for an earlier time
    rather than silently extending the shelf life: use ``expiry_datetime`` then.
    """
    if kind not in DATE_STRUCTURES:
        raise Invalid({"kind": translated(N_("unknown date structure {kind!r}")).format(kind=kind)})
    ident, timed = DATE_STRUCTURES[kind]
    local = _local(kind, when, tz)
    text = f"{ident}{local.year % 1000:03d}{local.timetuple().tm_yday:03d}"
    if timed:
        return text + f"{local.hour:02d}{local.minute:02d}"
    if kind == "expiry_date" and local.time() < END_OF_DAY:
        raise Invalid({kind: translated(N_(
            "a date-only expiry means 23:59 site time; use the date-and-time structure"
        ))})
    return text


def parse_moment(data: str, tz: ZoneInfo | None = None) -> date | datetime:
    """Parse any date structure: a ``date`` for date-only ones, a ``datetime`` for ``hhmm`` ones.

    The datetime is site wall-clock time: naive, or aware in ``tz`` when given. A missing time means
    23:59 (see ``site_datetime``). Day 000, a day past the year's end, hh > 23 or mm > 59 are refused.
    """
    if not isinstance(data, str) or data[:2] not in _DATE_BY_ID:
        raise Invalid({"date": translated(N_("not a date data structure (=> &> =* &* &})"))})
    kind, timed = _DATE_BY_ID[data[:2]]
    want = 12 if timed else 8
    if len(data) != want:
        raise Invalid({kind: translated(N_(
            "must be {want} characters, got {length}"
        )).format(want=want, length=len(data))})
    if not re.fullmatch(r"[0-9]+", data[2:]):
        raise Invalid({kind: translated(N_("must be digits after the data identifier"))})
    year, day = 2000 + int(data[2:5]), int(data[5:8])
    last = 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365
    if not 1 <= day <= last:
        raise Invalid({kind: translated(N_("day of year {day:03d} must be 001..{last}")).format(day=day, last=last)})
    the_date = date.fromordinal(date(year, 1, 1).toordinal() + day - 1)
    if not timed:
        return the_date
    hh, mm = int(data[8:10]), int(data[10:12])
    if hh > 23 or mm > 59:
        raise Invalid({kind: translated(N_("time {hh:02d}{mm:02d} must be 0000..2359")).format(hh=hh, mm=mm)})
    return datetime.combine(the_date, time(hh, mm), tzinfo=tz)


def site_datetime(value: date | datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in ``tz`` for a parsed date value; a date alone means 23:59 that day."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return datetime.combine(value, END_OF_DAY, tzinfo=tz)


# --- Text structures: container lot, patient birth date, patient identification, chain of identity ---
CONTAINER_LOT_LENGTH = 10
LOCATION_CODE = re.compile(r"[0-9]{2}")
TEXT_STRUCTURES = MappingProxyType({
    "container_lot": ("&)", re.compile(r"[0-9A-Z]{10}"),
                      N_("the container maker's lot: 10 upper-case letters or digits")),
})
"""Text structures of fixed form: kind -> (identifier, content pattern, words). ``&)`` holds only the
lot the *container's maker* gave the bag or tube (ST-001), never a manufacturing lot."""
_TEXT_BY_ID = {ident: kind for kind, (ident, _, _) in TEXT_STRUCTURES.items()}


def encode_text(kind: str, value: str) -> str:
    """``&)`` + the container maker's 10-character lot."""
    if kind not in TEXT_STRUCTURES:
        raise Invalid({"kind": translated(N_("unknown text structure {kind!r}")).format(kind=kind)})
    ident, pattern, words = TEXT_STRUCTURES[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Invalid({kind: translated(N_("must be {words}")).format(words=translated(words))})
    return ident + value


def parse_text(data: str) -> tuple[str, str]:
    """Parse a text structure into (kind, value), checking identifier, length and characters."""
    if not isinstance(data, str) or data[:2] not in _TEXT_BY_ID:
        raise Invalid({"data": translated(N_("not a text data structure (&))"))})
    kind = _TEXT_BY_ID[data[:2]]
    _, pattern, words = TEXT_STRUCTURES[kind]
    if not pattern.fullmatch(data[2:]):
        raise Invalid({kind: translated(N_("must be {words}")).format(words=translated(words))})
    return kind, data[2:]


def _location(location: str) -> str:
    if not isinstance(location, str) or not LOCATION_CODE.fullmatch(location):
        raise Invalid({"location_code": translated(N_("a location code is 2 digits"))})
    return location


# Patient identification (DS 025): &# + location (2 digits) + length (2 digits) + the id, letters and digits.
_PATIENT_ID = re.compile(r"[0-9A-Z]{1,99}")
PATIENT_ID_HEAD = 6  # &# aa ll


def encode_patient_id(patient_id: str, location: str = "00") -> str:
    """``&#`` + ``aa`` (location code) + ``ll`` (length of the id, 2 digits) + the id (letters, digits)."""
    _location(location)
    if not isinstance(patient_id, str) or not _PATIENT_ID.fullmatch(patient_id):
        raise Invalid({"patient_id": translated(N_("must be 1-99 upper-case letters or digits (no '-' or spaces)"))})
    return f"&#{location}{len(patient_id):02d}{patient_id}"


def parse_patient_id(data: str) -> tuple[str, str]:
    """``&#aall...`` into (location code, patient id); the length must equal the id's."""
    if not isinstance(data, str) or not data.startswith("&#"):
        raise Invalid({"patient_id": translated(N_("a patient identification starts with '&#'"))})
    head = data[2:PATIENT_ID_HEAD]
    if len(head) != 4 or not head.isdigit():
        raise Invalid({"patient_id": translated(N_("must be &# + 2-digit location code + 2-digit length + the id"))})
    length, value = int(head[2:]), data[PATIENT_ID_HEAD:]
    if length != len(value):
        raise Invalid({"patient_id": translated(N_(
            "announces {length} characters, carries {carried}"
        )).format(length=length, carried=len(value))})
    if not _PATIENT_ID.fullmatch(value):
        raise Invalid({"patient_id": translated(N_("the id must be upper-case letters or digits only"))})
    return head[:2], value


def _patient_id_length(text: str, at: int) -> int:
    head = text[at + 2:at + PATIENT_ID_HEAD]
    if len(head) != 4 or not head.isdigit():
        raise Invalid({"patient_id": translated(N_("must be &# + 2-digit location code + 2-digit length + the id"))})
    return PATIENT_ID_HEAD + int(head[2:])


# Patient date of birth (DS 024): =# + location (2 digits) + yyyymmdd.
BIRTH_DATE_LENGTH = 12


def encode_birth_date(born: date, location: str = "00") -> str:
    """``=#`` + ``aa`` (location code) + ``yyyymmdd`` (12 characters)."""
    _location(location)
    if isinstance(born, datetime) or not isinstance(born, date) or born.year < 1900:
        raise Invalid({"birth_date": translated(N_("must be a date (not a datetime) from 1900 on"))})
    return "=#" + location + born.strftime("%Y%m%d")


def parse_birth_date(data: str) -> date:
    return parse_birth_date_at(data)[1]


def parse_birth_date_at(data: str) -> tuple[str, date]:
    """``=#aayyyymmdd`` into (location code, date)."""
    if not isinstance(data, str) or not data.startswith("=#") or len(data) != BIRTH_DATE_LENGTH:
        raise Invalid({"birth_date": translated(N_("must be =# + 2-digit location code + yyyymmdd (12 characters)"))})
    if not re.fullmatch(r"[0-9]{10}", data[2:]) or int(data[4:8]) < 1900:
        raise Invalid({"birth_date": translated(N_("must be =# + 2-digit location code + yyyymmdd from 1900 on"))})
    try:
        return data[2:4], date(int(data[4:8]), int(data[8:10]), int(data[10:12]))
    except ValueError:
        raise Invalid({"birth_date": translated(N_(
            "{digits} is not a calendar date"
        )).format(digits=data[4:])}) from None


# Chain of identity identifier (DS 040, ST-028): &/ + CH + FIN (5) + yy (2) + 6 letters/digits + K.
COI_PREFIX = "CH"
COI_LENGTH = 18  # &/ CH 13 K
_COI_SERIAL = re.compile(r"[0-9A-Z]{6}")


@dataclass(frozen=True)
class ChainOfIdentity:
    """One patient's chain-of-identity identifier: FIN + 2-digit year + 6 letters/digits, checked by K
    (ISO/IEC 7064 Mod 37-2 over those 13 characters, as for the DIN)."""

    fin: str
    year: str
    serial: str

    def __post_init__(self) -> None:
        parts = (self.fin, self.year, self.serial)
        if not all(isinstance(p, str) for p in parts):
            raise Invalid({"chain_of_identity": translated(N_("parts must be text"))})
        problem = _din_problem(self.fin, self.year, "000000")
        if problem is None and not _COI_SERIAL.fullmatch(self.serial):
            problem = translated(N_(
                "serial {serial!r} must be 6 upper-case letters or digits"
            )).format(serial=self.serial)
        if problem:
            raise Invalid({"chain_of_identity": problem})

    @classmethod
    def issue(cls, fin: str, year: int, number: int) -> ChainOfIdentity:
        """The ``number``-th identifier of ``fin`` (1..999999) in ``year`` (4 digits or 2)."""
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 999_999:
            raise Invalid({"chain_of_identity": translated(N_("the serial number must be 1..999999"))})
        return cls(fin, f"{year % 100:02d}", f"{number:06d}")

    @classmethod
    def parse(cls, text: str) -> ChainOfIdentity:
        """``CH`` + 13 characters + K (16 characters, as stored and keyed); a wrong K is refused."""
        if not isinstance(text, str) or len(text) != 16 or not text.startswith(COI_PREFIX):
            raise Invalid({"chain_of_identity": translated(N_(
                "must be CH + FIN (5) + year (2) + 6 letters/digits + K"
            ))})
        found = cls(text[2:7], text[7:9], text[9:15])
        if text[15] != found.check:
            raise Refused(Reason("coi_check_character_mismatch", k=text[15], identifier=found.eye_readable))
        return found

    @property
    def core(self) -> str:
        return self.fin + self.year + self.serial

    @property
    def check(self) -> str:
        return check_character(self.core)

    @property
    def text(self) -> str:
        """``CHA999926000001K``: what the subject's record stores."""
        return COI_PREFIX + self.core + self.check

    @property
    def eye_readable(self) -> str:
        """``CH A9999 26 000001``: the label prints K boxed after it, as for the DIN."""
        return f"{COI_PREFIX} {self.fin} {self.year} {self.serial}"

    def barcode_data(self) -> str:
        return "&/" + self.text


def encode_chain_of_identity(text: str) -> str:
    """``&/`` + a stored chain-of-identity identifier (checked first)."""
    return ChainOfIdentity.parse(text).barcode_data()


def coi_eye_readable(text: str) -> str:
    """``CH A9999 26 000001 K`` for a page or a document (K last, as keyed)."""
    coi = ChainOfIdentity.parse(text)
    return f"{coi.eye_readable} {coi.check}"


# --- Local data identifiers &a-&z: a facility's own structures (vessel, tube, vial, box, position) ---
LOCAL_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LOCAL_CONTENT = re.compile(r"[0-9A-Z-]{1,32}")
_LOCAL_WORDS = N_("1-32 upper-case letters, digits or '-'")


def _is_local(ident: str) -> bool:
    return len(ident) == 2 and ident[0] == "&" and ident[1] in LOCAL_LETTERS


def encode_local(letter: str, value: str) -> str:
    """``&`` + a lower-case letter the site gives to one kind of its own structures + the identifier."""
    if not isinstance(letter, str) or len(letter) != 1 or letter not in LOCAL_LETTERS:
        raise Invalid({"letter": translated(N_("a local data identifier is one lower-case letter a-z"))})
    if not isinstance(value, str) or not _LOCAL_CONTENT.fullmatch(value):
        raise Invalid({"identifier": translated(N_("must be {words}")).format(words=translated(_LOCAL_WORDS))})
    return "&" + letter + value


def parse_local(data: str) -> tuple[str, str]:
    """Parse ``&a...`` into (letter, identifier), checking identifier, length and characters."""
    if not isinstance(data, str) or not _is_local(data[:2]):
        raise Invalid({"data": translated(N_("not a local data structure (&a-&z)"))})
    if not _LOCAL_CONTENT.fullmatch(data[2:]):
        raise Invalid({"identifier": translated(N_("must be {words}")).format(words=translated(_LOCAL_WORDS))})
    return data[1], data[2:]


# --- Any structure, and the compound message =+ ---
@dataclass(frozen=True)
class ParsedStructure:
    """One recognised data structure: ``kind``, interpreted ``fields`` and the exact ``data`` read."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    data: str = ""


def _is_din_start(ident: str) -> bool:
    """``=`` then a letter or digit: data structure 001 (every other ``=`` identifier is a symbol)."""
    return len(ident) == 2 and ident[0] == "=" and ident[1] in MOD37_ALPHABET[:36]


_DATE_FIELD = {"expiry": "expires_at", "collection": "collected_at", "production": "produced_at"}


def _parse_single(data: str, tz: ZoneInfo | None) -> ParsedStructure:
    ident = data[:2]
    if ident == "=<":
        pc = ProductCode.parse(data)
        fields = {"product_code": pc.code, "collection_type": pc.collection_type, "division": pc.division}
        return ParsedStructure("product_code", fields, data)
    if ident in _DATE_BY_ID:
        kind, timed = _DATE_BY_ID[ident]
        return ParsedStructure(kind, {_DATE_FIELD[kind.split("_")[0]]: parse_moment(data, tz),
                                      "has_time": timed}, data)
    if ident in _TEXT_BY_ID:
        kind, value = parse_text(data)
        return ParsedStructure(kind, {"lot": value}, data)
    if ident == "&#":
        location, value = parse_patient_id(data)
        return ParsedStructure("patient_id", {"location": location, "patient_id": value}, data)
    if ident == "&/":
        if len(data) != COI_LENGTH:
            raise Invalid({"chain_of_identity": translated(N_(
                "&/ + CH + 13 characters + K is {coi_length} characters, got {length}")).format(
                    coi_length=COI_LENGTH, length=len(data))})
        coi = ChainOfIdentity.parse(data[2:])
        return ParsedStructure("chain_of_identity", {"chain_of_identity": coi.text}, data)
    if _is_local(ident):
        letter, value = parse_local(data)
        return ParsedStructure("local", {"letter": letter, "identifier": value}, data)
    if ident == "=#":
        location, born = parse_birth_date_at(data)
        return ParsedStructure("patient_birth_date", {"location": location, "birth_date": born}, data)
    if _is_din_start(ident):
        din, flags = parse_din_barcode(data)
        return ParsedStructure("din", {"din": din.text, "check": din.check, "flags": flags}, data)
    raise Invalid({"data": translated(N_("unknown data identifier {ident!r}")).format(ident=ident)})


def parse_structure(data: str, tz: ZoneInfo | None = None) -> ParsedStructure:
    """Recognise any structure above by its data identifier and parse it strictly.

    Date-times come back as site wall-clock time (aware in ``tz`` if given). Unknown identifiers are
    ``Invalid``; a DIN barcode with wrong type 3 flags is ``Refused``.
    """
    if not isinstance(data, str):
        raise Invalid({"data": translated(N_("must be text"))})
    if not data.isascii() or len(data) < 3:
        raise Invalid({"data": translated(N_("a data structure is ASCII: a 2-character identifier and its content"))})
    if data.startswith("=+"):
        structures, reference = _split_compound(data, tz)
        return ParsedStructure("compound", {"count": len(structures), "reference": reference,
                                            "structures": structures}, data)
    parts = _concatenation(data)
    if len(parts) > 1:
        structures = [_parse_single(part, tz) for part in parts]
        return ParsedStructure("compound", {"count": len(structures), "reference": None,
                                            "structures": structures, "concatenated": True}, data)
    return _parse_single(data, tz)


def _concatenation(data: str) -> list[str]:
    """The structures a scanner joined into one read (ISBT 128 concatenation: two or more codes of one
    label read as one string, without the ``=+`` header); one part when it is a single structure, or
    when the text cannot be split (the single parse then says what is wrong)."""
    parts: list[str] = []
    at = 0
    try:
        while at < len(data):
            size = _next_length(data, at)
            if size < 3 or at + size > len(data):
                return [data]
            parts.append(data[at:at + size])
            at += size
    except Invalid:
        return [data]
    return parts


COMPOUND_REFERENCE_UNDEFINED = "000"
_FIXED_LENGTH = {"=<": 10, "=#": BIRTH_DATE_LENGTH, "&)": 2 + CONTAINER_LOT_LENGTH, "&/": COI_LENGTH,
                 **{i: (12 if t else 8) for i, (_, t) in _DATE_BY_ID.items()}}


def encode_compound(structures: list[str], reference: str = COMPOUND_REFERENCE_UNDEFINED) -> str:
    """``=+`` + ``nn`` (count of structures, 01..99) + ``rrr`` (reference, ``000`` = not a registered
    sequence) + the structures concatenated, each with its own data identifier, for a 2D code.

    Every structure is parsed first, so a code that a scanner could not read back is never printed.
    """
    if not isinstance(structures, list) or not 1 <= len(structures) <= 99:
        raise Invalid({"structures": translated(N_("a compound message carries 1..99 data structures"))})
    if not isinstance(reference, str) or not re.fullmatch(r"[0-9]{3}", reference):
        raise Invalid({"reference": translated(N_("must be 3 digits"))})
    for data in structures:
        if parse_structure(data).kind == "compound":
            raise Invalid({"structures": translated(N_("a compound message cannot contain another"))})
    return f"=+{len(structures):02d}{reference}" + "".join(structures)


def _next_length(text: str, at: int) -> int:
    """Length of the structure starting at ``at``: known for fixed ones, else up to the next ``=``/``&``."""
    ident = text[at:at + 2]
    if ident in _FIXED_LENGTH:
        return _FIXED_LENGTH[ident]
    if ident == "&#":
        return _patient_id_length(text, at)
    if _is_local(ident):
        ends = [i for i in (text.find("=", at + 2), text.find("&", at + 2)) if i != -1]
        return (min(ends) if ends else len(text)) - at
    if ident == "=+":
        raise Invalid({"data": translated(N_("a compound message cannot contain another"))})
    if _is_din_start(ident):
        return DIN_BARCODE_LENGTH
    raise Invalid({"data": translated(N_(
        "unknown data identifier {ident!r} at position {position} of the compound message"
    )).format(ident=ident, position=at + 1)})


def _split_compound(text: str, tz: ZoneInfo | None) -> tuple[list[ParsedStructure], str]:
    if len(text) < 7 or not re.fullmatch(r"[0-9]{5}", text[2:7]):
        raise Invalid({"data": translated(N_("a compound message starts =+ nn (count) rrr (reference)"))})
    count, reference = int(text[2:4]), text[4:7]
    found: list[ParsedStructure] = []
    at = 7
    while at < len(text):
        size = _next_length(text, at)
        if at + size > len(text):
            raise Invalid({"data": translated(N_(
                "compound message ends inside structure {number}"
            )).format(number=len(found) + 1)})
        found.append(_parse_single(text[at:at + size], tz))
        at += size
    if count == 0 or count != len(found):
        raise Invalid({"data": translated(N_(
            "compound header announces {count} structures, found {found}"
        )).format(count=count, found=len(found))})
    return found, reference


def parse_compound(text: str, tz: ZoneInfo | None = None) -> list[ParsedStructure]:
    """Split a ``=+`` message back into its structures, exactly (see ``encode_compound``)."""
    if not isinstance(text, str) or not text.startswith("=+"):
        raise Invalid({"data": translated(N_("a compound message starts with '=+'"))})
    parsed = parse_structure(text, tz)
    return list(parsed.fields["structures"])
