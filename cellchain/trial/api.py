"""API: the trial — subjects, randomization, visits and bag allocation (docs/architecture.md, "The JSON API").

Nothing here ever shows the randomization list's entries or seed: only a subject's own arm once
randomized, and the list's hash and the number of positions used.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, jsonify

from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.core.timeinput import parse_instant
from cellchain.manufacturing.models import Bag
from cellchain.people.security import current_user, roles_required
from cellchain.trial import allocation, randomization, subjects, visits
from cellchain.trial.models import Allocation, Subject

READERS = ("coordinator", "auditor")


def protocol() -> subjects.Protocol:
    return subjects.Protocol.from_config(current_app.config)


def today() -> date:
    return visits.site_today(current_app.config["SITE_TIMEZONE"])


def _utc(moment) -> str | None:
    return format_utc(moment) if moment else None


def subject_json(subject: Subject) -> dict[str, Any]:
    return {"subject_id": subject.subject_code, "screening_number": subject.screening_number,
            "birth_date": subject.birth_date.isoformat(), "sex": subject.sex, "day0": subject.day0.isoformat(),
            "weight_kg": subject.weight_kg, "answers": subject.answers, "eligible": subject.eligible,
            "reasons": subject.eligibility_reasons, "status": subjects.status_of(subject), "arm": subject.arm,
            "randomized_at": _utc(subject.randomized_at), "registered_at": _utc(subject.created_at)}


def allocation_json(row: Allocation) -> dict[str, Any]:
    session = db.session()
    bag, subject = session.get(Bag, row.bag_id), session.get(Subject, row.subject_id)
    return {"allocation_id": row.id, "visit_id": row.visit_id, "bag_id": bag.bag_code, "product": bag.kind,
            "subject_id": subject.subject_code, "weight_kg": row.weight_kg, "required_cells": row.required_cells,
            "total_cells": bag.total_cells, "volume_ml": bag.volume_ml, "allocated_at": _utc(row.allocated_at)}


def visit_json(state: visits.VisitState) -> dict[str, Any]:
    v = state.visit
    return {"visit_id": v.id, "week": v.week, "kind": v.kind, "target_date": v.target_date.isoformat(),
            "window": {"start": v.window_start.isoformat(), "end": v.window_end.isoformat()},
            "status": state.status, "done_at": _utc(v.done_at),
            "allocation": allocation_json(state.allocation) if state.allocation else None}


@bp.post("/subjects")
@roles_required("coordinator", action="register trial subjects")
def register_subject():
    subject = subjects.register(db.session(), actor=current_user(), data=json_body(), protocol=protocol())
    return jsonify(subject_json(subject)), 201


@bp.get("/subjects")
@roles_required(*READERS, action="read trial subjects")
def list_subjects():
    return jsonify({"subjects": [subject_json(s) for s in subjects.list_subjects(db.session())]})


@bp.get("/subjects/<subject_code>")
@roles_required(*READERS, action="read trial subjects")
def get_subject(subject_code: str):
    return jsonify(subject_json(subjects.get_subject(db.session(), subject_code)))


@bp.post("/subjects/<subject_code>/randomize")
@roles_required("coordinator", action="randomize subjects")
def randomize_subject(subject_code: str):
    subject = randomization.randomize(db.session(), actor=current_user(), subject_code=subject_code,
                                      planned_subjects=current_app.config["TRIAL_PLANNED_SUBJECTS"])
    return jsonify({"subject_id": subject.subject_code, "arm": subject.arm,
                    "randomized_at": _utc(subject.randomized_at)})


@bp.get("/subjects/<subject_code>/visits")
@roles_required(*READERS, "nurse", action="read visit calendars")
def subject_visits(subject_code: str):
    session = db.session()
    subject = subjects.get_subject(session, subject_code)
    states = visits.calendar(session, subject, today=today(), timezone=current_app.config["SITE_TIMEZONE"])
    return jsonify({"subject_id": subject.subject_code, "visits": [visit_json(s) for s in states]})


@bp.post("/visits/<int:visit_id>/done")
@roles_required("coordinator", action="record a follow-up visit")
def follow_up_done(visit_id: int):
    data = json_body()
    when = parse_instant(data["done_at"], "done_at") if data.get("done_at") is not None else None
    session = db.session()
    visit = visits.record_follow_up(session, actor=current_user(), visit_id=visit_id, when=when,
                                    timezone=current_app.config["SITE_TIMEZONE"])
    subject = session.get(Subject, visit.subject_id)
    state = visits.VisitState(visit, visits.status_of(visit, today=today(),
                                                      timezone=current_app.config["SITE_TIMEZONE"]))
    return jsonify({"subject_id": subject.subject_code, **visit_json(state)})


@bp.post("/visits/<int:visit_id>/allocation")
@roles_required("coordinator", action="allocate bags")
def allocate_bag(visit_id: int):
    data = json_body()
    if "bag_id" not in data:
        raise Invalid({"bag_id": "is required: the bag id or what the scanner read from the bag"})
    row = allocation.allocate(db.session(), actor=current_user(), visit_id=visit_id, bag_scan=data["bag_id"],
                              weight_kg=data.get("weight_kg"), protocol=protocol(), today=today())
    return jsonify(allocation_json(row)), 201


@bp.get("/randomization-list")
@roles_required("coordinator", "admin", "auditor", action="see the randomization list's fingerprint")
def randomization_list():
    check = randomization.verify(db.session())
    return jsonify({"list_hash": check.list_hash, "used": check.used, "verified": check.ok,
                    "problems": list(check.problems)})


@bp.post("/randomization-list/extend")
@roles_required(*randomization.LIST_ROLES, action="extend the randomization list")
def extend_randomization_list():
    data = json_body()
    row = randomization.extend(db.session(), actor=current_user(), extra=data.get("extra"),
                               reason=data.get("reason"))
    return jsonify({"list_hash": row.list_hash, "used": row.next_position - 1})
