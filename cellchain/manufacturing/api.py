"""API: cord collections (docs/architecture.md, "The JSON API"): register one, read one with its chain of custody.

API: lots: start, passages, harvest, formulation, batch record and its PDF.

API: bags: fill a lot's bags, fill placebo bags, read and list bags.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.types import utcnow
from cellchain.manufacturing import bags, batch, collections, lots
from cellchain.manufacturing.batch_record_pdf import render_batch_record
from cellchain.manufacturing.models import Bag, BatchStep, Collection, Lot, Passage
from cellchain.manufacturing.rules.batch_record import StepDef
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.quality.models import QcResult
from cellchain.ward.models import CustodyEvent


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


def event_json(event: CustodyEvent, view: collections.CollectionView) -> dict[str, Any]:
    return {"event_id": event.id, "event": event.event, "from_state": event.from_state, "to_state": event.to_state,
            "location": event.location, "handed_over_by": event.handed_over_by, "received_by": event.received_by,
            "temperature_c": event.temperature_c, "condition": event.condition, "excursion": event.excursion,
            "occurred_at": _utc(event.occurred_at), "recorded_by": view.name(event.recorded_by)}


def collection_json(row: Collection) -> dict[str, Any]:
    return {"din": row.din, "eligibility": row.eligibility, "reasons": row.eligibility_reasons,
            "status": row.custody_state, "donor_code": row.donor_code, "collected_at": _utc(row.collected_at),
            "site": row.site, "consent_obtained": row.consent_obtained, "screening": row.screening,
            "specimen_collected_at": _utc(row.specimen_collected_at), "medical_history_ok": row.medical_history_ok}


@bp.post("/collections")
@roles_required("lab", action="register a cord collection")
def register_collection():
    cfg = current_app.config
    row = collections.register_collection(db.session(), actor=current_user(), data=json_body(),
                                          fin=cfg["FACILITY_FIN"], tz=ZoneInfo(cfg["SITE_TIMEZONE"]),
                                          ranges=cfg["TEMPERATURE_RANGES"])
    return jsonify(collection_json(row)), 201


@bp.get("/collections/<din>")
@login_required
def get_collection(din: str):
    view = collections.collection_view(db.session(), din)
    body = collection_json(view.collection)
    body["custody"] = [event_json(e, view) for e in view.events]
    body["open_excursions"] = [{"excursion_id": e.id, "temperature_c": e.temperature_c, "range": [e.low_c, e.high_c]}
                               for e in view.excursions if e.status == "open"]
    body["lot_id"] = view.lot.lot_number if view.lot else None
    return jsonify(body)


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


def batch_steps() -> tuple[StepDef, ...]:
    """The SOP checklist in force (``BATCH_RECORD_STEPS`` or the built-in one)."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


def passage_json(p: Passage) -> dict[str, Any]:
    return {"number": p.number, "seeded_cells": p.seeded_cells, "harvested_cells": p.harvested_cells,
            "viability_pct": p.viability_pct, "seeded_at": _utc(p.seeded_at), "harvested_at": _utc(p.harvested_at),
            "population_doublings": p.population_doublings, "cumulative_doublings": p.cumulative_doublings}


def step_json(entry: batch.StepEntry) -> dict[str, Any]:
    step, sig = entry.step, entry.signature
    return {"step_id": step.id, "step": step.step_key, "title": entry.title, "details": step.details,
            "performed_by": entry.performer.username if entry.performer else None,
            "performed_at": _utc(step.performed_at), "needs_verification": entry.needs_verification,
            "verification": None if sig is None else {
                "signer": sig.signer_username, "signer_name": sig.signer_name, "meaning": sig.meaning,
                "signed_at": _utc(sig.signed_at), "intact": entry.signature_intact}}


def qc_json(r: QcResult) -> dict[str, Any]:
    return {"id": r.id, "test": r.test_code, "value": r.value, "unit": r.unit, "within_spec": r.within_spec,
            "limit": r.limit_text, "spec_version": r.spec_version, "tested_at": _utc(r.tested_at),
            "recorded_at": _utc(r.recorded_at), "repeat_of": r.repeat_of_id}


def lot_json(view: lots.LotView) -> dict[str, Any]:
    lot = view.lot
    return {"lot_id": lot.lot_number, "din": view.collection.din, "status": lot.status,
            "spec_version": lot.spec_version, "donor_eligibility": view.collection.eligibility,
            "passages": [passage_json(p) for p in view.passages], "cumulative_doublings": view.cumulative_doublings,
            "harvest": {"harvested_cells": lot.harvested_cells, "harvested_at": _utc(lot.harvested_at)},
            "formulation": {"cells_per_ml": lot.formulated_cells_per_ml, "volume_ml": lot.formulated_volume_ml,
                            "total_cells": view.formulated_cells},
            "qc_results": [qc_json(r) for r in view.qc_results], "bags": [b.bag_code for b in view.bags],
            "batch_record": {"steps": [step_json(e) for e in view.record.entries], "complete": view.record.complete,
                             "missing": [r.as_dict() for r in view.record.missing]}}


def _started(lot: Lot) -> dict[str, Any]:
    return {"lot_id": lot.lot_number, "status": lot.status, "spec_version": lot.spec_version}


@bp.post("/lots")
@roles_required("lab", action="start a lot")
def start_lot():
    lot = lots.start_lot(db.session(), actor=current_user(), collection_din=json_body().get("collection_din"))
    return jsonify(_started(lot)), 201


@bp.get("/lots/<lot_id>")
@login_required
def get_lot(lot_id: str):
    return jsonify(lot_json(lots.lot_view(db.session(), lot_id, batch_steps())))


@bp.post("/lots/<lot_id>/passages")
@roles_required("lab", action="record a passage")
def record_passage(lot_id: str):
    row = lots.record_passage(db.session(), actor=current_user(), lot_number=lot_id, data=json_body(),
                              limit=current_app.config["PASSAGE_LIMIT"])
    return jsonify({"lot_id": lot_id, **passage_json(row)}), 201


@bp.post("/lots/<lot_id>/harvest")
@roles_required("lab", action="record a harvest")
def record_harvest(lot_id: str):
    lot = lots.record_harvest(db.session(), actor=current_user(), lot_number=lot_id, data=json_body())
    return jsonify({"lot_id": lot.lot_number, "harvested_cells": lot.harvested_cells,
                    "harvested_at": _utc(lot.harvested_at)}), 201


@bp.post("/lots/<lot_id>/formulation")
@roles_required("lab", action="record a formulation")
def record_formulation(lot_id: str):
    lot = lots.record_formulation(db.session(), actor=current_user(), lot_number=lot_id, data=json_body())
    return jsonify({"lot_id": lot.lot_number, "cells_per_ml": lot.formulated_cells_per_ml,
                    "volume_ml": lot.formulated_volume_ml,
                    "total_cells": lot.formulated_cells_per_ml * lot.formulated_volume_ml}), 201


def _step_answer(step: BatchStep) -> dict[str, Any]:
    return {"step_id": step.id, "step": step.step_key, "details": step.details,
            "performed_at": _utc(step.performed_at)}


@bp.post("/lots/<lot_id>/batch-steps")
@roles_required("lab", action="record a batch-record step")
def record_step(lot_id: str):
    step = batch.record_step(db.session(), actor=current_user(), lot_number=lot_id, data=json_body(),
                             steps=batch_steps())
    return jsonify({"lot_id": lot_id, **_step_answer(step), "performed_by": current_user().username}), 201


@bp.post("/lots/<lot_id>/batch-steps/<int:step_id>/verify")
@roles_required("lab", "qa", action="verify a batch-record step")
def verify_step(lot_id: str, step_id: int):
    signature = signatures.parse_signature(json_body().get("signature"))
    row = batch.verify_step(db.session(), actor=current_user(), lot_number=lot_id, step_id=step_id,
                            signature=signature, policy=policy())
    return jsonify({"lot_id": lot_id, "step_id": step_id, "verified_by": current_user().username,
                    "meaning": "verified", "verified_at": _utc(row.verified_at)}), 201


@bp.get("/lots/<lot_id>/batch-record.pdf")
@login_required
def batch_record_pdf(lot_id: str):
    cfg = current_app.config
    view = lots.lot_view(db.session(), lot_id, batch_steps())
    pdf = render_batch_record(view, tz=ZoneInfo(cfg["SITE_TIMEZONE"]), facility=cfg["FACILITY_NAME"],
                              printed_by=current_user().full_name, printed_at=utcnow())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="batch-record-{view.lot.lot_number}.pdf"'})


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
