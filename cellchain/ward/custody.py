"""Chain of custody: every hand-over of a collection or bag, checked by the state machine.

The rules about moves live in ``custody_states``; this module adds what needs the database: the item's
current state, the time order of its events, temperature ranges from configuration, the excursions that
block use until QA decides, and rule 2 (a quarantined bag is never dispatched).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal, union_all
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.banking.models import Vial
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.models import Bag, Collection
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.ward.models import CustodyEvent, Excursion
from cellchain.ward.rules import custody_states

MODELS: dict[str, type] = {"collection": Collection, "bag": Bag, "vial": Vial}
CODE_COLUMNS = {"collection": "din", "bag": "bag_code", "vial": "vial_code"}
RECORDING_ROLES = ("lab", "nurse", "qa")
EXCURSION_STATUSES = ("open", "accepted", "rejected")


@dataclass(frozen=True)
class Handover:
    """What a person records at a hand-over: what, from, to, when, temperature, condition (21 CFR 1271.260)."""

    event: str
    location: str
    occurred_at: datetime | None = None
    temperature_c: float | None = None
    condition: str = "intact"
    handed_over_by: str | None = None
    received_by: str | None = None
    notes: str | None = None


def _kind_of(record: Any) -> str:
    for kind, model in MODELS.items():
        if isinstance(record, model):
            return kind
    raise Invalid({"item": translated(N_("only collections, bags and bank vials have a chain of custody"))})


def _lock(session: Session, record: Any) -> Any:
    model = type(record)
    statement = select(model).where(model.id == record.id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).one()


# Read on every bedside check and custody page: built once, they are only SQL with parameters.
_EVENTS = (select(CustodyEvent).where(CustodyEvent.item_type == bindparam("kind"),
                                      CustodyEvent.item_id == bindparam("item_id"))
           .order_by(CustodyEvent.occurred_at, CustodyEvent.id))
_OPEN_EXCURSIONS = select(Excursion).where(Excursion.item_type == bindparam("kind"),
                                           Excursion.item_id == bindparam("item_id"), Excursion.status == "open")


def events_of(session: Session, kind: str, item_id: int) -> list[CustodyEvent]:
    return list(session.exec(_EVENTS, params={"kind": kind, "item_id": item_id}))


def open_excursions(session: Session, kind: str, item_id: int) -> list[Excursion]:
    return list(session.exec(_OPEN_EXCURSIONS, params={"kind": kind, "item_id": item_id}))


def excursions_of(session: Session, kind: str, item_id: int) -> list[Excursion]:
    """Every excursion of an item, open or decided, oldest first (for its custody record and reports)."""
    statement = (select(Excursion).where(Excursion.item_type == kind, Excursion.item_id == item_id)
                 .order_by(Excursion.id))
    return list(session.exec(statement))


def list_excursions(session: Session, *, status: str | None = None) -> list[Excursion]:
    """Excursions across all items, newest first; ``status`` open, accepted or rejected narrows them."""
    return list(session.exec(_excursions(status).order_by(Excursion.id.desc())))


def page_of_excursions(session: Session, page: db.PageRequest, *, status: str | None = None) -> db.Page:
    """One page of ``list_excursions``, newest first (keyset on the id)."""
    return db.keyset(session, _excursions(status), (Excursion.id,), page, descending=True)


def _excursions(status: str | None) -> Any:
    if status is not None and status not in EXCURSION_STATUSES:
        raise Invalid({"status": translated(N_("one of {choices}")).format(choices=', '.join(EXCURSION_STATUSES))})
    statement = select(Excursion)
    return statement.where(Excursion.status == status) if status else statement


def item_code(session: Session, kind: str, item_id: int) -> str:
    """The identifier people and the API use for an item: a bag's id, a vial's code, a collection's DIN; an
    item kind without a table here by its kind and row id."""
    if kind not in MODELS:
        return f"{kind} {item_id}"
    return getattr(session.get(MODELS[kind], item_id), CODE_COLUMNS[kind])


def item_codes(session: Session, items: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """``item_code`` for many items at once, by (kind, id): one statement for every kind together, whatever
    the number of items (a page of excursions names bags, vials and cords)."""
    wanted: dict[str, set[int]] = {}
    for kind, item_id in items:
        wanted.setdefault(kind, set()).add(item_id)
    codes = {(kind, item_id): f"{kind} {item_id}" for kind, ids in wanted.items() if kind not in MODELS
             for item_id in ids}
    parts = [select(literal(kind).label("kind"), MODELS[kind].id, getattr(MODELS[kind], CODE_COLUMNS[kind]))
             .where(MODELS[kind].id.in_(sorted(ids))) for kind, ids in sorted(wanted.items()) if kind in MODELS]
    if parts:
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        codes.update({(kind, item_id): code for kind, item_id, code in session.execute(statement)})
    return codes


def _check_time(session: Session, kind: str, item_id: int, occurred_at: datetime) -> None:
    check_stated_times({"occurred_at": occurred_at}, now=utcnow())
    last = session.exec(select(CustodyEvent).where(CustodyEvent.item_type == kind, CustodyEvent.item_id == item_id)
                        .order_by(CustodyEvent.occurred_at.desc()).limit(1)).first()
    if last is not None and occurred_at < last.occurred_at:
        raise Refused(Reason(custody_states.TIME_REVERSED, kind=kind, event=last.event))


def _guard_release(session: Session, kind: str, record: Any, event: str) -> None:
    """Rule 2: a bag whose lot is not released never leaves the lab, nor one whose lot is on hold
    (docs/rules.md, "Quality: holds")."""
    if kind == "bag" and event == "dispatched":
        holds.refuse_if_held(session, record)
    if kind == "bag" and event == "dispatched" and record.quality_status != "released":
        raise Refused(Reason("bag_not_released", bag_code=record.bag_code, quality_status=record.quality_status))


def _write(session: Session, *, actor: Actor, kind: str, record: Any, handover: Handover,
           ranges: Mapping[str, Any]) -> CustodyEvent:
    frozen = kind == "bag" and record.preservation == "cryopreserved" and record.thawed_at is None
    row = _append(session, actor=actor, kind=kind, item_id=record.id, state=record.custody_state,
                  handover=handover, ranges=ranges, frozen=frozen)
    record.custody_state = row.to_state
    if kind == "vial" and row.to_state == "discarded":
        record.state = "discarded"  # a discarded vial leaves its bank's stock (banking/models.py VIAL_STATES)
    session.add(record)
    return row


def _append(session: Session, *, actor: Actor, kind: str, item_id: int, state: str | None, handover: Handover,
            ranges: Mapping[str, Any], frozen: bool = False) -> CustodyEvent:
    """The event, its audit entry and any excursion; the caller keeps the item's own state, if it has one.
    ``frozen``: a cryopreserved bag before its thaw, judged by the frozen range."""
    occurred_at = handover.occurred_at or utcnow()
    _check_time(session, kind, item_id, occurred_at)
    new_state = custody_states.apply_event(kind, state, handover.event)
    key = custody_states.range_key(kind, frozen=frozen)
    low, high = ranges.get(key, custody_states.DEFAULT_RANGES[key])
    excursion = (handover.temperature_c is not None
                 and custody_states.temperature_excursion(handover.temperature_c, low, high))
    row = CustodyEvent(item_type=kind, item_id=item_id, event=handover.event, from_state=state,
                       to_state=new_state, location=handover.location, handed_over_by=handover.handed_over_by,
                       received_by=handover.received_by, temperature_c=handover.temperature_c,
                       condition=handover.condition, excursion=excursion, occurred_at=occurred_at,
                       recorded_by=actor.id, notes=handover.notes)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=f"{kind}_custody", record_id=item_id, action=handover.event,
                 old={"state": state}, new={"state": new_state, "event_id": row.id, "location": row.location,
                                            "temperature_c": row.temperature_c, "condition": row.condition,
                                            "occurred_at": occurred_at})
    if excursion:
        _open_excursion(session, actor=actor, kind=kind, item_id=item_id, event=row, low=low, high=high)
    return row


def _open_excursion(session: Session, *, actor: Actor, kind: str, item_id: int, event: CustodyEvent,
                    low: float, high: float) -> Excursion:
    row = Excursion(item_type=kind, item_id=item_id, custody_event_id=event.id,
                    temperature_c=event.temperature_c, low_c=low, high_c=high)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="excursion", record_id=row.id, action="open",
                 new={"item_type": kind, "item_id": item_id, "temperature_c": row.temperature_c,
                      "range": [low, high]})
    return row


def open_storage_excursion(session: Session, *, actor: Actor, kind: str, item_id: int, reading_id: int,
                           temperature_c: float, low: float, high: float) -> Excursion:
    """An item was in a storage unit while the unit read ``temperature_c``, outside its ``low..high``: it awaits
    QA's decision like an excursion at a hand-over (21 CFR 1271.260(d): excursions documented and assessed)."""
    row = Excursion(item_type=kind, item_id=item_id, storage_reading_id=reading_id, temperature_c=temperature_c,
                    low_c=low, high_c=high)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="excursion", record_id=row.id, action="open",
                 new={"item_type": kind, "item_id": item_id, "temperature_c": temperature_c, "range": [low, high],
                      "storage_reading_id": reading_id})
    return row


def record_handover(session: Session, *, actor: Actor, record: Any, handover: Handover,
                    ranges: Mapping[str, Any]) -> CustodyEvent:
    """A person records a hand-over (``POST /custody``): only the events people record, by lab, ward or QA."""
    require_role(actor.roles, *RECORDING_ROLES, action=N_("record a custody hand-over"))
    custody_states.guard_recordable_event(handover.event)
    if not handover.location or not handover.location.strip():
        raise Invalid({"location": translated(N_("say where the hand-over happened"))})
    if handover.event == "discarded" and not (handover.notes or "").strip():
        raise Invalid({"notes": custody_states.DISCARD_NEEDS_REASON})
    kind = _kind_of(record)
    record = _lock(session, record)
    _guard_release(session, kind, record, handover.event)
    return _write(session, actor=actor, kind=kind, record=record, handover=handover, ranges=ranges)


def record_system_event(session: Session, *, actor: Actor, record: Any, handover: Handover,
                        ranges: Mapping[str, Any]) -> CustodyEvent:
    """Events recorded by other use cases as part of their own work: collected, filled, infused, discarded."""
    if handover.event not in (*custody_states.SERVICE_EVENTS, "discarded"):
        raise Invalid({"event": translated(N_(
            "{event} is recorded through a hand-over, not by a service")).format(
            event=handover.event)})
    kind = _kind_of(record)
    return _write(session, actor=actor, kind=kind, record=_lock(session, record), handover=handover, ranges=ranges)


RETURNABLE = ("dispatched", "at_ward")


def record_return(session: Session, *, actor: Actor, bag: Bag, location: str, notes: str,
                  ranges: Mapping[str, Any]) -> CustodyEvent | None:
    """A bag taken off a withdrawn or dead subject's visit goes back to the lab for QA's decision: ``returned``
    for a bag outside the lab (dispatched, on the ward); None for one at the lab or in storage, which never
    left it (docs/rules.md, "Trial: the subject's lifecycle")."""
    bag = _lock(session, bag)
    if bag.custody_state not in RETURNABLE:
        return None
    return _write(session, actor=actor, kind="bag", record=bag, ranges=ranges,
                  handover=Handover(event="returned", location=location, notes=notes))


def current_state(session: Session, kind: str, item_id: int) -> str | None:
    """The custody state of any item: its own column for a collection or bag, else its last event's state."""
    if kind in MODELS:
        record = session.get(MODELS[kind], item_id)
        if record is None:
            raise NotFound(f"no {kind} {item_id}")
        return record.custody_state
    last = session.exec(select(CustodyEvent.to_state).where(CustodyEvent.item_type == kind,
                                                            CustodyEvent.item_id == item_id)
                        .order_by(CustodyEvent.occurred_at.desc(), CustodyEvent.id.desc()).limit(1)).first()
    return last if last is not None else custody_states.INITIAL_STATE.get(kind)


def record_storage_event(session: Session, *, actor: Actor, kind: str, item_id: int, handover: Handover,
                         ranges: Mapping[str, Any]) -> CustodyEvent:
    """Storage's put (``stored``), take (``taken``) and move (``moved``) of any storable item.

    A collection or bag is locked and its state column moved; a kind without its own table here (a cell-bank
    vial) keeps its state in its events. Either way the event, its audit entry and any excursion are written.
    """
    require_role(actor.roles, "lab", action=N_("put, take or move an item in storage"))
    if handover.event not in ("stored", *custody_states.STORAGE_EVENTS):
        raise Invalid({"event": translated(N_("storage records stored, taken or moved"))})
    if kind not in custody_states.ITEM_KINDS:
        raise Invalid({"item_type": translated(N_(
            "one of {choices}")).format(
            choices=', '.join(custody_states.ITEM_KINDS))})
    if kind in MODELS:
        record = session.get(MODELS[kind], item_id)
        if record is None:
            raise NotFound(f"no {kind} {item_id}")
        return _write(session, actor=actor, kind=kind, record=_lock(session, record), handover=handover,
                      ranges=ranges)
    return _append(session, actor=actor, kind=kind, item_id=item_id, state=current_state(session, kind, item_id),
                   handover=handover, ranges=ranges)


def chain_status(session: Session, kind: str, item_id: int,
                 events: list[CustodyEvent] | None = None) -> tuple[bool, list[Reason]]:
    """Whether the recorded events replay as an unbroken chain from the item's first event.

    ``events``: the item's events (``events_of``) when the caller has them already, so a page or a
    bedside check that shows the events and judges the chain reads them once, not twice.
    """
    rows = events_of(session, kind, item_id) if events is None else events
    events = [{"event": e.event, "occurred_at": e.occurred_at} for e in rows]
    return custody_states.chain_is_unbroken(events, item_kind=kind)


def decide_excursion(session: Session, *, actor: Actor, excursion_id: int, accept: bool, reason: str,
                     signature: signatures.SignatureInput, policy: Policy, ranges: Mapping[str, Any]) -> Excursion:
    """QA accepts an excursion (the item may be used) or rejects it (the item is discarded), e-signed."""
    require_role(actor.roles, "qa", action=N_("decide a temperature excursion"))
    if not reason or not reason.strip():
        raise Invalid({"reason": translated(N_("give the assessment behind the decision"))})
    statement = select(Excursion).where(Excursion.id == excursion_id).with_for_update()
    row = session.exec(statement.execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound(f"no excursion {excursion_id}")
    if row.status != "open":
        raise Refused(Reason("excursion_decided", id=row.id, status=row.status))
    if signature.username != actor.username:
        raise Refused(Reason("signer_not_actor"))
    meaning = "accepted" if accept else "rejected"
    content = {"excursion": row.id, "item_type": row.item_type, "item_id": row.item_id,
               "temperature_c": row.temperature_c, "range": [row.low_c, row.high_c], "decision": meaning,
               "reason": reason.strip()}
    signed = signatures.sign(session, signature, record_type="excursion", record_id=row.id, content=content,
                             policy=policy, meanings=(meaning,), roles=("qa",), action=N_("decide an excursion"))
    row.status, row.decided_by, row.decided_at = meaning, actor.id, signed.signed_at
    row.signature_id, row.reason = signed.id, reason.strip()
    session.add(row)
    trail.record(session, actor=actor, record_type="excursion", record_id=row.id, action="decide",
                 old={"status": "open"}, new={"status": meaning, "signature_id": signed.id}, reason=reason.strip())
    if not accept and row.item_type in MODELS:  # a vial's discard is recorded with the cell bank's own events
        record = session.get(MODELS[row.item_type], row.item_id)
        if record.custody_state not in custody_states.TERMINAL_STATES:
            record_system_event(session, actor=actor, record=record, ranges=ranges,
                                handover=Handover(event="discarded", location="QA decision",
                                                  notes=f"excursion {row.id} rejected"))
    return row


def parse_handover(data: Mapping[str, Any]) -> Handover:
    """A hand-over from JSON or a form, naming each bad field; times are ISO 8601 with an offset."""
    fields: dict[str, str] = {}
    event = data.get("event")
    if event not in custody_states.RECORDABLE_EVENTS:
        fields["event"] = translated(N_("one of {choices}")).format(choices=', '.join(custody_states.RECORDABLE_EVENTS))
    location = data.get("location")
    if not isinstance(location, str) or not location.strip() or len(location) > 120:
        fields["location"] = translated(N_("say where (up to 120 characters)"))
    temperature = data.get("temperature_c")
    if temperature not in (None, "") and (isinstance(temperature, bool) or not _is_number(temperature)):
        fields["temperature_c"] = translated(N_("a number of degrees Celsius"))
    occurred_at = None
    if data.get("occurred_at") not in (None, ""):
        try:
            occurred_at = parse_instant(data["occurred_at"], "occurred_at")
        except Invalid as refusal:
            fields["occurred_at"] = next(iter(refusal.fields.values()))
    condition = data.get("condition") or "intact"
    if not isinstance(condition, str) or len(condition) > 120:
        fields["condition"] = translated(N_("describe the condition in up to 120 characters"))
    if fields:
        raise Invalid(fields)
    return Handover(event=event, location=location.strip(), occurred_at=occurred_at,
                    temperature_c=None if temperature in (None, "") else float(temperature),
                    condition=condition.strip() or "intact", handed_over_by=_text(data.get("handed_over_by")),
                    received_by=_text(data.get("received_by")), notes=_text(data.get("notes")))


def _is_number(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return -200.0 <= number <= 100.0  # down to liquid nitrogen (-196 °C): frozen bags are shipped in it


def _text(value: Any) -> str | None:
    return value.strip()[:120] if isinstance(value, str) and value.strip() else None
