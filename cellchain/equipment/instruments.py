"""The instrument registry: registering an instrument, recording a calibration or maintenance done, taking
it out of service and returning it (QA's e-signature), and what falls due (docs/rules.md, "Equipment").

Each change writes its history entry (``InstrumentEvent``) and its audit entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.fields import read_fields
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.equipment.models import Instrument, InstrumentEvent
from cellchain.equipment.rules import validity
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role

KEEPERS = ("lab", "qa")
# What a refused person was trying to do, as the refusal names it (docs/architecture.md, "Languages").
SERVICE_ACTIONS = {"calibration": N_("record a calibration"), "maintenance": N_("record a maintenance")}
READERS = ("lab", "qc", "qa", "auditor")
MAX_TEXT = 120
MAX_REASON = 500
INSTRUMENT_EXISTS = "instrument_exists"
ALREADY_OUT = "instrument_already_out_of_service"
NOT_OUT = "instrument_not_out_of_service"
SIGNER_NOT_ACTOR = "signer_not_actor"


def start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def end_of(day: date, zone: ZoneInfo) -> datetime:
    """The last instant a due date covers: the end of that day in the site's zone."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone) - timedelta(microseconds=1)


def _text(value: Any, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise Invalid({field: translated(N_("1 to {longest} characters")).format(longest=limit)})
    return value.strip()


def read_date(value: Any, field: str, *, required: bool = True) -> date | None:
    """A date as ``YYYY-MM-DD`` (a page's date input sends that)."""
    if value in (None, "") and not required:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        try:
            day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
    if day is None or day.year < 2000 or day.year > 2100:
        raise Invalid({field: translated(N_("a date, e.g. 2027-03-31"))})
    return day


def _kind(value: Any) -> str:
    if value not in validity.KINDS or value == "storage_unit":
        raise Invalid({"kind": translated(N_("one of {choices}")).format(
            choices=", ".join(k for k in validity.KINDS if k != "storage_unit"))})
    return value


def by_code(session: Session, code: Any, *, for_update: bool = False) -> Instrument:
    text = code.strip().upper() if isinstance(code, str) else ""
    statement = select(Instrument).where(Instrument.code == text)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no instrument {text[:40]}")
    return row


def by_storage_unit(session: Session, unit_id: int) -> Instrument | None:
    return session.exec(select(Instrument).where(Instrument.storage_unit_id == unit_id)).first()


def list_instruments(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of instruments by identifier."""
    return db.keyset(session, select(Instrument), (Instrument.code,), page)


def _snapshot(row: Instrument) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "kind": row.kind, "place": row.place, "status": row.status,
            "calibration_due": row.calibration_due, "maintenance_due": row.maintenance_due}


def _event(session: Session, actor: Actor, row: Instrument, **values: Any) -> InstrumentEvent:
    event = InstrumentEvent(instrument_id=row.id, recorded_by=actor.id, **values)
    session.add(event)
    session.flush()
    return event


def _add(session: Session, *, actor: Actor, values: dict[str, Any], zone: ZoneInfo,
         storage_unit_id: int | None = None) -> Instrument:
    if session.exec(select(Instrument.id).where(Instrument.code == values["code"])).first() is not None:
        raise Refused(Reason(INSTRUMENT_EXISTS, instrument=values["code"]))
    row = Instrument(created_by=actor.id, storage_unit_id=storage_unit_id, **values)
    for service in validity.SERVICES:
        due = values.get(f"{service}_due")
        if due is not None:
            setattr(row, f"{service}_valid_until", end_of(due, zone))
    session.add(row)
    session.flush()
    for service in validity.SERVICES:
        due = values.get(f"{service}_due")
        if due is not None:  # the cover the instrument came with: its last service was done before registration
            _event(session, actor, row, kind="register", service=service, next_due=due,
                   valid_until=end_of(due, zone), effective_at=row.created_at)
    trail.record(session, actor=actor, record_type="instrument", record_id=row.id, action="register",
                 new=_snapshot(row))
    return row


def register(session: Session, *, actor: Actor, data: Mapping[str, Any], zone: ZoneInfo) -> Instrument:
    """Register an instrument with its identifier, place and the due dates of its calibration and maintenance
    (an empty due date: the instrument is not kept under that service)."""
    require_role(actor.roles, *KEEPERS, action=N_("register an instrument"))
    values = read_fields({
        "code": lambda: validity.check_code(data.get("code")),
        "name": lambda: _text(data.get("name"), "name"),
        "kind": lambda: _kind(data.get("kind")),
        "place": lambda: _text(data.get("place"), "place"),
        "calibration_due": lambda: read_date(data.get("calibration_due"), "calibration_due", required=False),
        "maintenance_due": lambda: read_date(data.get("maintenance_due"), "maintenance_due", required=False)})
    return _add(session, actor=actor, values=values, zone=zone)


def register_storage_unit(session: Session, *, actor: Actor, unit_id: int, code: str, name: str) -> Instrument:
    """The registry's record of a storage unit being set up (called by ``storage/places.py``): no calibration
    or maintenance is due until one is recorded on the instrument's page."""
    values = {"code": code, "name": name, "kind": "storage_unit", "place": name,
              "calibration_due": None, "maintenance_due": None}
    return _add(session, actor=actor, values=values, zone=ZoneInfo("UTC"), storage_unit_id=unit_id)


def rename_storage_unit(session: Session, *, actor: Actor, unit_id: int, name: str, reason: str) -> None:
    """A storage unit renamed in storage is renamed in the registry (called by ``storage/places.py``)."""
    row = by_storage_unit(session, unit_id)
    if row is None:
        return
    old = row.name
    row.name = name
    session.add(row)
    trail.record(session, actor=actor, record_type="instrument", record_id=row.id, action="rename",
                 old={"name": old}, new={"name": name}, reason=reason)


@dataclass(frozen=True)
class ServiceInput:
    done_on: date
    next_due: date
    done_by: str
    certificate_ref: str | None
    out_of_tolerance: bool


def parse_service(data: Mapping[str, Any], service: str, *, today: date) -> ServiceInput:
    """A calibration or maintenance as done: the day (not ahead of today), the next due day (after it), by whom
    and the certificate; a calibration also says whether it found the instrument out of tolerance."""
    readers = {
        "done_on": lambda: read_date(data.get("done_on"), "done_on"),
        "next_due": lambda: read_date(data.get("next_due"), "next_due"),
        "done_by": lambda: _text(data.get("done_by"), "done_by"),
        "certificate_ref": lambda: _text(data.get("certificate_ref"), "certificate_ref",
                                         required=service == "calibration")}
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, reader in readers.items():
        try:
            values[name] = reader()
        except Invalid as error:
            fields.update(error.fields)
    done, due = values.get("done_on"), values.get("next_due")
    if done is not None and done > today:
        fields["done_on"] = translated(N_("not after today"))
    if done is not None and due is not None and due <= done:
        fields["next_due"] = translated(N_("after the day it was done"))
    flag = data.get("out_of_tolerance")
    if flag not in (None, "", True, False, "y", "true", "false"):
        fields["out_of_tolerance"] = translated(N_("true or false"))
    tolerance = flag in (True, "y", "true")
    if tolerance and service != "calibration":
        fields["out_of_tolerance"] = translated(N_("only a calibration finds an instrument out of tolerance"))
    if fields:
        raise Invalid(fields)
    return ServiceInput(values["done_on"], values["next_due"], values["done_by"], values["certificate_ref"], tolerance)


def record_service(session: Session, *, actor: Actor, code: Any, service: str, data: Mapping[str, Any],
                   zone: ZoneInfo) -> InstrumentEvent:
    """Record a calibration or maintenance done: the instrument's due date moves to the next due day."""
    require_role(actor.roles, *KEEPERS, action=SERVICE_ACTIONS.get(service, N_("open the instrument registry")))
    if service not in validity.SERVICES:
        raise NotFound(f"no service {service}")
    entry = parse_service(data, service, today=utcnow().astimezone(zone).date())
    row = by_code(session, code, for_update=True)
    old = _snapshot(row)
    # A record covers from when the work was surely done: now for work done today, the end of its day for
    # work recorded later; a step earlier that day stays under the cover before it (or its void).
    start = min(utcnow(), end_of(entry.done_on, zone))
    event = _event(session, actor, row, kind=service, done_on=entry.done_on, valid_from=start,
                   next_due=entry.next_due, valid_until=end_of(entry.next_due, zone), done_by=entry.done_by,
                   certificate_ref=entry.certificate_ref, out_of_tolerance=entry.out_of_tolerance, effective_at=start)
    # The newest record sets the due date, also one sooner than before (a calibration found out of tolerance).
    setattr(row, f"{service}_due", entry.next_due)
    setattr(row, f"{service}_valid_until", end_of(entry.next_due, zone))
    session.add(row)
    trail.record(session, actor=actor, record_type="instrument", record_id=row.id, action=service,
                 old={f"{service}_due": old[f"{service}_due"]},
                 new={f"{service}_due": getattr(row, f"{service}_due"), "done_on": entry.done_on,
                      "next_due": entry.next_due, "done_by": entry.done_by,
                      "certificate_ref": entry.certificate_ref, "out_of_tolerance": entry.out_of_tolerance,
                      "event_id": event.id})
    return event


def _reason(value: Any) -> str:
    text = _text(value, "reason", limit=MAX_REASON)
    assert text is not None
    return text


def take_out_of_service(session: Session, *, actor: Actor, code: Any, data: Mapping[str, Any]) -> Instrument:
    """Take an instrument out of service with the reason, from now or from a stated earlier time (a failure
    found in the morning that began overnight): every step that used it since then becomes a release gap."""
    require_role(actor.roles, *KEEPERS, action=N_("take an instrument out of service"))
    values = read_fields({"reason": lambda: _reason(data.get("reason")),
                          "since": lambda: _since(data.get("since"))})
    row = by_code(session, code, for_update=True)
    if row.status == "out_of_service":
        raise Refused(Reason(ALREADY_OUT, instrument=row.code))
    _event(session, actor, row, kind="out_of_service", reason=values["reason"], effective_at=values["since"])
    row.status, row.status_reason = "out_of_service", values["reason"]
    session.add(row)
    trail.record(session, actor=actor, record_type="instrument", record_id=row.id, action="out_of_service",
                 old={"status": "in_service"}, new={"status": row.status, "since": values["since"]},
                 reason=values["reason"])
    return row


def _since(value: Any) -> datetime:
    if value in (None, ""):
        return utcnow()
    when = parse_instant(value, "since")
    check_stated_times({"since": when}, now=utcnow())
    return when


def return_content(row: Instrument, reason: str) -> dict[str, Any]:
    """What QA signs when an instrument goes back into service (21 CFR 11.70: bound to the record)."""
    return {"instrument": row.code, "status": "in_service", "reason": reason,
            "calibration_due": row.calibration_due, "maintenance_due": row.maintenance_due}


def return_to_service(session: Session, *, actor: Actor, code: Any, reason: Any,
                      signature: signatures.SignatureInput, policy: Policy) -> Instrument:
    """QA returns an instrument to service by e-signature (meaning ``approved``) with the reason."""
    require_role(actor.roles, "qa", action=N_("return an instrument to service"))
    text = _reason(reason)
    if signature.meaning != "approved":
        raise Invalid({"signature.meaning": translated(N_("here the meaning must be approved"))})
    row = by_code(session, code, for_update=True)
    reasons = [] if row.status == "out_of_service" else [Reason(NOT_OUT, instrument=row.code)]
    if signature.username != actor.username:
        reasons.append(Reason(SIGNER_NOT_ACTOR))
    if reasons:
        raise Refused(reasons)
    signed = signatures.sign(session, signature, record_type="instrument", record_id=row.id,
                             content=return_content(row, text), policy=policy, meanings=("approved",),
                             roles=("qa",), action=N_("return an instrument to service"))
    _event(session, actor, row, kind="return_to_service", reason=text, effective_at=signed.signed_at,
           signature_id=signed.id)
    row.status, row.status_reason = "in_service", None
    session.add(row)
    trail.record(session, actor=actor, record_type="instrument", record_id=row.id, action="return_to_service",
                 old={"status": "out_of_service"}, new={"status": row.status, "signature_id": signed.id},
                 reason=text)
    return row


def events_of(session: Session, instrument_id: int) -> list[InstrumentEvent]:
    statement = select(InstrumentEvent).where(InstrumentEvent.instrument_id == instrument_id)
    return list(session.exec(statement.order_by(InstrumentEvent.id)))


def overdue_count(session: Session, *, today: date) -> int:
    """How many instruments are past a calibration or maintenance due date (one bounded count, for the alerts)."""
    statement = select(func.count()).select_from(Instrument).where(
        or_(Instrument.calibration_due < today, Instrument.maintenance_due < today))
    return int(session.exec(statement).one())


def falls_due(session: Session, *, today: date, days: int) -> list[validity.Due]:
    """Every calibration and maintenance overdue or due within ``days`` of ``today``, soonest first
    (instruments out of service included: they must be serviced before they return)."""
    horizon = today + timedelta(days=days)
    found = []
    for service in validity.SERVICES:
        column = getattr(Instrument, f"{service}_due")
        for row in session.exec(select(Instrument).where(column.is_not(None), column <= horizon)):
            due = getattr(row, f"{service}_due")
            found.append(validity.Due(row.code, row.name, service, due, due < today))
    return sorted(found, key=lambda d: (d.due, d.code, d.service))
