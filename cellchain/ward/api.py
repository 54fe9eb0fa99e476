"""API: hand-overs, an item's chain of custody, temperature excursions and their QA decision.

API: the bedside check, starting and completing an infusion (docs/rules.md, "Ward: the bedside check").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, url_for

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Invalid, NotFound
from cellchain.core.schemas import FILE_BODY, ErrorSchema
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_, translated
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.schemas import ZPL_BODY
from cellchain.manufacturing import lookups
from cellchain.people.security import current_user, policy, roles_required
from cellchain.scanning import resolver
from cellchain.ward import bedside, custody, custody_records, custody_report, infusions, thaw
from cellchain.ward.schemas import (
    BagCustodyOut,
    BagThawIn,
    BagThawOut,
    BedsideIn,
    BedsideOut,
    CollectionCustodyOut,
    CustodyIn,
    CustodyOut,
    DiscardExpiredIn,
    DiscardExpiredOut,
    ExcursionDecisionIn,
    ExcursionOut,
    ExcursionsOut,
    ExcursionsQuery,
    InfusionCompleteIn,
    InfusionIn,
    InfusionOut,
)
from cellchain.ward.stock import expired

CUSTODY_READERS = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")
INFUSION_READERS = ("nurse", "qa", "coordinator", "auditor")
CUSTODY, INFUSIONS = ["custody"], ["infusions"]
BAD_INPUT = "a field is missing, unknown or wrong: ``fields`` names each"


@bp.post("/custody", tags=CUSTODY)
@roles_required(*custody.RECORDING_ROLES, action=N_("record a custody hand-over"))
@bp.arguments(CustodyIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, CustodyOut)
def record_handover(data: dict[str, Any]) -> dict[str, Any]:
    """Record a hand-over of a collection or bag"""
    handover = custody.parse_handover(data)
    session = db.session()
    found = resolver.identify(session, data.get("item"), tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]),
                              letters=current_app.config["LOCAL_DATA_IDENTIFIERS"])
    if found.kind not in custody.MODELS:
        raise Invalid({"item": translated(N_(
            "a {kind} has no chain of custody; scan a collection, a bag or a vial")).format(
            kind=found.kind)})
    event = custody.record_handover(session, actor=current_user(), record=found.record, handover=handover,
                                    ranges=current_app.config["TEMPERATURE_RANGES"])
    code = custody.item_code(session, event.item_type, found.record.id)
    return {"event": custody_records.EventRecord(event, code, current_user())}


@bp.get("/bags/<bag_id>/custody", tags=CUSTODY)
@roles_required(*CUSTODY_READERS, action=N_("read a chain of custody"))
@bp.response(200, BagCustodyOut)
def bag_custody(bag_id: str) -> custody_records.ItemCustody:
    """The bag's custody chain"""
    session = db.session()
    return custody_records.item_custody(session, "bag", lookups.bag_by_code(session, bag_id))


@bp.get("/collections/<din>/custody", tags=CUSTODY)
@roles_required(*CUSTODY_READERS, action=N_("read a chain of custody"))
@bp.response(200, CollectionCustodyOut)
def collection_custody(din: str) -> custody_records.ItemCustody:
    """A collection's custody chain"""
    session = db.session()
    return custody_records.item_custody(session, "collection", lookups.collection_by_din(session, din))


@bp.get("/bags/<bag_id>/chain-of-custody.pdf", tags=CUSTODY)
@roles_required(*CUSTODY_READERS, action=N_("print a chain-of-custody report"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The report, as PDF")
def bag_custody_pdf(bag_id: str) -> Response:
    """The bag's chain-of-custody report"""
    pdf = custody_report.render(custody_report.gather(db.session(), bag_id),
                                site=current_app.config["SITE_NAME"], timezone=current_app.config["SITE_TIMEZONE"])
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=chain-of-custody-{bag_id}.pdf"})


@bp.get("/excursions", tags=CUSTODY)
@roles_required("qa", "auditor", action=N_("review temperature excursions"))
@bp.arguments(ExcursionsQuery, location="query")
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, ExcursionsOut)
def list_excursions(query: dict[str, Any]) -> dict[str, Any]:
    """Temperature excursions, newest first (?status=open|accepted|rejected)"""
    session = db.session()
    page = custody.page_of_excursions(session, page_request(size_arg="limit"), status=query.get("status") or None)
    return {"excursions": custody_records.excursion_records(session, page.rows), "next": next_cursor(page)}


@bp.post("/excursions/<int:excursion_id>/decide", tags=CUSTODY)
@roles_required("qa", action=N_("decide a temperature excursion"))
@bp.arguments(ExcursionDecisionIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, ExcursionOut)
def decide_excursion(data: dict[str, Any], excursion_id: int) -> dict[str, Any]:
    """QA accepts or rejects an excursion with an e-signature"""
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise Invalid({"accept": translated(N_("true to accept the item for use, false to reject (discard) it"))})
    signature = signatures.parse_signature(data.get("signature"))
    session = db.session()
    row = custody.decide_excursion(session, actor=current_user(), excursion_id=excursion_id, accept=accept,
                                   reason=data.get("reason") if isinstance(data.get("reason"), str) else "",
                                   signature=signature, policy=policy(),
                                   ranges=current_app.config["TEMPERATURE_RANGES"])
    return {"excursion": custody_records.excursion_records(session, [row])[0]}


def _protocol() -> bedside.Protocol:
    return bedside.Protocol.from_config(current_app.config)


@bp.post("/infusions/verify", tags=INFUSIONS)
@roles_required("nurse", action=N_("check a bag at the bedside"))
@bp.arguments(BedsideIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, BedsideOut)
def verify_infusion(data: dict[str, Any]) -> bedside.Verification:
    """Bedside check: every check by name (writes only the attempt)

    200 even when checks fail: the answer names each one, and the attempt is recorded.
    """
    return bedside.verify(db.session(), actor=current_user(), wristband=data.get("wristband"),
                          bag=data.get("bag"), protocol=_protocol())


@bp.post("/infusions", tags=INFUSIONS)
@roles_required("nurse", action=N_("start an infusion"))
@bp.arguments(InfusionIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.alt_response(429, schema=ErrorSchema, description="too many wrong passwords typed into other people's "
                                                       "signatures from this account; see Retry-After")
@bp.response(201, InfusionOut)
def start_infusion(data: dict[str, Any]) -> infusions.InfusionView:
    """Start an infusion with a second person's e-signature"""
    request = infusions.parse_start(data)
    session = db.session()
    infusion = infusions.start(session, actor=current_user(), request=request, protocol=_protocol(),
                               policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"], defer=db.defer)
    return infusions.describe(session, infusion)


@bp.post("/infusions/<int:infusion_id>/complete", tags=INFUSIONS)
@roles_required("nurse", action=N_("complete an infusion"))
@bp.arguments(InfusionCompleteIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, InfusionOut)
def complete_infusion(data: dict[str, Any], infusion_id: int) -> infusions.InfusionView:
    """Finish an infusion"""
    completion = infusions.parse_completion(data)
    session = db.session()
    infusion = infusions.complete(session, actor=current_user(), infusion_id=infusion_id, completion=completion,
                                  timezone=current_app.config["SITE_TIMEZONE"])
    return infusions.describe(session, infusion)


@bp.get("/infusions/<int:infusion_id>", tags=INFUSIONS)
@roles_required(*INFUSION_READERS, action=N_("read infusion records"))
@bp.response(200, InfusionOut)
def get_infusion(infusion_id: int) -> infusions.InfusionView:
    """An infusion"""
    session = db.session()
    return infusions.describe(session, infusions.get_infusion(session, infusion_id))


# --- thawing a frozen bag -------------------------------------------------------------------------------------

@bp.post("/bags/<bag_id>/thaw", tags=CUSTODY)
@roles_required(*thaw.THAW_ROLES, action=N_("thaw a bag"))
@bp.arguments(BagThawIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, BagThawOut)
def thaw_bag(data: dict[str, Any], bag_id: str) -> dict[str, Any]:
    """Record a frozen bag's thaw: its thawed expiry is set and its new label printed (fetch it as PDF or ZPL)"""
    cfg = current_app.config
    done = thaw.thaw(db.session(), actor=current_user(), bag_scan=bag_id, thawed_at=data.get("thawed_at"),
                     location=data.get("location"), labels=LabelSettings.from_config(cfg),
                     thawed_life=timedelta(hours=cfg["THAWED_SHELF_LIFE_HOURS"]))
    code = done.bag.bag_code
    return {"bag": done.bag, "label": done.label, "label_2d": done.label.content["compound_2d"],
            "label_pdf": url_for("api.thaw_label_pdf", bag_id=code),
            "label_zpl": url_for("api.thaw_label_zpl", bag_id=code)}


def _thaw_label(bag_id: str, fmt: str) -> Response:
    session = db.session()
    label = thaw.thaw_label_of(session, lookups.bag_by_code(session, bag_id))
    if label is None:
        raise NotFound(f"bag {bag_id} has no post-thaw label: it has not been thawed")
    printed = print_jobs.recorded_document(session, actor=current_user(), label_id=label.id, fmt=fmt,
                                           dpi=current_app.config["LABEL_ZPL_DPI"])
    body = printed.content if isinstance(printed.content, bytes) else printed.content.encode("utf-8")
    return Response(body, mimetype=printed.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{printed.filename}"'})


@bp.get("/bags/<bag_id>/thaw-label.pdf", tags=CUSTODY)
@roles_required(*thaw.THAW_ROLES, action=N_("print a thawed bag's label"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="the post-thaw label, PDF")
def thaw_label_pdf(bag_id: str) -> Response:
    """The post-thaw label recorded at the thaw, PDF (for the person who thawed it, until it is accounted for)"""
    return _thaw_label(bag_id, "pdf")


@bp.get("/bags/<bag_id>/thaw-label.zpl", tags=CUSTODY)
@roles_required(*thaw.THAW_ROLES, action=N_("print a thawed bag's label"))
@bp.response(200, ZPL_BODY, content_type="text/plain", description="the post-thaw label, ZPL")
def thaw_label_zpl(bag_id: str) -> Response:
    """The post-thaw label recorded at the thaw, ZPL (for the person who thawed it, until it is accounted for)"""
    return _thaw_label(bag_id, "zpl")


@bp.post("/bags/discard-expired", tags=CUSTODY)
@roles_required(*expired.DISCARDERS, action=N_("discard expired bags"))
@bp.arguments(DiscardExpiredIn)
@bp.response(200, DiscardExpiredOut)
def discard_expired_bags(body: dict[str, Any]) -> dict[str, Any]:
    """Discard expired bags together with one reason: all or none

    Each gets its custody event ``discarded`` and audit entries; a bag still in date or allocated to a visit
    refuses the whole request by name (``bag_not_expired``, ``expired_bag_allocated``).
    """
    done = expired.discard_expired(db.session(), actor=current_user(), bag_codes=body.get("bags"),
                                   reason=body.get("reason"), location=body.get("location"),
                                   ranges=current_app.config["TEMPERATURE_RANGES"],
                                   timezone=current_app.config["SITE_TIMEZONE"])
    return {"discarded": [bag.bag_code for bag in done]}
