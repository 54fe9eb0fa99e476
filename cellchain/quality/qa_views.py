"""QA pages: the review queue, one lot's whole record on one screen with release and reject, deviations,
and the page a certificate's QR code opens to check it still matches the record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.page_forms import PageForm, Refusal, site_zone, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.labelling import pictures
from cellchain.manufacturing import batch
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.quality import deviations, holds, release, release_gaps
from cellchain.quality.forms import (
    CloseForm,
    DecideForm,
    DeviationForm,
    InvestigateForm,
    LiftHoldForm,
    RejectForm,
    ReleaseForm,
)

bp = Blueprint("qa", __name__, url_prefix="/qa")
VIEWERS = ("qa", "auditor")


def sop_steps():
    """The site's batch-record checklist, which release checks the record against."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


@bp.route("/")
@roles_required(*VIEWERS, action=N_("see the QA review queue"))
def index():
    session = db.session()
    reviewer = current_user()
    waiting = release.awaiting_review(session)
    gaps = release_gaps.gaps_of(session, waiting, reviewer, sop_steps())
    queue = [(lot, gaps[lot.id]) for lot in waiting]
    return render_template("qa/index.html", queue=queue, decided=release.recently_decided(session),
                           open_deviations=deviations.listing(session, status="not_closed"))


def _render_lot(lot_id: str, *, problem: Refusal | None = None, action: str = "") -> str:
    review = release.review(db.session(), lot_id, current_user(), sop_steps())
    return render_template("qa/lot.html", r=review, problem=problem, action=action,
                           can_decide="qa" in current_user().roles and not review.decided)


@bp.route("/lots/<lot_id>")
@roles_required(*VIEWERS, action=N_("review a lot"))
def lot(lot_id: str):
    return _render_lot(lot_id)


@bp.route("/lots/<lot_id>/release", methods=["POST"])
@roles_required("qa", action=N_("release a lot"))
def release_lot(lot_id: str):
    form = ReleaseForm()

    def release_it():
        release.release(db.session(), actor=current_user(), lot_number=lot_id, signature=form.signature(),
                        policy=policy(), steps=sop_steps())
        flash(note("lot_released", lot_id=lot_id), "success")
        return redirect(url_for("qa.lot", lot_id=lot_id))

    return submit(form, release_it, lambda refusal: _render_lot(lot_id, problem=refusal, action="release"))


@bp.route("/lots/<lot_id>/reject", methods=["POST"])
@roles_required("qa", action=N_("reject a lot"))
def reject_lot(lot_id: str):
    form = RejectForm()

    def reject_it():
        release.reject(db.session(), actor=current_user(), lot_number=lot_id, signature=form.signature(),
                       reason=form.reason.data or "", policy=policy(),
                       ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("lot_rejected", lot_id=lot_id), "success")
        return redirect(url_for("qa.lot", lot_id=lot_id))

    return submit(form, reject_it, lambda refusal: _render_lot(lot_id, problem=refusal, action="reject"))


@bp.route("/certificates/<lot_id>/verify")
@login_required
def verify_certificate(lot_id: str):
    check = release.verify_certificate(db.session(), lot_id, request.args.get("h", ""))
    codes = []
    if check.signature is not None:  # the certificate QA signed carries this link; without a decision there is none
        url = url_for("qa.verify_certificate", lot_id=check.lot.lot_number, h=check.signature.record_hash,
                      _external=True)
        codes = [pictures.qr(N_("signed certificate's check link"), url)]
    return render_template("qa/verify.html", check=check, codes=codes)


# --- deviations -----------------------------------------------------------------------------------------

@bp.route("/deviations")
@roles_required(*VIEWERS, action=N_("see deviations"))
def deviation_list():
    status = request.args.get("status") or None
    page = deviations.page_of(db.session(), page_request(), status=status)
    return render_template("qa/deviations.html", page=page, rows=page.rows, status=status or "")


def _render_deviation(number: str, *, problem: Refusal | None = None) -> str:
    row = deviations.get(db.session(), number)
    return render_template("qa/deviation.html", d=row, lot=deviations.lot_of(db.session(), row), problem=problem,
                           can_act="qa" in current_user().roles)


@bp.route("/deviations/<number>")
@roles_required(*VIEWERS, action=N_("see a deviation"))
def deviation(number: str):
    return _render_deviation(number)


@bp.route("/deviations", methods=["POST"])
@roles_required("qa", action=N_("open a deviation"))
def open_deviation():
    """Opened from a lot's page; a refusal shows that page again with the form open, what was typed and why
    (a lot that does not exist has no page: the form is shown on a page of its own)."""
    form = DeviationForm()

    def open_it():
        row = deviations.open_deviation(db.session(), actor=current_user(), kind=form.kind.data,
                                        description=form.description.data, lot_number=form.lot_id.data or None,
                                        test_code=form.test.data or None, tz=site_zone())
        flash(note("deviation_opened", number=row.number), "success")
        return redirect(url_for("qa.deviation", number=row.number))

    def again(refusal: Refusal) -> str:
        lot_number = form.lot_id.data if isinstance(form.lot_id.data, str) else ""
        if lot_number and deviations.lot_exists(db.session(), lot_number):
            return _render_lot(lot_number, problem=refusal, action="deviation")
        return render_template("qa/deviation_new.html", problem=refusal)

    return submit(form, open_it, again)


def _move(number: str, form: PageForm, move: Callable[[], Any]):
    def run():
        row = move()
        flash(note("deviation_moved", number=row.number, status=row.status), "success")
        return redirect(url_for("qa.deviation", number=number))

    return submit(form, run, lambda refusal: _render_deviation(number, problem=refusal))


@bp.route("/deviations/<number>/investigate", methods=["POST"])
@roles_required("qa", action=N_("investigate a deviation"))
def investigate(number: str):
    form = InvestigateForm()
    return _move(number, form, lambda: deviations.investigate(db.session(), actor=current_user(), number=number,
                                                              root_cause=form.root_cause.data,
                                                              impact=form.impact.data))


@bp.route("/deviations/<number>/decide", methods=["POST"])
@roles_required("qa", action=N_("decide a deviation"))
def decide(number: str):
    form = DecideForm()
    return _move(number, form, lambda: deviations.decide(db.session(), actor=current_user(), number=number,
                                                         decision=form.decision.data,
                                                         justification=form.justification.data))


@bp.route("/deviations/<number>/close", methods=["POST"])
@roles_required("qa", action=N_("close a deviation"))
def close(number: str):
    form = CloseForm()
    return _move(number, form, lambda: deviations.close(db.session(), actor=current_user(), number=number,
                                                        signature=form.signature(), policy=policy()))


# --- holds ----------------------------------------------------------------------------------------------

HOLD_VIEWERS = ("qa", "investigator", "auditor")


@bp.route("/holds")
@roles_required(*HOLD_VIEWERS, action=N_("see holds"))
def hold_list():
    page = holds.page_of(db.session(), page_request())
    return render_template("qa/holds.html", page=page, rows=page.rows)


def _render_hold(hold_id: int, *, problem: Refusal | None = None, form: PageForm | None = None) -> str:
    return render_template("qa/hold.html", h=holds.detail(db.session(), hold_id), problem=problem,
                           can_lift="qa" in current_user().roles, form=form or {})


@bp.route("/holds/<int:hold_id>")
@roles_required(*HOLD_VIEWERS, action=N_("see a hold"))
def hold(hold_id: int):
    return _render_hold(hold_id)


@bp.route("/holds/<int:hold_id>/lift", methods=["POST"])
@roles_required("qa", action=N_("lift a hold"))
def lift_hold(hold_id: int):
    form = LiftHoldForm()

    def lift_it():
        holds.lift(db.session(), actor=current_user(), hold_id=hold_id, signature=form.signature(),
                   reason=form.reason.data or "", policy=policy())
        flash(note("hold_lifted", hold_id=hold_id), "success")
        return redirect(url_for("qa.hold", hold_id=hold_id))

    return submit(form, lift_it, lambda refusal: _render_hold(hold_id, problem=refusal, form=form))
