"""API: labels (docs/architecture.md, "The JSON API"). Print jobs as PDF or ZPL, and label reconciliation.

The label GETs write a LabelPrint row (and an audit entry) per label, so a successful GET commits.
A label printed before is a reprint: add ``?reason=`` (a reprint without one is a 400 naming ``reason``).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.core.timeinput import parse_instant
from cellchain.labelling import print_jobs
from cellchain.labelling.views import label_settings, send_printed
from cellchain.manufacturing.models import LabelPrint
from cellchain.people.security import current_user, login_required
from cellchain.scanning import resolver


def both_formats(path: str):
    """Register a view at ``path.pdf`` and ``path.zpl`` (explicit rules, as the OpenAPI document lists them)."""
    def register(view):
        bp.add_url_rule(f"{path}.pdf", view_func=view, defaults={"fmt": "pdf"})
        bp.add_url_rule(f"{path}.zpl", endpoint=view.__name__, view_func=view, defaults={"fmt": "zpl"})
        return view
    return register


def _print(target: str, key: str, fmt: str, **options: Any):
    printed = print_jobs.print_target(db.session(), actor=current_user(), target=target, key=key,
                                  settings=label_settings(), reprint_reason=request.args.get("reason"),
                                  fmt=fmt, **options)
    return send_printed(printed)


@both_formats("/bags/<bag_id>/label")
@login_required
def label_bag(bag_id: str, fmt: str):
    return _print("bag", bag_id, fmt)


@both_formats("/lots/<lot_id>/labels")
@login_required
def label_lot_bags(lot_id: str, fmt: str):
    return _print("lot", lot_id, fmt)


@both_formats("/collections/<din>/label")
@login_required
def label_collection(din: str, fmt: str):
    return _print("collection", din, fmt)


@both_formats("/subjects/<subject_id>/wristband")
@login_required
def label_wristband(subject_id: str, fmt: str):
    return _print("subject", subject_id, fmt)


@both_formats("/lots/<lot_id>/qc-tube-labels")
@login_required
def label_qc_tubes(lot_id: str, fmt: str):
    return _print("qc", lot_id, fmt)


@both_formats("/lots/<lot_id>/vessel-labels")
@login_required
def label_vessels(lot_id: str, fmt: str):
    return _print("vessel", lot_id, fmt, passage=request.args.get("passage", type=int),
                  vessels=request.args.get("vessels", type=int))


@bp.route("/shipments/label", methods=["POST"])
@login_required
def label_shipper():
    """{bags: [bag_id ...], ship_to, shipped_at?, reason?, format?: pdf|zpl} -> the shipper label."""
    data = json_body()
    shipped_at = parse_instant(data["shipped_at"], "shipped_at") if data.get("shipped_at") else None
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid({"reason": "must be text"})
    printed = print_jobs.print_shipper(db.session(), actor=current_user(), bag_codes=data.get("bags"),
                                   ship_to=data.get("ship_to"), shipped_at=shipped_at, settings=label_settings(),
                                   reprint_reason=reason, fmt=data.get("format", "pdf"))
    return send_printed(printed)


def label_json(row: LabelPrint, names: dict[int, str]) -> dict[str, Any]:
    return {"label_id": row.id, "label_kind": row.label_kind, "item_type": row.item_type, "item_key": row.item_key,
            "reprint": row.reprint, "reason": row.reason, "content_hash": row.content_hash, "status": row.status,
            "status_reason": row.status_reason, "status_by": names.get(row.status_by),
            "status_at": format_utc(row.status_at) if row.status_at else None,
            "printed_by": names.get(row.printed_by), "printed_at": format_utc(row.printed_at)}


@bp.route("/labels")
@login_required
def labels_list():
    """``?target=bag&key=<bag_id>`` (or collection, lot, qc, vessel, subject, shipment): that item's labels;
    without them: every label printed and not yet applied, voided or destroyed."""
    session = db.session()
    target, key = request.args.get("target"), request.args.get("key")
    if target or key:
        if not target or not key:
            raise Invalid({"target": "give both target and key"})
        resolver.print_target(session, target, key)
        rows = print_jobs.target_history(session, target, key)
    else:
        rows = print_jobs.outstanding(session)
    names = print_jobs.user_names(session, rows)
    return jsonify({"labels": [label_json(row, names) for row in rows]})


@bp.route("/labels/<int:label_id>/status", methods=["POST"])
@login_required
def labels_status(label_id: int):
    """{status: applied|voided|destroyed, reason?} -> the label with its new status."""
    data = json_body()
    row = print_jobs.set_status(db.session(), actor=current_user(), label_id=label_id, status=data.get("status"),
                            reason=data.get("reason"))
    return jsonify(label_json(row, print_jobs.user_names(db.session(), [row])))
