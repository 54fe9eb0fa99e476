"""API: adverse events (record, amend, confirm, report), the summary by arm and the SAE reporting clocks; the
register of clinical protocol deviations (list, open by hand, decide signed, close)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.people.security import current_user, policy, roles_required
from cellchain.safety import clinical_deviations, events, exports, sae
from cellchain.safety.schemas import (
    AdverseEventIn,
    AdverseEventSchema,
    AdverseEventsOut,
    AdverseEventsQuery,
    AmendIn,
    ClinicalCloseIn,
    ClinicalDecisionIn,
    ClinicalDeviationIn,
    ClinicalDeviationSchema,
    ClinicalDeviationsOut,
    ClinicalDeviationsQuery,
    ConfirmIn,
    SaeClocksOut,
    SaeReportIn,
    SummaryOut,
)

TAGS = ["safety"]


def _zone() -> str:
    return current_app.config["SITE_TIMEZONE"]


@bp.get("/adverse-events", tags=TAGS)
@roles_required(*events.READERS, action=N_("read adverse events"))
@bp.arguments(AdverseEventsQuery, location="query")
@bp.response(200, AdverseEventsOut)
def list_adverse_events(query: dict[str, Any]) -> dict[str, Any]:
    """Adverse events by subject and onset (?subject_id=&status=)"""
    return {"adverse_events": events.listing(db.session(), subject_code=query.get("subject_id"),
                                             status=query.get("status"))}


@bp.post("/adverse-events", tags=TAGS)
@roles_required(*events.RECORDERS, action=N_("record an adverse event"))
@bp.arguments(AdverseEventIn)
@bp.response(201, AdverseEventSchema)
def record_adverse_event(data: dict[str, Any]) -> events.EventDetail:
    """Record an adverse event as a draft; a serious one starts the 24-hour reporting clock"""
    session = db.session()
    fields = {name: value for name, value in data.items() if name != "subject_id"}
    event = events.record(session, actor=current_user(), subject_code=data.get("subject_id"), data=fields,
                          timezone=_zone())
    return events.detail(session, event.id)


@bp.get("/adverse-events/<int:event_id>", tags=TAGS)
@roles_required(*events.READERS, action=N_("read adverse events"))
@bp.response(200, AdverseEventSchema)
def get_adverse_event(event_id: int) -> events.EventDetail:
    """An adverse event with its versions, confirmation and reports"""
    return events.detail(db.session(), event_id)


@bp.post("/adverse-events/<int:event_id>/amend", tags=TAGS)
@roles_required(*events.RECORDERS, action=N_("amend an adverse event"))
@bp.arguments(AmendIn)
@bp.response(200, AdverseEventSchema)
def amend_adverse_event(data: dict[str, Any], event_id: int) -> events.EventDetail:
    """Change an event's assessment (the coordinator: drafts only); a confirmed one needs a reason"""
    session = db.session()
    events.amend(session, actor=current_user(), event_id=event_id, data=data, timezone=_zone())
    return events.detail(session, event_id)


@bp.post("/adverse-events/<int:event_id>/confirm", tags=TAGS)
@roles_required("investigator", action=N_("confirm an adverse event"))
@bp.arguments(ConfirmIn)
@bp.response(200, AdverseEventSchema)
def confirm_adverse_event(data: dict[str, Any], event_id: int) -> events.EventDetail:
    """The investigator confirms a complete assessment with an e-signature (meaning approved)"""
    session = db.session()
    events.confirm(session, actor=current_user(), event_id=event_id,
                   signature=signatures.parse_signature(data.get("signature")), policy=policy())
    return events.detail(session, event_id)


@bp.post("/adverse-events/<int:event_id>/sae-reports", tags=TAGS)
@roles_required("investigator", action=N_("report a serious adverse event"))
@bp.arguments(SaeReportIn)
@bp.response(201, AdverseEventSchema)
def report_adverse_event(data: dict[str, Any], event_id: int) -> events.EventDetail:
    """Sign the report of a serious event to the sponsor and record when it was sent (meaning authored)"""
    session = db.session()
    sae.report(session, actor=current_user(), event_id=event_id,
               signature=signatures.parse_signature(data.get("signature")), sent_at=data.get("sent_at"),
               sent_to=data.get("sent_to"), policy=policy())
    return events.detail(session, event_id)


@bp.get("/adverse-events/summary", tags=TAGS)
@roles_required(*events.READERS, action=N_("read adverse events"))
@bp.response(200, SummaryOut)
def adverse_event_summary() -> dict[str, Any]:
    """Confirmed adverse events by arm: counts by grade, seriousness, relatedness"""
    return {"arms": exports.summary_of(events.listing(db.session()))}


@bp.get("/sae-clocks", tags=TAGS)
@roles_required("investigator", "qa", "auditor", action=N_("see the SAE reporting clocks"))
@bp.response(200, SaeClocksOut)
def sae_clocks() -> dict[str, Any]:
    """Serious adverse events whose initial report is due or overdue (24 h from awareness)"""
    return {"clocks": sae.clocks(db.session())}


# --- clinical protocol deviations ------------------------------------------------------------------------

@bp.get("/clinical-deviations", tags=TAGS)
@roles_required(*clinical_deviations.READERS, action=N_("read clinical protocol deviations"))
@bp.arguments(ClinicalDeviationsQuery, location="query")
@bp.response(200, ClinicalDeviationsOut)
def list_clinical_deviations(query: dict[str, Any]) -> dict[str, Any]:
    """Clinical protocol deviations, newest first (?status=&kind=&subject_id=), a page at a time (?limit=, ?cursor=)"""
    page = clinical_deviations.page_of(db.session(), page_request(size_arg="limit"),
                                       status=query.get("status") or None, kind=query.get("kind") or None,
                                       subject_code=query.get("subject_id") or None)
    return {"clinical_deviations": page.rows, "next": next_cursor(page)}


@bp.post("/clinical-deviations", tags=TAGS)
@roles_required(*clinical_deviations.OPENERS, action=N_("open a clinical protocol deviation"))
@bp.arguments(ClinicalDeviationIn)
@bp.response(201, ClinicalDeviationSchema)
def open_clinical_deviation(data: dict[str, Any]) -> clinical_deviations.DeviationDetail:
    """Open a clinical protocol deviation by hand; an approved out_of_window one allows its visit's one infusion"""
    session = db.session()
    row = clinical_deviations.open_by_hand(session, actor=current_user(), subject_code=data.get("subject_id"),
                                           kind=data.get("kind"), description=data.get("description"),
                                           visit_id=data.get("visit_id"))
    return clinical_deviations.detail(session, row.id)


@bp.get("/clinical-deviations/<int:deviation_id>", tags=TAGS)
@roles_required(*clinical_deviations.READERS, action=N_("read clinical protocol deviations"))
@bp.response(200, ClinicalDeviationSchema)
def get_clinical_deviation(deviation_id: int) -> clinical_deviations.DeviationDetail:
    """A clinical protocol deviation with its decision and closing"""
    return clinical_deviations.detail(db.session(), deviation_id)


@bp.post("/clinical-deviations/<int:deviation_id>/decision", tags=TAGS)
@roles_required(*clinical_deviations.DECIDERS, action=N_("decide a clinical protocol deviation"))
@bp.arguments(ClinicalDecisionIn)
@bp.response(200, ClinicalDeviationSchema)
def decide_clinical_deviation(data: dict[str, Any], deviation_id: int) -> clinical_deviations.DeviationDetail:
    """The investigator approves or rejects an open deviation with an e-signature (meaning approved or rejected)"""
    session = db.session()
    clinical_deviations.decide(session, actor=current_user(), deviation_id=deviation_id,
                               signature=signatures.parse_signature(data.get("signature")), note=data.get("note"),
                               policy=policy())
    return clinical_deviations.detail(session, deviation_id)


@bp.post("/clinical-deviations/<int:deviation_id>/close", tags=TAGS)
@roles_required(*clinical_deviations.CLOSERS, action=N_("close a clinical protocol deviation"))
@bp.arguments(ClinicalCloseIn)
@bp.response(200, ClinicalDeviationSchema)
def close_clinical_deviation(data: dict[str, Any], deviation_id: int) -> clinical_deviations.DeviationDetail:
    """Close an approved or rejected deviation, saying what was done about it"""
    session = db.session()
    clinical_deviations.close(session, actor=current_user(), deviation_id=deviation_id, note=data.get("note"))
    return clinical_deviations.detail(session, deviation_id)
