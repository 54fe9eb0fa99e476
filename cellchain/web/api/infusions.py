"""API: the bedside check, starting and completing an infusion (DESIGN section 8, rules 5 and 6)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify

from cellchain import db
from cellchain.domain.canonical import format_utc
from cellchain.services import bedside, infusions
from cellchain.web.api import bp, json_body
from cellchain.web.security import current_user, policy, roles_required

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
