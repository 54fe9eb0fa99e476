"""API: labels (docs/architecture.md, "The JSON API"). Print jobs as PDF or ZPL, and label reconciliation.

The label GETs write a LabelPrint row (and an audit entry) per label, so a successful GET commits.
A label printed before is a reprint: add ``?reason=`` (a reprint without one is a 400 naming ``reason``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, request
from marshmallow import Schema

from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Invalid
from cellchain.core.timeinput import parse_instant
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_, translated
from cellchain.labelling import label_items, print_jobs
from cellchain.labelling.schemas import (
    LABEL_BODIES,
    ZPL_BODY,
    LabelPrintSchema,
    LabelQuery,
    LabelsOut,
    LabelsQuery,
    LabelStatusIn,
    ShipperLabelIn,
    VesselLabelQuery,
)
from cellchain.labelling.views import label_settings, send_printed
from cellchain.people.security import current_user, login_required, roles_required
from cellchain.scanning import resolver

TAGS = ["labels"]
PDF = print_jobs.FORMATS["pdf"]


def both_formats(path: str, summary: str, query: type[Schema] = LabelQuery) -> Callable:
    """Register a view at ``path.pdf`` and ``path.zpl`` (explicit rules, as the OpenAPI document lists them),
    each documented with the content type it answers; the login is checked before the query is read."""
    def register(view: Callable) -> Callable:
        for fmt, content_type in print_jobs.FORMATS.items():
            documented = bp.arguments(query, location="query")(view)
            documented = bp.response(200, LABEL_BODIES[fmt], content_type=content_type,
                                     description=f"the labels, {fmt.upper()}")(documented)
            documented = bp.doc(summary=f"{summary}, {fmt.upper()}")(documented)
            endpoint = view.__name__ if fmt == "pdf" else f"{view.__name__}_{fmt}"
            bp.add_url_rule(f"{path}.{fmt}", endpoint=endpoint, view_func=login_required(documented),
                            defaults={"fmt": fmt}, tags=TAGS)
        return view
    return register


def _print(target: str, key: str, fmt: str, reason: str | None, **options: Any) -> Response:
    printed = print_jobs.print_target(db.session(), actor=current_user(), target=target, key=key,
                                      settings=label_settings(), reprint_reason=reason, fmt=fmt,
                                      dpi=request.args.get("dpi") if fmt == "zpl" else None, **options)
    return send_printed(printed)


@both_formats("/bags/<bag_id>/label", "The bag's label")
def label_bag(query: dict[str, Any], bag_id: str, fmt: str) -> Response:
    return _print("bag", bag_id, fmt, query.get("reason"))


@both_formats("/lots/<lot_id>/labels", "Labels of all the lot's bags, one job")
def label_lot_bags(query: dict[str, Any], lot_id: str, fmt: str) -> Response:
    return _print("lot", lot_id, fmt, query.get("reason"))


@both_formats("/banks/<bank_code>/labels", "Labels of every frozen vial of the cell bank, one job")
def label_bank_vials(query: dict[str, Any], bank_code: str, fmt: str) -> Response:
    return _print("bank", bank_code, fmt, query.get("reason"))


@both_formats("/vials/<vial_code>/label", "The cell-bank vial's label")
def label_vial(query: dict[str, Any], vial_code: str, fmt: str) -> Response:
    return _print("vial", vial_code, fmt, query.get("reason"))


@both_formats("/collections/<din>/label", "The collection's label")
def label_collection(query: dict[str, Any], din: str, fmt: str) -> Response:
    return _print("collection", din, fmt, query.get("reason"))


@both_formats("/subjects/<subject_id>/wristband", "The subject's wristband label")
def label_wristband(query: dict[str, Any], subject_id: str, fmt: str) -> Response:
    return _print("subject", subject_id, fmt, query.get("reason"))


@both_formats("/lots/<lot_id>/qc-tube-labels", "QC sample tube labels")
def label_qc_tubes(query: dict[str, Any], lot_id: str, fmt: str) -> Response:
    return _print("qc", lot_id, fmt, query.get("reason"))


def _whole_number(text: Any) -> int | None:
    """A query's whole number, or None for anything else (the vessel rule then names the field)."""
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


@both_formats("/lots/<lot_id>/vessel-labels", "Culture vessel labels", VesselLabelQuery)
def label_vessels(query: dict[str, Any], lot_id: str, fmt: str) -> Response:
    return _print("vessel", lot_id, fmt, query.get("reason"),
                  passage=_whole_number(query.get("passage")), vessels=_whole_number(query.get("vessels")))


@bp.route("/shipments/label", methods=["POST"], tags=TAGS)
@roles_required(*label_items.KINDS["shipper"].roles, *print_jobs.REPRINT_ROLES, action=N_("print shipper labels"))
@bp.arguments(ShipperLabelIn)
@bp.response(200, LABEL_BODIES["pdf"], content_type=PDF, description="the shipper label (format pdf, the default)")
@bp.alt_response(200, schema=ZPL_BODY, content_type=print_jobs.FORMATS["zpl"], success=True,
                 description="the shipper label (format pdf, the default, or zpl)")
def label_shipper(data: dict[str, Any]) -> Response:
    """A shipper label for bags dispatched together"""
    shipped_at = parse_instant(data["shipped_at"], "shipped_at") if data.get("shipped_at") else None
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid({"reason": translated(N_("must be text"))})
    printed = print_jobs.print_shipper(db.session(), actor=current_user(), bag_codes=data.get("bags"),
                                       ship_to=data.get("ship_to"), shipped_at=shipped_at, settings=label_settings(),
                                       reprint_reason=reason, fmt=data.get("format", "pdf"))
    return send_printed(printed)


@bp.route("/labels", methods=["GET"], tags=TAGS)
@login_required
@bp.arguments(LabelsQuery, location="query")
@bp.response(200, LabelsOut)
def labels_list(query: dict[str, Any]) -> dict[str, Any]:
    """Printed labels (?target=&key=), or those not yet accounted for

    With ``target`` (bag, collection, lot, qc, vessel, subject, shipment) and ``key``: that item's labels;
    without them: every label printed and not yet applied, voided or destroyed, oldest first, a page at a
    time (``limit``, then ``cursor`` from ``next``; an item's own labels come on one page).
    """
    session = db.session()
    target, key = query.get("target"), query.get("key")
    if target or key:
        if not target or not key:
            raise Invalid({"target": translated(N_("give both target and key"))})
        resolver.print_target(session, target, key)
        rows, following = print_jobs.target_history(session, target, key), None
    else:
        page = print_jobs.outstanding(session, page_request(size_arg="limit"))
        rows, following = page.rows, next_cursor(page)
    return {"labels": print_jobs.with_user_names(session, rows), "next": following}


def _role_before_body(view: Callable) -> Callable:
    """The role check comes before the body is read, as ``roles_required`` does on the other routes: a
    person who may not account for this label is told so, not what their body lacks."""
    @functools.wraps(view)
    def checked(*args: Any, label_id: int, **kwargs: Any) -> Any:
        print_jobs.require_status_role(db.session(), actor=current_user(), label_id=label_id)
        return view(*args, label_id=label_id, **kwargs)
    return checked


@bp.route("/labels/<int:label_id>/status", methods=["POST"], tags=TAGS)
@login_required
@_role_before_body
@bp.arguments(LabelStatusIn)
@bp.response(200, LabelPrintSchema)
def labels_status(data: dict[str, Any], label_id: int) -> print_jobs.NamedLabel:
    """Account for a printed label: applied, voided or destroyed (voiding and destroying need a reason)"""
    session = db.session()
    row = print_jobs.set_status(session, actor=current_user(), label_id=label_id, status=data.get("status"),
                                reason=data.get("reason"))
    (named,) = print_jobs.with_user_names(session, [row])
    return named
