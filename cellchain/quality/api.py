"""API: QC results, deviations, release and rejection, and the release certificate (docs/architecture.md)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request, url_for

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.manufacturing import batch
from cellchain.manufacturing.lot_access import get_lot
from cellchain.manufacturing.models import Lot
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.quality import certificate, deviations, qc, release, release_gaps, specifications
from cellchain.quality.models import Deviation, QcResult, Specification
from cellchain.quality.rules.spec_limits import spec_to_dict

READERS = ("qc", "qa", "lab", "auditor")


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def sop_steps():
    """The site's batch-record checklist, which release checks the record against."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


def _utc(moment) -> str | None:
    return format_utc(moment) if moment else None


def result_json(row: QcResult, lot_number: str) -> dict[str, Any]:
    return {"id": row.id, "lot_id": lot_number, "test": row.test_code, "value": row.value,
            "within_spec": row.within_spec, "limit": row.limit_text, "unit": row.unit, "method": row.method,
            "spec_version": row.spec_version, "repeat_of": row.repeat_of_id, "reason": row.reason,
            "tested_at": _utc(row.tested_at), "recorded_at": _utc(row.recorded_at), "recorded_by": row.recorded_by}


def deviation_json(row: Deviation) -> dict[str, Any]:
    lot = db.session().get(Lot, row.lot_id) if row.lot_id else None
    return {"number": row.number, "lot_id": lot.lot_number if lot else None, "kind": row.kind,
            "test": row.test_code, "qc_result_id": row.qc_result_id, "description": row.description,
            "status": row.status, "root_cause": row.root_cause, "impact": row.impact, "decision": row.decision,
            "justification": row.justification, "opened_at": _utc(row.opened_at), "closed_at": _utc(row.closed_at),
            "closing_signature_id": row.closing_signature_id}


def spec_json(row: Specification) -> dict[str, Any]:
    return {"version": row.version, "product": row.product, "effective_at": _utc(row.effective_at),
            "definition": row.definition}


# --- QC results -----------------------------------------------------------------------------------------

@bp.post("/lots/<lot_id>/qc-results")
@roles_required("qc", action="record a QC result")
def record_qc_result(lot_id: str):
    entry = qc.parse_result(json_body())
    row = qc.record_result(db.session(), actor=current_user(), lot_number=lot_id, entry=entry, tz=site_zone())
    opened = deviations.for_result(db.session(), row)
    return jsonify({**result_json(row, lot_id), "deviation": opened.number if opened else None}), 201


@bp.get("/lots/<lot_id>/qc-results")
@roles_required(*READERS, action="read QC results")
def list_qc_results(lot_id: str):
    session = db.session()
    lot = get_lot(session, lot_id)
    latest = {code: row.id for code, row in qc.latest_by_test(qc.results_of(session, lot)).items()}
    results = [{**result_json(row, lot_id), "counts": latest.get(row.test_code) == row.id}
               for row in qc.results_of(session, lot)]
    return jsonify({"lot_id": lot_id, "status": lot.status, "spec_version": lot.spec_version, "results": results,
                    "missing": qc.missing_tests(session, lot)})


# --- release and rejection ------------------------------------------------------------------------------

def _decision_json(lot) -> dict[str, Any]:
    signed = release.decision_signature(db.session(), lot)
    return {"lot_id": lot.lot_number, "status": lot.status, "decided_at": _utc(lot.decided_at),
            "reason": lot.decision_reason,
            "signature": None if signed is None else {
                "id": signed.id, "signer": signed.signer_username, "name": signed.signer_name,
                "meaning": signed.meaning, "signed_at": _utc(signed.signed_at), "record_hash": signed.record_hash},
            "certificate": url_for("api.release_certificate_pdf", lot_id=lot.lot_number)}


@bp.get("/lots/<lot_id>/release-check")
@roles_required("qa", "auditor", action="check a lot's release")
def release_check(lot_id: str):
    session = db.session()
    gaps = release_gaps.of_lot(session, get_lot(session, lot_id), current_user(), sop_steps())
    return jsonify({"lot_id": lot_id, "ready": not gaps, "reasons": [g.as_dict() for g in gaps]})


@bp.post("/lots/<lot_id>/release")
@roles_required("qa", action="release a lot")
def release_lot(lot_id: str):
    data = json_body()
    lot = release.release(db.session(), actor=current_user(), lot_number=lot_id,
                          signature=signatures.parse_signature(data.get("signature")), policy=policy(),
                          steps=sop_steps())
    return jsonify(_decision_json(lot))


@bp.post("/lots/<lot_id>/reject")
@roles_required("qa", action="reject a lot")
def reject_lot(lot_id: str):
    data = json_body()
    lot = release.reject(db.session(), actor=current_user(), lot_number=lot_id,
                         signature=signatures.parse_signature(data.get("signature")), reason=data.get("reason"),
                         policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"])
    return jsonify(_decision_json(lot))


@bp.get("/lots/<lot_id>/release-certificate.pdf")
@login_required
def release_certificate_pdf(lot_id: str):
    data = certificate.build(db.session(), lot_id)
    verify_url = url_for("qa.verify_certificate", lot_id=lot_id, h=data.signature.record_hash, _external=True)
    pdf = certificate.render(data, verify_url=verify_url, config=current_app.config)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=release-certificate-{lot_id}.pdf"})


# --- deviations -----------------------------------------------------------------------------------------

@bp.get("/deviations")
@roles_required("qa", "qc", "auditor", action="read deviations")
def list_deviations():
    session = db.session()
    lot_id = request.args.get("lot_id")
    lot = get_lot(session, lot_id) if lot_id else None
    rows = deviations.listing(session, status=request.args.get("status") or None, lot=lot)
    return jsonify({"deviations": [deviation_json(r) for r in rows]})


@bp.post("/deviations")
@roles_required("qa", action="open a deviation")
def open_deviation():
    data = json_body()
    row = deviations.open_deviation(db.session(), actor=current_user(), kind=data.get("kind"),
                                    description=data.get("description"), lot_number=data.get("lot_id"),
                                    test_code=data.get("test"), tz=site_zone())
    return jsonify(deviation_json(row)), 201


@bp.get("/deviations/<number>")
@roles_required("qa", "qc", "auditor", action="read deviations")
def get_deviation(number: str):
    return jsonify(deviation_json(deviations.get(db.session(), number)))


@bp.post("/deviations/<number>/investigate")
@roles_required("qa", action="investigate a deviation")
def investigate_deviation(number: str):
    data = json_body()
    row = deviations.investigate(db.session(), actor=current_user(), number=number,
                                 root_cause=data.get("root_cause"), impact=data.get("impact"))
    return jsonify(deviation_json(row))


@bp.post("/deviations/<number>/decide")
@roles_required("qa", action="decide a deviation")
def decide_deviation(number: str):
    data = json_body()
    row = deviations.decide(db.session(), actor=current_user(), number=number, decision=data.get("decision"),
                            justification=data.get("justification"))
    return jsonify(deviation_json(row))


@bp.post("/deviations/<number>/close")
@roles_required("qa", action="close a deviation")
def close_deviation(number: str):
    data = json_body()
    row = deviations.close(db.session(), actor=current_user(), number=number,
                           signature=signatures.parse_signature(data.get("signature")), policy=policy())
    return jsonify(deviation_json(row))


# --- specifications -------------------------------------------------------------------------------------

@bp.get("/specifications/current")
@roles_required(*READERS, action="read the specification")
def current_specification():
    return jsonify(spec_to_dict(specifications.in_force(db.session())))


@bp.post("/specifications")
@roles_required("qa", action="publish a specification")
def publish_specification():
    row = specifications.publish(db.session(), actor=current_user(), definition=json_body())
    return jsonify(spec_json(row)), 201
