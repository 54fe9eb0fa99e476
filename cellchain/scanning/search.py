"""One search box for every record people name by a code: a scan first, then the start of a code.

What the box holds is first read as a scan by the one resolver (``resolver.describe``): a DIN with its
check character, a bag's 2D code, a wristband or a vial label names exactly one record. Whatever else is
typed is the start of a code, matched case-insensitively against subject ids and screening numbers, lot
numbers, bag ids, DINs, bank codes and vial codes, each kind at most ``PER_KIND`` rows (an index range
scan on the unique codes, never the whole table), so a search costs a fixed number of statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated
from cellchain.core.words.labels import label
from cellchain.core.words.scans import scan_kind_label
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.scanning import resolver
from cellchain.trial.models import Subject

PER_KIND = 10
MIN_TYPED = 2
MAX_TYPED = 200
# (kind, model, the code people use, other columns searched too, what the row says about itself)
SEARCHED: tuple[tuple[str, Any, Any, tuple[Any, ...]], ...] = (
    ("subject", Subject, Subject.subject_code, (Subject.screening_number,)),
    ("lot", Lot, Lot.lot_number, ()),
    ("bag", Bag, Bag.bag_code, ()),
    ("collection", Collection, Collection.din, ()),
    ("bank", CellBank, CellBank.bank_code, ()),
    ("vial", Vial, Vial.vial_code, ()),
)


@dataclass(frozen=True)
class Hit:
    """A record found: its kind, its public key (as the record's page takes it) and a few words about it, kept
    as a catalogue message and its values so that they read in the language of whoever is shown them."""

    type: str
    key: str
    message: str  # an English template marked N_, worded when shown (``words``)
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> str:
        """The few words in the reader's language: coded values worded through the vocabulary."""
        return translated(self.message).format(**{name: _worded(name, value) for name, value in self.values.items()})


# Values of a hit that are not codes: shown as they are. A scan's kind has its own words; other codes (a
# status, a product, a custody state) read through the one vocabulary.
_AS_THEY_ARE = frozenset({"screening_number", "din"})


def _worded(name: str, value: Any) -> str:
    if name in _AS_THEY_ARE:
        return str(value)
    return scan_kind_label(value) if name == "scan" else label(value)


@dataclass(frozen=True)
class Found:
    """What the box found: the scan's record when it was a scan of one, then the codes starting with the text."""

    text: str
    scanned: Hit | None = None
    hits: list[Hit] = field(default_factory=list)
    note: str | None = None


def _described(kind: str, key: str, row: Any) -> Hit:
    """The hit for ``row``: its words as a catalogue message and the values it needs."""
    if kind == "subject":
        message = N_("screening {screening_number}, randomized") if row.arm else N_("screening {screening_number}")
        return Hit(kind, key, message, {"screening_number": row.screening_number})
    if kind == "lot":
        return Hit(kind, key, N_("{purpose} lot, {status}"), {"purpose": row.purpose, "status": row.status})
    if kind == "bag":
        if row.custody_state is None:
            return Hit(kind, key, N_("{product} bag, {quality_status}, not filled"),
                       {"product": row.kind, "quality_status": row.quality_status})
        return Hit(kind, key, N_("{product} bag, {quality_status}, {custody_state}"),
                   {"product": row.kind, "quality_status": row.quality_status, "custody_state": row.custody_state})
    if kind == "collection":
        return Hit(kind, key, N_("cord, donor {eligibility}"), {"eligibility": row.eligibility})
    if kind == "bank":
        return Hit(kind, key, N_("{level} of {din}"), {"level": row.level, "din": row.din})
    return Hit(kind, key, N_("vial, {state}"), {"state": row.state})


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scanned(session: Session, text: str, tz: ZoneInfo, letters: Mapping[str, str]) -> tuple[Hit | None, str | None]:
    try:
        answer = resolver.describe(session, text, tz=tz, letters=letters)
    except Invalid:
        return None, None  # not a scan: typed text, searched below
    if answer.record is None:
        return None, answer.note
    record = answer.record
    return Hit(record.type, record.key, N_("scanned {scan}"), {"scan": answer.scan.kind}), None


def find(session: Session, text: Any, *, tz: ZoneInfo, letters: Mapping[str, str] = resolver.LETTERS,
         per_kind: int = PER_KIND) -> Found:
    """Read ``text`` as a scan, else as the start of codes; ``Invalid`` names ``q`` for text too short or long."""
    if not isinstance(text, str) or len(text.strip()) < MIN_TYPED or len(text) > MAX_TYPED or not text.isprintable():
        raise Invalid({"q": translated(N_("type or scan at least {least} characters (at most {most})"))
                       .format(least=MIN_TYPED, most=MAX_TYPED)})
    text = text.strip()
    scanned, note = _scanned(session, text, tz, letters)
    pattern = _escaped(text.upper()) + "%"
    hits: list[Hit] = []
    for kind, model, code, others in SEARCHED:
        condition = code.like(pattern, escape="\\")
        for other in others:
            condition = condition | other.ilike(_escaped(text) + "%", escape="\\")
        rows = session.exec(select(model).where(condition).order_by(code).limit(per_kind)).all()
        hits += [_described(kind, getattr(row, code.key), row) for row in rows]
    if scanned is not None:
        hits = [hit for hit in hits if (hit.type, hit.key) != (scanned.type, scanned.key)]
    return Found(text, scanned, hits, note)
