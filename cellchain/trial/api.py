"""API: the trial — subjects, randomization, visits and bag allocation (docs/architecture.md, "The JSON API").

Nothing here ever shows the randomization list's entries or seed: only a subject's own arm once
randomized, and the list's hash and the number of positions used.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlmodel import Session

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Invalid
from cellchain.core.schemas import ErrorSchema, PageQuery
from cellchain.core.timeinput import parse_instant
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_, translated
from cellchain.people.security import current_user, policy, roles_required
from cellchain.safety import clinical_deviations
from cellchain.trial import allocation, deallocation, lifecycle, randomization, subjects, visit_records, visits
from cellchain.trial.models import RandomizationList, Subject, Visit
from cellchain.trial.rules import lifecycle as lifecycle_rules
from cellchain.trial.schemas import (
    AllocationIn,
    AllocationOut,
    BagReturnDecisionIn,
    BagReturnOut,
    BagReturnsOut,
    BagReturnsQuery,
    DeallocationIn,
    DeallocationOut,
    ExtendListIn,
    InfusionPlanIn,
    RandomizationListOut,
    RandomizeOut,
    SubjectEndIn,
    SubjectEndOut,
    SubjectIn,
    SubjectOut,
    SubjectsOut,
    VisitDoneIn,
    VisitDoneOut,
    VisitMissedIn,
    VisitMissedOut,
    VisitsOut,
    VisitWeightIn,
)

READERS = ("coordinator", "investigator", "auditor")
TAGS = ["trial"]
BAD_INPUT = "a field is missing, unknown or wrong: ``fields`` names each"


def protocol() -> subjects.Protocol:
    return subjects.Protocol.from_config(current_app.config)


def today() -> date:
    return visits.site_today(current_app.config["SITE_TIMEZONE"])


@bp.post("/subjects", tags=TAGS)
@roles_required("coordinator", action=N_("register trial subjects"))
@bp.arguments(SubjectIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, SubjectOut)
def register_subject(data: dict[str, Any]) -> Subject:
    """Register and screen a subject"""
    return subjects.register(db.session(), actor=current_user(), data=data, protocol=protocol())


@bp.get("/subjects", tags=TAGS)
@roles_required(*READERS, action=N_("read trial subjects"))
@bp.arguments(PageQuery, location="query")
@bp.response(200, SubjectsOut)
def list_subjects(_query: dict[str, Any]) -> dict[str, Any]:
    """List subjects by subject id, a page at a time (?limit=, ?cursor= from ``next``)"""
    page = subjects.list_subjects(db.session(), page_request(size_arg="limit"))
    return {"subjects": page.rows, "next": next_cursor(page)}


@bp.get("/subjects/<subject_code>", tags=TAGS)
@roles_required(*READERS, action=N_("read trial subjects"))
@bp.response(200, SubjectOut)
def get_subject(subject_code: str) -> Subject:
    """A subject"""
    return subjects.get_subject(db.session(), subject_code)


@bp.post("/subjects/<subject_code>/randomize", tags=TAGS)
@roles_required("coordinator", action=N_("randomize subjects"))
@bp.response(200, RandomizeOut)
def randomize_subject(subject_code: str) -> Subject:
    """Randomize an eligible subject (once)"""
    return randomization.randomize(db.session(), actor=current_user(), subject_code=subject_code,
                                   planned_subjects=current_app.config["TRIAL_PLANNED_SUBJECTS"],
                                   fin=current_app.config["FACILITY_FIN"])


def _end(subject_code: str, data: dict[str, Any], to: str) -> dict[str, Any]:
    ended_at = parse_instant(data["ended_at"], "ended_at") if data.get("ended_at") is not None else None
    done = lifecycle.end(db.session(), actor=current_user(), subject_code=subject_code, to=to,
                         reason=data.get("reason"), note=data.get("note"), ended_at=ended_at,
                         signature=signatures.parse_signature(data.get("signature")), policy=policy(),
                         timezone=current_app.config["SITE_TIMEZONE"],
                         ranges=current_app.config["TEMPERATURE_RANGES"])
    session = db.session()
    returns = {r.bag_return.id: r for r in lifecycle.returns_of(session, done.subject)}
    return {"subject": done.subject, "cancelled_visits": [v.id for v in done.cancelled],
            "returned_bags": [returns[r.id] for r in done.returns]}


@bp.post("/subjects/<subject_code>/withdrawal", tags=TAGS)
@roles_required(*lifecycle.ENDING_ROLES, action=N_("withdraw subjects"))
@bp.arguments(SubjectEndIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, SubjectEndOut)
def withdraw_subject(data: dict[str, Any], subject_code: str) -> dict[str, Any]:
    """Withdraw a subject (reason, date, the investigator's e-signature); cancels the remaining visits and sends
    their allocated bags back to the lab for QA's decision"""
    return _end(subject_code, data, lifecycle_rules.WITHDRAWN)


@bp.post("/subjects/<subject_code>/death", tags=TAGS)
@roles_required(*lifecycle.ENDING_ROLES, action=N_("record a subject's death"))
@bp.arguments(SubjectEndIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, SubjectEndOut)
def record_death(data: dict[str, Any], subject_code: str) -> dict[str, Any]:
    """Record a subject's death (date, cause, the investigator's e-signature); cancels every remaining visit and
    sends their allocated bags back to the lab for QA's decision"""
    return _end(subject_code, data, lifecycle_rules.DIED)


@bp.get("/bag-returns", tags=TAGS)
@roles_required("qa", "coordinator", "investigator", "auditor", action=N_("read returned bags"))
@bp.arguments(BagReturnsQuery, location="query")
@bp.response(200, BagReturnsOut)
def bag_returns(query: dict[str, Any]) -> dict[str, Any]:
    """Bags sent back by a withdrawal or death, oldest first (?status=awaiting_decision), a page at a time"""
    page = lifecycle.returns_page(db.session(), page_request(size_arg="limit"), status=query.get("status"))
    return {"returns": page.rows, "next": next_cursor(page)}


@bp.post("/bag-returns/<int:return_id>/decision", tags=TAGS)
@roles_required(*lifecycle.RETURN_ROLES, action=N_("decide on a returned bag"))
@bp.arguments(BagReturnDecisionIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, BagReturnOut)
def decide_bag_return(data: dict[str, Any], return_id: int) -> lifecycle.ReturnRow:
    """QA re-releases a returned bag to stock or discards it, with a reason and an e-signature"""
    return lifecycle.decide_return(db.session(), actor=current_user(), return_id=return_id,
                                   restock={"restock": True, "discard": False}.get(data.get("decision")),
                                   reason=data.get("reason"),
                                   signature=signatures.parse_signature(data.get("signature")),
                                   policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"])


@bp.get("/subjects/<subject_code>/visits", tags=TAGS)
@roles_required(*READERS, "nurse", action=N_("read visit calendars"))
@bp.response(200, VisitsOut)
def subject_visits(subject_code: str) -> dict[str, Any]:
    """A subject's visits with windows"""
    session = db.session()
    subject = subjects.get_subject(session, subject_code)
    states = visits.calendar(session, subject, today=today(), timezone=current_app.config["SITE_TIMEZONE"])
    return {"subject": subject, "visits": visit_records.visit_records(session, subject, states)}


def _visit_record(session: Session, visit: Visit, timezone: str) -> visit_records.VisitRecord:
    """A visit as the visit endpoints answer it: with its status today and its subject."""
    state = visits.VisitState(visit, visits.status_of(visit, today=today(), timezone=timezone))
    return visit_records.VisitRecord(state, session.get(Subject, visit.subject_id))


@bp.post("/visits/<int:visit_id>/done", tags=TAGS)
@roles_required("coordinator", action=N_("record a follow-up visit"))
@bp.arguments(VisitDoneIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, VisitDoneOut)
def follow_up_done(data: dict[str, Any], visit_id: int) -> visit_records.VisitRecord:
    """Record a follow-up visit as done"""
    when = parse_instant(data["done_at"], "done_at") if data.get("done_at") is not None else None
    session = db.session()
    timezone = current_app.config["SITE_TIMEZONE"]
    visit = visits.record_follow_up(session, actor=current_user(), visit_id=visit_id, when=when, timezone=timezone)
    return _visit_record(session, visit, timezone)


@bp.post("/visits/<int:visit_id>/missed", tags=TAGS)
@roles_required(*visits.MISSED_ROLES, action=N_("mark a visit missed"))
@bp.arguments(VisitMissedIn)
@bp.response(200, VisitMissedOut)
def mark_missed(data: dict[str, Any], visit_id: int) -> dict[str, Any]:
    """Mark a visit missed with the reason; its clinical protocol deviation (missed_visit) opens with it"""
    session = db.session()
    timezone = current_app.config["SITE_TIMEZONE"]
    row = clinical_deviations.mark_visit_missed(session, actor=current_user(), visit_id=visit_id,
                                                reason=data.get("reason"), timezone=timezone)
    record = _visit_record(session, visits.get_visit(session, visit_id), timezone)
    return {"state": record.state, "subject": record.subject, "allocation": None, "clinical_deviation_id": row.id}


@bp.post("/visits/<int:visit_id>/plan", tags=TAGS)
@roles_required("coordinator", action=N_("plan infusions"))
@bp.arguments(InfusionPlanIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, VisitDoneOut)
def plan_infusion(data: dict[str, Any], visit_id: int) -> visit_records.VisitRecord:
    """Set or move an infusion visit's planned date and time (moving it needs a reason)"""
    session = db.session()
    timezone = current_app.config["SITE_TIMEZONE"]
    visit = visits.plan_infusion(session, actor=current_user(), visit_id=visit_id,
                                 planned_at=parse_instant(data.get("planned_at"), "planned_at"),
                                 reason=data.get("reason"), timezone=timezone)
    return _visit_record(session, visit, timezone)


@bp.post("/visits/<int:visit_id>/weight", tags=TAGS)
@roles_required("coordinator", action=N_("record a visit's weight"))
@bp.arguments(VisitWeightIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, VisitDoneOut)
def record_visit_weight(data: dict[str, Any], visit_id: int) -> visit_records.VisitRecord:
    """Record the subject's weight for an infusion visit (allocation checks the dose against it)"""
    session = db.session()
    timezone = current_app.config["SITE_TIMEZONE"]
    visit = visits.record_weight(session, actor=current_user(), visit_id=visit_id, weight_kg=data.get("weight_kg"))
    return _visit_record(session, visit, timezone)


@bp.post("/visits/<int:visit_id>/allocation", tags=TAGS)
@roles_required("coordinator", action=N_("allocate bags"))
@bp.arguments(AllocationIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, AllocationOut)
def allocate_bag(data: dict[str, Any], visit_id: int) -> visit_records.AllocationRecord:
    """Allocate a bag to an infusion visit"""
    if "bag_id" not in data:
        raise Invalid({"bag_id": translated(N_("is required: the bag id or what the scanner read from the bag"))})
    session = db.session()
    row = allocation.allocate(session, actor=current_user(), visit_id=visit_id, bag_scan=data["bag_id"],
                              weight_kg=data.get("weight_kg"), protocol=protocol(), today=today())
    return visit_records.allocation_record(session, row)


@bp.post("/visits/<int:visit_id>/deallocation", tags=TAGS)
@roles_required("coordinator", action=N_("take a bag off a visit"))
@bp.arguments(DeallocationIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, DeallocationOut)
def deallocate_bag(data: dict[str, Any], visit_id: int) -> deallocation.Deallocated:
    """Take the bag off an infusion visit not yet infused, with a reason; the visit may then get a replacement"""
    return deallocation.deallocate(db.session(), actor=current_user(), visit_id=visit_id, reason=data.get("reason"),
                                   timezone=current_app.config["SITE_TIMEZONE"])


@bp.get("/randomization-list", tags=TAGS)
@roles_required("coordinator", "admin", "auditor", action=N_("see the randomization list's fingerprint"))
@bp.response(200, RandomizationListOut)
def randomization_list() -> randomization.ListCheck:
    """The allocation list's recorded hash and how much is used"""
    return randomization.verify(db.session())


@bp.post("/randomization-list/extend", tags=TAGS)
@roles_required(*randomization.LIST_ROLES, action=N_("extend the randomization list"))
@bp.arguments(ExtendListIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, RandomizationListOut)
def extend_randomization_list(data: dict[str, Any]) -> RandomizationList:
    """Add blocks to the allocation list"""
    return randomization.extend(db.session(), actor=current_user(), extra=data.get("extra"),
                                reason=data.get("reason"))
