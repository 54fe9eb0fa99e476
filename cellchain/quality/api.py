"""API: QC results, deviations, release and rejection, and the release certificate (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, url_for

from cellchain.audit import signatures
from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Reason
from cellchain.core.schemas import FILE_BODY
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.labelling.site import relabel
from cellchain.manufacturing import batch
from cellchain.manufacturing.lot_access import get_lot
from cellchain.manufacturing.models import Lot
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.quality import certificate, deviations, holds, qc, release, release_gaps, specifications
from cellchain.quality.models import Specification
from cellchain.quality.recall import lookback
from cellchain.quality.schemas import (
    CloseIn,
    DecideIn,
    DecisionIn,
    DecisionOut,
    DeviationIn,
    DeviationSchema,
    DeviationsOut,
    DeviationsQuery,
    HoldSchema,
    InvestigateIn,
    LiftHoldIn,
    LookbackSchema,
    PlaceHoldIn,
    QcResultIn,
    QcResultSchema,
    QcResultsIn,
    QcResultsOut,
    RecordedResultsOut,
    ReleaseCheckOut,
    SpecificationIn,
    SpecificationQuery,
    SpecificationSchema,
)

READERS = ("qc", "qa", "lab", "auditor")
TAGS = ["qc"]


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def sop_steps():
    """The site's batch-record checklist, which release checks the record against."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


# --- QC results -----------------------------------------------------------------------------------------

@bp.post("/lots/<lot_id>/qc-results", tags=TAGS)
@roles_required("qc", action=N_("record a QC result"))
@bp.arguments(QcResultIn)
@bp.response(201, QcResultSchema)
def record_qc_result(data: dict[str, Any], lot_id: str) -> qc.LotResult:
    """Record a QC result; judged against the lot's specification

    An out-of-specification result opens a deviation in the same transaction; ``deviation`` names it.
    """
    session = db.session()
    entry = qc.parse_result(data)
    row = qc.record_result(session, actor=current_user(), lot_number=lot_id, entry=entry, tz=site_zone())
    opened = deviations.for_result(session, row)
    return qc.LotResult(row, lot_id, counts=True, deviation=opened.number if opened else None)


@bp.post("/lots/<lot_id>/qc-results/batch", tags=TAGS)
@roles_required("qc", action=N_("record QC results"))
@bp.arguments(QcResultsIn)
@bp.response(201, RecordedResultsOut)
def record_qc_results(data: dict[str, Any], lot_id: str) -> dict[str, Any]:
    """Record several first results of a lot at once: all or none

    Every item is read and judged before any is written; a bad item is named ``<test>.<field>``.
    """
    session = db.session()
    rows = qc.record_results(session, actor=current_user(), lot_number=lot_id,
                             rows=qc.rows_by_test(data.get("results")), tz=site_zone())
    opened = deviations.numbers_by_result(session, [row.id for row in rows])
    return {"lot_id": lot_id,
            "results": [qc.LotResult(row, lot_id, counts=True, deviation=opened.get(row.id)) for row in rows]}


@bp.get("/lots/<lot_id>/qc-results", tags=TAGS)
@roles_required(*READERS, action=N_("read QC results"))
@bp.response(200, QcResultsOut)
def list_qc_results(lot_id: str) -> dict[str, Any]:
    """A lot's QC results, oldest first, and the required tests still without one"""
    session = db.session()
    lot = get_lot(session, lot_id)
    return {"lot_id": lot_id, "lot": lot, "results": qc.lot_results(session, lot),
            "missing": qc.missing_tests(session, lot)}


# --- release and rejection ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What a release or rejection answers: the lot, the decision's e-signature, where its certificate is."""

    lot: Lot
    signature: Signature | None
    certificate: str
    labels_to_replace: list[Any]  # the bag labels printed in quarantine (labelling/site/relabel.py)


def _decision(lot: Lot) -> Decision:
    return Decision(lot, release.decision_signature(db.session(), lot),
                    url_for("api.release_certificate_pdf", lot_id=lot.lot_number),
                    relabel.to_replace(db.session(), lot))


@dataclass(frozen=True)
class ReleaseCheck:
    lot_id: str
    reasons: list[Reason]

    @property
    def ready(self) -> bool:
        return not self.reasons


@bp.get("/lots/<lot_id>/release-check", tags=TAGS)
@roles_required("qa", "auditor", action=N_("check a lot's release"))
@bp.response(200, ReleaseCheckOut)
def release_check(lot_id: str) -> ReleaseCheck:
    """What still stands between a lot and its release"""
    session = db.session()
    return ReleaseCheck(lot_id, release_gaps.of_lot(session, get_lot(session, lot_id), current_user(), sop_steps()))


@bp.post("/lots/<lot_id>/release", tags=TAGS)
@roles_required("qa", action=N_("release a lot"))
@bp.arguments(DecisionIn)
@bp.response(200, DecisionOut)
def release_lot(data: dict[str, Any], lot_id: str) -> Decision:
    """Release a lot with a QA e-signature"""
    lot = release.release(db.session(), actor=current_user(), lot_number=lot_id,
                          signature=signatures.parse_signature(data.get("signature")), policy=policy(),
                          steps=sop_steps())
    return _decision(lot)


@bp.post("/lots/<lot_id>/reject", tags=TAGS)
@roles_required("qa", action=N_("reject a lot"))
@bp.arguments(DecisionIn)
@bp.response(200, DecisionOut)
def reject_lot(data: dict[str, Any], lot_id: str) -> Decision:
    """Reject a lot with a QA e-signature"""
    lot = release.reject(db.session(), actor=current_user(), lot_number=lot_id,
                         signature=signatures.parse_signature(data.get("signature")), reason=data.get("reason"),
                         policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"])
    return _decision(lot)


@bp.get("/lots/<lot_id>/release-certificate.pdf", tags=TAGS)
@login_required
@bp.response(200, FILE_BODY, content_type="application/pdf", description="the certificate of a decided lot")
def release_certificate_pdf(lot_id: str) -> Response:
    """The release certificate"""
    data = certificate.build(db.session(), lot_id)
    verify_url = url_for("qa.verify_certificate", lot_id=lot_id, h=data.signature.record_hash, _external=True)
    pdf = certificate.render(data, verify_url=verify_url, config=current_app.config)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=release-certificate-{lot_id}.pdf"})


# --- deviations -----------------------------------------------------------------------------------------

def _answered(row) -> deviations.LotDeviation:
    (one,) = deviations.with_lot_numbers(db.session(), [row])
    return one


@bp.get("/deviations", tags=TAGS)
@roles_required("qa", "qc", "auditor", action=N_("read deviations"))
@bp.arguments(DeviationsQuery, location="query")
@bp.response(200, DeviationsOut)
def list_deviations(query: dict[str, Any]) -> dict[str, Any]:
    """List deviations, newest first (?status=&lot_id=), a page at a time (?limit=, ?cursor= from ``next``)"""
    session = db.session()
    lot_id = query.get("lot_id")
    lot = get_lot(session, lot_id) if lot_id else None
    page = deviations.page_of(session, page_request(size_arg="limit"), status=query.get("status") or None, lot=lot)
    return {"deviations": deviations.with_lot_numbers(session, page.rows), "next": next_cursor(page)}


@bp.post("/deviations", tags=TAGS)
@roles_required("qa", action=N_("open a deviation"))
@bp.arguments(DeviationIn)
@bp.response(201, DeviationSchema)
def open_deviation(data: dict[str, Any]) -> deviations.LotDeviation:
    """Open a deviation"""
    row = deviations.open_deviation(db.session(), actor=current_user(), kind=data.get("kind"),
                                    description=data.get("description"), lot_number=data.get("lot_id"),
                                    test_code=data.get("test"), tz=site_zone())
    return _answered(row)


@bp.get("/deviations/<number>", tags=TAGS)
@roles_required("qa", "qc", "auditor", action=N_("read deviations"))
@bp.response(200, DeviationSchema)
def get_deviation(number: str) -> deviations.LotDeviation:
    """A deviation"""
    return _answered(deviations.get(db.session(), number))


@bp.post("/deviations/<number>/investigate", tags=TAGS)
@roles_required("qa", action=N_("investigate a deviation"))
@bp.arguments(InvestigateIn)
@bp.response(200, DeviationSchema)
def investigate_deviation(data: dict[str, Any], number: str) -> deviations.LotDeviation:
    """Record root cause and impact"""
    row = deviations.investigate(db.session(), actor=current_user(), number=number,
                                 root_cause=data.get("root_cause"), impact=data.get("impact"))
    return _answered(row)


@bp.post("/deviations/<number>/decide", tags=TAGS)
@roles_required("qa", action=N_("decide a deviation"))
@bp.arguments(DecideIn)
@bp.response(200, DeviationSchema)
def decide_deviation(data: dict[str, Any], number: str) -> deviations.LotDeviation:
    """Accept or reject, with justification"""
    row = deviations.decide(db.session(), actor=current_user(), number=number, decision=data.get("decision"),
                            justification=data.get("justification"))
    return _answered(row)


@bp.post("/deviations/<number>/close", tags=TAGS)
@roles_required("qa", action=N_("close a deviation"))
@bp.arguments(CloseIn)
@bp.response(200, DeviationSchema)
def close_deviation(data: dict[str, Any], number: str) -> deviations.LotDeviation:
    """Close with a QA e-signature"""
    row = deviations.close(db.session(), actor=current_user(), number=number,
                           signature=signatures.parse_signature(data.get("signature")), policy=policy())
    return _answered(row)


# --- specifications -------------------------------------------------------------------------------------

@bp.get("/specifications/current", tags=TAGS)
@roles_required(*READERS, action=N_("read the specification"))
@bp.arguments(SpecificationQuery, location="query")
@bp.response(200, SpecificationSchema)
def current_specification(query: dict[str, Any]) -> Specification:
    """The specification in force for a product (?product=ucmsc, the default, or ucmsc_bank)"""
    return specifications.in_force_record(db.session(), product=query.get("product") or specifications.DOSE_PRODUCT)


@bp.post("/specifications", tags=TAGS)
@roles_required("qa", action=N_("publish a specification"))
@bp.arguments(SpecificationIn)
@bp.response(201, SpecificationSchema)
def publish_specification(data: dict[str, Any]) -> Specification:
    """Publish a new specification version (new lots only)"""
    return specifications.publish(db.session(), actor=current_user(), definition=data)


# --- holds ----------------------------------------------------------------------------------------------

HOLD_VIEWERS = ("qa", "investigator", "auditor")


@bp.post("/holds", tags=TAGS)
@roles_required("qa", action=N_("place a hold"))
@bp.arguments(PlaceHoldIn)
@bp.response(201, HoldSchema)
def place_hold(data: dict[str, Any]) -> holds.HoldDetail:
    """Hold a collection, cell bank, lot or bag, and everything derived from it, with a QA e-signature
    (meaning approved) and a reason; with recall true, its look-back goes to QA and the investigators"""
    session = db.session()
    row = holds.place(session, actor=current_user(), item_kind=data.get("item_kind"), item_code=data.get("item_id"),
                      reason=data.get("reason"), recall=data.get("recall", False),
                      signature=signatures.parse_signature(data.get("signature")), policy=policy())
    return holds.detail(session, row.id)


@bp.get("/lookback/<kind>/<code>", tags=TAGS)
@roles_required(*HOLD_VIEWERS, action=N_("read a look-back"))
@bp.response(200, LookbackSchema)
def get_lookback(kind: str, code: str) -> lookback.Lookback:
    """Every item derived from a collection, cell bank, lot or bag, with its status and place, and every subject
    who received any of it with the infusion's dates"""
    return lookback.lookback(db.session(), kind, code)


@bp.get("/holds/<int:hold_id>", tags=TAGS)
@roles_required("qa", "investigator", "auditor", action=N_("read a hold"))
@bp.response(200, HoldSchema)
def get_hold(hold_id: int) -> holds.HoldDetail:
    """A hold on a collection, bank, lot or bag, with every subject already infused from what it reaches"""
    return holds.detail(db.session(), hold_id)


@bp.post("/holds/<int:hold_id>/lift", tags=TAGS)
@roles_required("qa", action=N_("lift a hold"))
@bp.arguments(LiftHoldIn)
@bp.response(200, HoldSchema)
def lift_hold(data: dict[str, Any], hold_id: int) -> holds.HoldDetail:
    """Lift a hold with a QA e-signature (meaning approved) and a reason"""
    session = db.session()
    holds.lift(session, actor=current_user(), hold_id=hold_id,
               signature=signatures.parse_signature(data.get("signature")), reason=data.get("reason"),
               policy=policy())
    return holds.detail(session, hold_id)
