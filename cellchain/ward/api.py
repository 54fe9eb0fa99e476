"""API: hand-overs, an item's chain of custody, temperature excursions and their QA decision.

API: the bedside check, starting and completing an infusion (docs/rules.md, "Ward: the bedside check").
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.manufacturing import lookups
from cellchain.people.models import User
from cellchain.people.security import current_user, policy, roles_required
from cellchain.scanning import identify
from cellchain.ward import bedside, custody, custody_report, infusions
from cellchain.ward.models import CustodyEvent, Excursion

READ_ROLES = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")
EXCURSION_STATUSES = ("open", "accepted", "rejected")


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


def dump_event(event: CustodyEvent, *, code: str, people: dict[int, User]) -> dict[str, Any]:
    person = people.get(event.recorded_by)
    return {"id": event.id, "item_type": event.item_type, "item_id": code, "event": event.event,
            "from_state": event.from_state, "to_state": event.to_state, "location": event.location,
            "handed_over_by": event.handed_over_by, "received_by": event.received_by,
            "temperature_c": event.temperature_c, "condition": event.condition, "excursion": event.excursion,
            "occurred_at": _utc(event.occurred_at), "recorded_at": _utc(event.recorded_at),
            "recorded_by": person.username if person else None,
            "recorded_by_name": person.full_name if person else None, "notes": event.notes}


def dump_excursion(row: Excursion, *, code: str) -> dict[str, Any]:
    session = db.session()
    decider = session.get(User, row.decided_by) if row.decided_by else None
    return {"id": row.id, "item_type": row.item_type, "item_id": code, "custody_event_id": row.custody_event_id,
            "temperature_c": row.temperature_c, "range": [row.low_c, row.high_c], "status": row.status,
            "decided_by": decider.full_name if decider else None, "decided_at": _utc(row.decided_at),
            "reason": row.reason, "signature_id": row.signature_id, "opened_at": _utc(row.created_at)}


def _people(events: list[CustodyEvent]) -> dict[int, User]:
    session = db.session()
    return {uid: session.get(User, uid) for uid in {e.recorded_by for e in events}}


@bp.post("/custody")
@roles_required(*custody.RECORDING_ROLES, action="record a custody hand-over")
def record_handover():
    data = json_body()
    handover = custody.parse_handover(data)
    session = db.session()
    found = identify.identify(session, data.get("item"), tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]))
    if found.kind not in custody.MODELS:
        raise Invalid({"item": f"a {found.kind} has no chain of custody; scan a collection or a bag"})
    event = custody.record_handover(session, actor=current_user(), record=found.record, handover=handover,
                                    ranges=current_app.config["TEMPERATURE_RANGES"])
    code = custody.item_code(session, event.item_type, event.item_id)
    return jsonify({"event": dump_event(event, code=code, people={current_user().id: current_user()})}), 201


def _chain(kind: str, record: Any, code: str) -> dict[str, Any]:
    session = db.session()
    events = custody.events_of(session, kind, record.id)
    unbroken, breaks = custody.chain_status(session, kind, record.id)
    people = _people(events)
    return {"state": record.custody_state, "unbroken": unbroken, "breaks": [r.as_dict() for r in breaks],
            "events": [dump_event(e, code=code, people=people) for e in events],
            "excursions": [dump_excursion(x, code=code) for x in custody.excursions_of(session, kind, record.id)]}


@bp.get("/bags/<bag_id>/custody")
@roles_required(*READ_ROLES, action="read a chain of custody")
def bag_custody(bag_id: str):
    bag = lookups.bag_by_code(db.session(), bag_id)
    return jsonify({"bag_id": bag.bag_code, **_chain("bag", bag, bag.bag_code)})


@bp.get("/collections/<din>/custody")
@roles_required(*READ_ROLES, action="read a chain of custody")
def collection_custody(din: str):
    collection = lookups.collection_by_din(db.session(), din)
    return jsonify({"din": collection.din, **_chain("collection", collection, collection.din)})


@bp.get("/bags/<bag_id>/chain-of-custody.pdf")
@roles_required(*READ_ROLES, action="print a chain-of-custody report")
def bag_custody_pdf(bag_id: str):
    pdf = custody_report.render(custody_report.gather(db.session(), bag_id),
                                  site=current_app.config["SITE_NAME"], timezone=current_app.config["SITE_TIMEZONE"])
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=chain-of-custody-{bag_id}.pdf"})


@bp.get("/excursions")
@roles_required("qa", "auditor", action="review temperature excursions")
def list_excursions():
    status = request.args.get("status") or None
    if status is not None and status not in EXCURSION_STATUSES:
        raise Invalid({"status": f"one of {', '.join(EXCURSION_STATUSES)}"})
    session = db.session()
    rows = custody.list_excursions(session, status=status)
    return jsonify({"excursions": [dump_excursion(x, code=custody.item_code(session, x.item_type, x.item_id))
                                   for x in rows]})


@bp.post("/excursions/<int:excursion_id>/decide")
@roles_required("qa", action="decide a temperature excursion")
def decide_excursion(excursion_id: int):
    data = json_body()
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise Invalid({"accept": "true to accept the item for use, false to reject (discard) it"})
    signature = signatures.parse_signature(data.get("signature"))
    session = db.session()
    row = custody.decide_excursion(session, actor=current_user(), excursion_id=excursion_id, accept=accept,
                                   reason=data.get("reason") if isinstance(data.get("reason"), str) else "",
                                   signature=signature, policy=policy(),
                                   ranges=current_app.config["TEMPERATURE_RANGES"])
    return jsonify({"excursion": dump_excursion(row, code=custody.item_code(session, row.item_type, row.item_id))})


READ_ROLES = ("nurse", "qa", "coordinator", "auditor")


def _protocol() -> bedside.Protocol:
    return bedside.Protocol.from_config(current_app.config)


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


@bp.post("/infusions/verify")
@roles_required("nurse", action="check a bag at the bedside")
def verify_infusion():
    """Every check by name with pass or fail; 200 even when checks fail (the attempt is recorded)."""
    data = json_body()
    result = bedside.verify(db.session(), actor=current_user(), wristband=data.get("wristband"),
                            bag=data.get("bag"), protocol=_protocol())
    facts = result.facts
    body: dict[str, Any] = {"ok": result.ok, "checks": [c.as_dict() for c in result.checks],
                            "bedside_check_id": result.record.id, "checked_at": _utc(result.record.checked_at)}
    if facts.subject is not None:
        body["subject_id"] = facts.subject.subject_code
    if facts.bag is not None:
        body["bag_id"] = facts.bag.bag_code
    if facts.visit is not None:
        body["visit_id"] = facts.visit.id
    return jsonify(body)


@bp.post("/infusions")
@roles_required("nurse", action="start an infusion")
def start_infusion():
    request = infusions.parse_start(json_body())
    infusion = infusions.start(db.session(), actor=current_user(), request=request, protocol=_protocol(),
                               policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"], defer=db.defer)
    return jsonify({"infusion_id": infusion.id, **_dump(infusions.describe(db.session(), infusion))}), 201


@bp.post("/infusions/<int:infusion_id>/complete")
@roles_required("nurse", action="complete an infusion")
def complete_infusion(infusion_id: int):
    completion = infusions.parse_completion(json_body())
    infusion = infusions.complete(db.session(), actor=current_user(), infusion_id=infusion_id, completion=completion)
    return jsonify({"infusion_id": infusion.id, **_dump(infusions.describe(db.session(), infusion))})


@bp.get("/infusions/<int:infusion_id>")
@roles_required(*READ_ROLES, action="read infusion records")
def get_infusion(infusion_id: int):
    session = db.session()
    infusion = infusions.get_infusion(session, infusion_id)
    return jsonify({"infusion_id": infusion.id, **_dump(infusions.describe(session, infusion))})


def _dump(view: infusions.InfusionView) -> dict[str, Any]:
    i = view.infusion
    return {
        "status": i.status, "bag_id": view.bag.bag_code, "subject_id": view.subject.subject_code,
        "visit_id": view.visit.id, "week": view.visit.week, "bedside_check_id": i.bedside_check_id,
        "started_at": _utc(i.started_at), "ended_at": _utc(i.ended_at), "volume_ml": i.volume_ml,
        "started_by": {"username": view.started_by.username, "full_name": view.started_by.full_name},
        "verifier": {"username": view.verifier.username, "full_name": view.signature.signer_name,
                     "meaning": view.signature.meaning, "signed_at": _utc(view.signature.signed_at)},
        "completed_by": ({"username": view.completed_by.username, "full_name": view.completed_by.full_name}
                         if view.completed_by else None),
        "ultrasound_monitored": i.ultrasound_monitored, "vital_signs": i.vital_signs,
        "reactions": i.reactions,
    }
