"""The look-back pages (``/lookback/<kind>/<code>``: the page, its CSV and PDF), reachable from every cord,
bank, lot and bag page; QA holds the item (or recalls it) from the same page. docs/rules.md, "Quality:
look-back" and "Quality: holds"."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.people.security import current_user, policy, roles_required
from cellchain.quality import holds
from cellchain.quality.forms import PlaceHoldForm
from cellchain.quality.recall import exports, lookback

bp = Blueprint("recall", __name__)
VIEWERS = ("qa", "investigator", "auditor")


def _render(kind: str, code: str, *, problem: Refusal | None = None, form: PlaceHoldForm | None = None) -> str:
    session = db.session()
    found = lookback.lookback(session, kind, code)
    return render_template("qa/lookback.html", lb=found, open_hold=holds.open_on(session, found.kind, found.item.id),
                           can_hold="qa" in current_user().roles, problem=problem, form=form or {})


@bp.route("/lookback/<kind>/<code>")
@roles_required(*VIEWERS, action=N_("see a look-back"))
def page(kind: str, code: str):
    return _render(kind, code)


@bp.route("/lookback/<kind>/<code>/lookback.csv")
@roles_required(*VIEWERS, action=N_("download a look-back"))
def as_csv(kind: str, code: str):
    found = lookback.lookback(db.session(), kind, code)
    return Response(exports.to_csv(found), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=lookback-{found.kind}-{found.code}.csv"})


@bp.route("/lookback/<kind>/<code>/lookback.pdf")
@roles_required(*VIEWERS, action=N_("download a look-back"))
def as_pdf(kind: str, code: str):
    found = lookback.lookback(db.session(), kind, code)
    pdf = exports.render(found, site=current_app.config["SITE_NAME"], timezone=current_app.config["SITE_TIMEZONE"])
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=lookback-{found.kind}-{found.code}.pdf"})


@bp.route("/lookback/<kind>/<code>/hold", methods=["POST"])
@roles_required("qa", action=N_("place a hold"))
def place(kind: str, code: str):
    form = PlaceHoldForm()

    def place_it():
        row = holds.place(db.session(), actor=current_user(), item_kind=kind, item_code=code,
                          reason=form.reason.data or "", recall=form.recall.data == "yes",
                          signature=form.signature(), policy=policy())
        flash(note("recall_placed" if row.recall else "hold_placed", id=row.id), "success")
        return redirect(url_for("qa.hold", hold_id=row.id))

    return submit(form, place_it, lambda refusal: _render(kind, code, problem=refusal, form=form))
