"""QA pages: the review queue, one lot's whole record on one screen with release and reject, deviations,
and the page a certificate's QR code opens to check it still matches the record."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.errors import Invalid, Refused, Unauthenticated
from cellchain.labelling import pictures
from cellchain.manufacturing import batch
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.quality import deviations, release, release_gaps

bp = Blueprint("qa", __name__, url_prefix="/qa")
VIEWERS = ("qa", "auditor")
FORM_ERRORS = (Invalid, Refused, Unauthenticated)


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def sop_steps():
    """The site's batch-record checklist, which release checks the record against."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


def _form_signature():
    return signatures.parse_signature({"username": request.form.get("signature_username", ""),
                                       "password": request.form.get("signature_password", ""),
                                       "meaning": request.form.get("signature_meaning", "")})


def _problem(error: Exception) -> dict:
    """A refusal as the page shows it above the form it came from, in words."""
    db.rollback()
    return {"message": str(error), "fields": getattr(error, "fields", {}), "reasons": getattr(error, "reasons", [])}


STATUS = {Invalid: 400, Refused: 409, Unauthenticated: 401}


@bp.route("/")
@roles_required(*VIEWERS, action="see the QA review queue")
def index():
    session = db.session()
    reviewer = current_user()
    waiting = release.awaiting_review(session)
    gaps = release_gaps.gaps_of(session, waiting, reviewer, sop_steps())
    queue = [(lot, gaps[lot.id]) for lot in waiting]
    return render_template("qa/index.html", queue=queue, decided=release.recently_decided(session),
                           open_deviations=deviations.listing(session, status="not_closed"))


def _render_lot(lot_id: str, *, status: int = 200, problem: dict | None = None, action: str = ""):
    review = release.review(db.session(), lot_id, current_user(), sop_steps())
    return render_template("qa/lot.html", r=review, problem=problem, action=action,
                           can_decide="qa" in current_user().roles and not review.decided), status


@bp.route("/lots/<lot_id>")
@roles_required(*VIEWERS, action="review a lot")
def lot(lot_id: str):
    return _render_lot(lot_id)


@bp.route("/lots/<lot_id>/release", methods=["POST"])
@roles_required("qa", action="release a lot")
def release_lot(lot_id: str):
    try:
        release.release(db.session(), actor=current_user(), lot_number=lot_id, signature=_form_signature(),
                        policy=policy(), steps=sop_steps())
    except FORM_ERRORS as error:
        return _render_lot(lot_id, status=STATUS[type(error)], problem=_problem(error), action="release")
    flash(f"Lot {lot_id} released; its bags are out of quarantine.", "success")
    return redirect(url_for("qa.lot", lot_id=lot_id))


@bp.route("/lots/<lot_id>/reject", methods=["POST"])
@roles_required("qa", action="reject a lot")
def reject_lot(lot_id: str):
    try:
        release.reject(db.session(), actor=current_user(), lot_number=lot_id, signature=_form_signature(),
                       reason=request.form.get("reason", ""), policy=policy(),
                       ranges=current_app.config["TEMPERATURE_RANGES"])
    except FORM_ERRORS as error:
        return _render_lot(lot_id, status=STATUS[type(error)], problem=_problem(error), action="reject")
    flash(f"Lot {lot_id} rejected; its bags are rejected and discarded.", "success")
    return redirect(url_for("qa.lot", lot_id=lot_id))


@bp.route("/certificates/<lot_id>/verify")
@login_required
def verify_certificate(lot_id: str):
    check = release.verify_certificate(db.session(), lot_id, request.args.get("h", ""))
    codes = []
    if check.signature is not None:  # the certificate QA signed carries this link; without a decision there is none
        url = url_for("qa.verify_certificate", lot_id=check.lot.lot_number, h=check.signature.record_hash,
                      _external=True)
        codes = [pictures.qr("signed certificate's check link", url)]
    return render_template("qa/verify.html", check=check, codes=codes)


# --- deviations -----------------------------------------------------------------------------------------

@bp.route("/deviations")
@roles_required(*VIEWERS, action="see deviations")
def deviation_list():
    status = request.args.get("status") or None
    rows = deviations.listing(db.session(), status=status)
    return render_template("qa/deviations.html", rows=rows, status=status or "")


def _render_deviation(number: str, *, status: int = 200, problem: dict | None = None):
    row = deviations.get(db.session(), number)
    return render_template("qa/deviation.html", d=row, lot=deviations.lot_of(db.session(), row), problem=problem,
                           can_act="qa" in current_user().roles), status


@bp.route("/deviations/<number>")
@roles_required(*VIEWERS, action="see a deviation")
def deviation(number: str):
    return _render_deviation(number)


@bp.route("/deviations", methods=["POST"])
@roles_required("qa", action="open a deviation")
def open_deviation():
    form = request.form
    row = deviations.open_deviation(db.session(), actor=current_user(), kind=form.get("kind"),
                                    description=form.get("description"), lot_number=form.get("lot_id") or None,
                                    test_code=form.get("test") or None, tz=site_zone())
    flash(f"Deviation {row.number} opened.", "success")
    return redirect(url_for("qa.deviation", number=row.number))


def _move(number: str, move) -> object:
    try:
        row = move()
    except FORM_ERRORS as error:
        return _render_deviation(number, status=STATUS[type(error)], problem=_problem(error))
    flash(f"Deviation {row.number} is now {row.status}.", "success")
    return redirect(url_for("qa.deviation", number=number))


@bp.route("/deviations/<number>/investigate", methods=["POST"])
@roles_required("qa", action="investigate a deviation")
def investigate(number: str):
    form = request.form
    return _move(number, lambda: deviations.investigate(db.session(), actor=current_user(), number=number,
                                                        root_cause=form.get("root_cause"), impact=form.get("impact")))


@bp.route("/deviations/<number>/decide", methods=["POST"])
@roles_required("qa", action="decide a deviation")
def decide(number: str):
    form = request.form
    return _move(number, lambda: deviations.decide(db.session(), actor=current_user(), number=number,
                                                   decision=form.get("decision"),
                                                   justification=form.get("justification")))


@bp.route("/deviations/<number>/close", methods=["POST"])
@roles_required("qa", action="close a deviation")
def close(number: str):
    return _move(number, lambda: deviations.close(db.session(), actor=current_user(), number=number,
                                                  signature=_form_signature(), policy=policy()))
