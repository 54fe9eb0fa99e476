"""QC pages: the work list of lots and their missing tests, and result entry per lot."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid, Refused
from cellchain.manufacturing.lot_access import get_lot
from cellchain.people.security import current_user, roles_required
from cellchain.quality import deviations, qc

bp = Blueprint("qc", __name__, url_prefix="/qc")
VIEWERS = ("qc", "qa", "auditor")


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


@bp.route("/")
@roles_required(*VIEWERS, action="see the QC work list")
def index():
    return render_template("qc/index.html", work=qc.work_list(db.session()))


def _render_lot(lot_id: str, *, status: int = 200, fields: dict | None = None, reasons: list | None = None,
                form: dict | None = None):
    session = db.session()
    lot = get_lot(session, lot_id)
    user = current_user()
    rows = deviations.listing(session, lot=lot)
    return render_template("qc/lot.html", lot=lot, lines=qc.table(session, lot), lot_deviations=rows,
                           accepted=deviations.accepted_test_codes(rows),
                           can_record="qc" in user.roles and lot.status in qc.TESTABLE_STATUSES,
                           fields=fields or {}, reasons=reasons or [], form=form or {}), status


@bp.route("/lots/<lot_id>")
@roles_required(*VIEWERS, action="see a lot's QC results")
def lot(lot_id: str):
    return _render_lot(lot_id)


def _form_time(text: str) -> str | datetime:
    """A ``datetime-local`` field is a wall-clock time at the site: give it the site's zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the service's parser names the field
    return moment if moment.tzinfo else moment.replace(tzinfo=site_zone())


@bp.route("/lots/<lot_id>/results", methods=["POST"])
@roles_required("qc", action="record a QC result")
def record(lot_id: str):
    form = request.form.to_dict()
    data = dict(form)
    if data.get("tested_at"):
        data["tested_at"] = _form_time(data["tested_at"])
    try:
        entry = qc.parse_result(data)
        row = qc.record_result(db.session(), actor=current_user(), lot_number=lot_id, entry=entry, tz=site_zone())
    except Invalid as error:
        db.rollback()
        return _render_lot(lot_id, status=400, fields=error.fields, form=form)
    except Refused as error:
        db.rollback()
        return _render_lot(lot_id, status=409, reasons=error.reasons, form=form)
    if row.within_spec:
        flash(f"{row.test_code} = {row.value}: within specification ({row.limit_text}).", "success")
    else:
        opened = deviations.for_result(db.session(), row)
        flash(f"{row.test_code} = {row.value}: OUT OF SPECIFICATION ({row.limit_text}); "
              f"deviation {opened.number if opened else ''} opened for QA.", "warning")
    return redirect(url_for("qc.lot", lot_id=lot_id))
