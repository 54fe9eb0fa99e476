"""QC pages: the work list of lots and their missing tests, and result entry per lot."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from cellchain.core import db
from cellchain.core.page_forms import Refusal, site_zone, submit
from cellchain.core.words import N_
from cellchain.core.words.notes import note, notes
from cellchain.manufacturing.lot_access import get_lot
from cellchain.people.security import current_user, roles_required
from cellchain.quality import deviations, qc
from cellchain.quality.forms import ResultForm, ResultsForm
from cellchain.quality.rules import spec_limits

bp = Blueprint("qc", __name__, url_prefix="/qc")
VIEWERS = ("qc", "qa", "auditor")
# A standard test's name and method in the reader's language on every page that lists a specification's
# tests (QC, QA review); the stored specification keeps its English.
bp.add_app_template_filter(spec_limits.shown, "spec_words")


@bp.route("/")
@roles_required(*VIEWERS, action=N_("see the QC work list"))
def index():
    return render_template("qc/index.html", work=qc.work_list(db.session()))


def _render_lot(lot_id: str, refusal: Refusal | None = None, form: ResultForm | None = None) -> str:
    session = db.session()
    lot = get_lot(session, lot_id)
    user = current_user()
    rows = deviations.listing(session, lot=lot)
    return render_template("qc/lot.html", lot=lot, lines=qc.table(session, lot), lot_deviations=rows,
                           accepted=deviations.accepted_test_codes(rows),
                           can_record="qc" in user.roles and lot.status in qc.RESULT_STATUSES,
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or {}, stages=spec_limits.SAMPLE_STAGES)


@bp.route("/lots/<lot_id>")
@roles_required(*VIEWERS, action=N_("see a lot's QC results"))
def lot(lot_id: str):
    return _render_lot(lot_id)


@bp.route("/lots/<lot_id>/results", methods=["POST"])
@roles_required("qc", action=N_("record a QC result"))
def record(lot_id: str):
    form = ResultForm()

    def record_result():
        entry = qc.parse_result(form.result())
        row = qc.record_result(db.session(), actor=current_user(), lot_number=lot_id, entry=entry, tz=site_zone())
        if row.within_spec:
            flash(note("qc_within_spec", test_code=row.test_code, value=row.value, limit=row.limit_text), "success")
        else:
            opened = deviations.for_result(db.session(), row)
            flash(notes(note("qc_out_of_spec", test_code=row.test_code, value=row.value, limit=row.limit_text,
                             number=opened.number if opened else ""),
                        note("qc_lot_held") if row.after_release else ""), "warning")
        return redirect(url_for("qc.lot", lot_id=lot_id))

    return submit(form, record_result, lambda refusal: _render_lot(lot_id, refusal, form))


def _render_batch(lot_id: str, refusal: Refusal | None = None, form: ResultsForm | None = None) -> str:
    session = db.session()
    lot = get_lot(session, lot_id)
    return render_template("qc/batch.html", lot=lot, lines=qc.open_lines(session, lot),
                           can_record=lot.status in qc.RESULT_STATUSES, stages=spec_limits.SAMPLE_STAGES,
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or {})


@bp.route("/lots/<lot_id>/batch")
@roles_required("qc", action=N_("record QC results"))
def batch(lot_id: str):
    """Every test of the lot still without a result, one row each, on one form."""
    return _render_batch(lot_id)


@bp.route("/lots/<lot_id>/batch", methods=["POST"])
@roles_required("qc", action=N_("record QC results"))
def record_batch(lot_id: str):
    form = ResultsForm()

    def record_results():
        session = db.session()
        # every test of the specification: a row another analyst resulted meanwhile is named, not dropped
        codes = [line.test.code for line in qc.table(session, get_lot(session, lot_id))]
        rows = qc.record_results(session, actor=current_user(), lot_number=lot_id, rows=form.rows(codes),
                                 tz=site_zone())
        out = [row.test_code for row in rows if not row.within_spec]
        flash(notes(note("qc_results_recorded", results=_("1 result") if len(rows) == 1
                         else _("%(count)s results", count=len(rows))),
                    note("qc_results_out_of_spec", tests=", ".join(out)) if out else ""),
              "warning" if out else "success")
        return redirect(url_for("qc.lot", lot_id=lot_id))

    return submit(form, record_results, lambda refusal: _render_batch(lot_id, refusal, form))
