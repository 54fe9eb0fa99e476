"""API: bags (DESIGN section 8): fill a lot's bags, fill placebo bags, read and list bags."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, request

from cellchain import db
from cellchain.domain.canonical import format_utc
from cellchain.models.bags import Bag
from cellchain.services import bags
from cellchain.web.api import bp, json_body
from cellchain.web.security import current_user, login_required, roles_required


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


def bag_json(bag: Bag, lot_number: str | None) -> dict[str, Any]:
    return {"bag_id": bag.bag_code, "din": bag.din, "product_code": bag.product_code,
            "collection_type": bag.collection_type, "division": bag.division, "kind": bag.kind,
            "lot_id": lot_number, "status": bag.quality_status, "quality_status": bag.quality_status,
            "custody_state": bag.custody_state, "volume_ml": bag.volume_ml, "total_cells": bag.total_cells,
            "anticoagulant": bag.anticoagulant, "anticoagulant_lot": bag.anticoagulant_lot,
            "anticoagulant_volume_ml": bag.anticoagulant_volume_ml, "saline_lot": bag.saline_lot,
            "filled_at": _utc(bag.filled_at), "expires_at": _utc(bag.expires_at)}


def _settings() -> bags.FillSettings:
    return bags.FillSettings.from_config(current_app.config)


@bp.post("/lots/<lot_id>/bags")
@roles_required("lab", action="fill bags")
def fill_bags(lot_id: str):
    filled = bags.fill_bags(db.session(), actor=current_user(), lot_number=lot_id, data=json_body(),
                            settings=_settings())
    return jsonify({"lot_id": lot_id, "bags": [bag_json(b, lot_id) for b in filled]}), 201


@bp.post("/placebo-bags")
@roles_required("lab", action="fill placebo bags")
def fill_placebo():
    filled = bags.fill_placebo(db.session(), actor=current_user(), data=json_body(), settings=_settings())
    return jsonify({"din": filled[0].din, "bags": [bag_json(b, None) for b in filled]}), 201


@bp.get("/bags/<bag_id>")
@login_required
def get_bag(bag_id: str):
    view = bags.bag_view(db.session(), bag_id, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]))
    body = bag_json(view.bag, view.lot_number)
    body["allocation"] = None if view.allocation is None else {
        "subject_id": view.subject_code, "subject_code": view.subject_code, "visit_id": view.allocation.visit_id}
    body["barcodes"] = view.barcodes
    return jsonify(body)


@bp.get("/bags")
@login_required
def list_bags():
    args = request.args
    rows = bags.list_bags(db.session(), status=args.get("status") or None, lot_number=args.get("lot_id") or None,
                          din_text=args.get("din") or None)
    return jsonify({"bags": [bag_json(bag, number) for bag, number in rows]})
