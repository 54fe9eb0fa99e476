"""Cord collections: the donor's eligibility determination, the DIN, and the first custody event.

The donor (the mother) is known here only by a code: identifiers never carry a name, a national id
or a medical record number (21 CFR 1271.290). The software, not the person typing, decides
eligibility from the screening results, consent and medical history (``rules.donor``), and every
reason against it is kept with the collection so that later screens and the batch record show it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.audit.models import Signature
from cellchain.core.errors import Invalid
from cellchain.core.fields import read_fields
from cellchain.core.words import N_, translated
from cellchain.manufacturing import din, donor_results, lookups
from cellchain.manufacturing.lot_access import moment, optional_moment, people
from cellchain.manufacturing.models import Collection, DonorResult, Lot
from cellchain.manufacturing.rules import donor
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.ward import custody
from cellchain.ward.models import CustodyEvent, Excursion

DONOR_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
DONOR_CODE_RULE = ("a code, never a name: 3-40 upper-case letters, digits or '-', with at least one digit "
                   "(e.g. DONOR-0042)")


@dataclass(frozen=True)
class CollectionInput:
    donor_code: str
    collected_at: datetime
    site: str
    consent_obtained: bool
    screening: dict[str, str]
    specimen_collected_at: datetime | None
    medical_history_ok: bool


def _donor_code(value: Any) -> str:
    """A digit is required so that a bare surname typed in capitals (``SMITH``) is refused as a code."""
    text = value.strip() if isinstance(value, str) else None
    if not text or not DONOR_CODE.fullmatch(text) or not any(ch.isdigit() for ch in text):
        raise Invalid({"donor_code": DONOR_CODE_RULE})
    return text


def _site(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 120:
        raise Invalid({"site": translated(N_("say where the cord was collected (up to 120 characters)"))})
    return value.strip()


def _flag(value: Any, name: str, default: bool | None = None) -> bool:
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise Invalid({name: translated(N_("true or false"))})
    return value


def parse_collection(data: Mapping[str, Any]) -> CollectionInput:
    """Read ``POST /collections``, naming every bad field at once (times need their UTC offset)."""
    readers = {
        "donor_code": lambda: _donor_code(data.get("donor_code")),
        "collected_at": lambda: moment(data, "collected_at"),
        "site": lambda: _site(data.get("site")),
        "consent_obtained": lambda: _flag(data.get("consent_obtained"), "consent_obtained"),
        "screening": lambda: donor.parse_screening(data.get("screening")),
        "specimen_collected_at": lambda: optional_moment(data, "specimen_collected_at"),
        "medical_history_ok": lambda: _flag(data.get("medical_history_ok"), "medical_history_ok", default=True),
    }
    return CollectionInput(**read_fields(readers, "the collection has invalid fields"))


def register_collection(session: Session, *, actor: Actor, data: Mapping[str, Any], fin: str, tz: ZoneInfo,
                        ranges: Mapping[str, Any]) -> Collection:
    """Register a cord: decide the donor's eligibility (``pending`` while results are still to come), issue its
    DIN and open its chain of custody."""
    require_role(actor.roles, "lab", action=N_("register a cord collection"))
    entry = parse_collection(data)
    verdict = donor.assess_donor(entry.screening, consent_obtained=entry.consent_obtained,
                                 specimen_collected_at=entry.specimen_collected_at, collected_at=entry.collected_at,
                                 medical_history_ok=entry.medical_history_ok)
    row = Collection(din=din.issue_din(session, fin=fin, when=entry.collected_at, tz=tz),
                     donor_code=entry.donor_code, collected_at=entry.collected_at, site=entry.site,
                     consent_obtained=entry.consent_obtained, screening=entry.screening,
                     specimen_collected_at=entry.specimen_collected_at, medical_history_ok=entry.medical_history_ok,
                     eligibility=verdict.answer, eligibility_reasons=[r.as_dict() for r in verdict.reasons],
                     created_by=actor.id)
    session.add(row)
    session.flush()
    donor_results.record_registered(session, actor=actor, collection=row)
    trail.record(session, actor=actor, record_type="collection", record_id=row.id, action="register",
                 new={"din": row.din, "donor_code": row.donor_code, "collected_at": row.collected_at,
                      "site": row.site, "consent_obtained": row.consent_obtained, "screening": row.screening,
                      "specimen_collected_at": row.specimen_collected_at,
                      "medical_history_ok": row.medical_history_ok, "eligibility": row.eligibility,
                      "reasons": row.eligibility_reasons})
    custody.record_system_event(session, actor=actor, record=row, ranges=ranges,
                                handover=custody.Handover(event="collected", location=row.site,
                                                          occurred_at=row.collected_at))
    return row


@dataclass(frozen=True)
class CollectionView:
    collection: Collection
    events: list[CustodyEvent]
    excursions: list[Excursion]
    lot: Lot | None
    people: dict[int, User]
    results: list[DonorResult] = field(default_factory=list)
    determination: Signature | None = None

    def name(self, user_id: int | None) -> str:
        person = self.people.get(user_id) if user_id is not None else None
        return person.full_name if person else ""


def collection_view(session: Session, din_text: Any) -> CollectionView:
    if not isinstance(din_text, str):
        raise Invalid({"din": translated(N_("give the collection's DIN"))})
    row = lookups.collection_by_din(session, din_text.strip())
    events = custody.events_of(session, "collection", row.id)
    excursions = list(session.exec(select(Excursion).where(Excursion.item_type == "collection",
                                                           Excursion.item_id == row.id).order_by(Excursion.id)))
    lot = session.exec(select(Lot).where(Lot.collection_id == row.id, Lot.source_vial_id.is_(None))).first()
    results = donor_results.results_of(session, row)
    determination = (session.get(Signature, row.determination_signature_id)
                     if row.determination_signature_id is not None else None)
    return CollectionView(row, events, excursions, lot,
                          people(session, {row.created_by, *(e.recorded_by for e in events),
                                           *(r.entered_by for r in results)}), results, determination)


def awaiting_lot(session: Session) -> list[Collection]:
    """Cords without a lot that are still usable (not discarded), newest first: read from the partial index of
    the cords not yet marked by a lot (``Collection.lot_started_at``, kept by the database), so the page reads
    the cords waiting, never every cord received."""
    statement = (select(Collection)
                 .where(Collection.lot_started_at.is_(None), (Collection.custody_state.is_(None))
                        | (Collection.custody_state != "discarded"))
                 .order_by(Collection.collected_at.desc()))
    return list(session.exec(statement))
