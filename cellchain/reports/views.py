"""Reports: chain of custody per bag, bag accountability, subject dosing, and QA's excursion decisions."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.core.page_forms import Refusal, site_zone, submit
from cellchain.core.types import utcnow
from cellchain.core.web import page_request
from cellchain.core.words import N_, translated
from cellchain.core.words.notes import note
from cellchain.people.security import current_user, policy, roles_required
from cellchain.reports import accountability, dosing
from cellchain.reports.forms import ExcursionDecisionForm
from cellchain.scanning import resolver
from cellchain.storage import temperatures
from cellchain.ward import custody, custody_report

bp = Blueprint("reports", __name__, url_prefix="/reports")
REPORT_ROLES = ("qa", "auditor", "coordinator", "investigator")
CUSTODY_ROLES = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={name}"})


def _site() -> dict[str, str]:
    return {"site": current_app.config["SITE_NAME"], "timezone": current_app.config["SITE_TIMEZONE"]}


@bp.route("/")
@roles_required(*REPORT_ROLES, action=N_("open the reports"))
def index():
    return render_template("reports/index.html")


# --- chain of custody -----------------------------------------------------------------------------------

@bp.route("/custody")
@roles_required(*CUSTODY_ROLES, action=N_("read a chain of custody"))
def find_bag():
    """A scan box: the bag's 2D code or id opens its chain of custody."""
    scan = request.args.get("scan", "").strip()
    if not scan:
        return render_template("reports/find_bag.html")
    found = resolver.identify(db.session(), scan, tz=site_zone(), field="scan")
    if found.kind != "bag":
        raise Invalid({"scan": translated(N_("this is a {kind}; scan a bag's 2D code or type its bag id"))
                       .format(kind=found.kind)})
    return redirect(url_for("reports.bag_custody", bag_code=found.record.bag_code))


@bp.route("/bags/<bag_code>/custody")
@roles_required(*CUSTODY_ROLES, action=N_("read a chain of custody"))
def bag_custody(bag_code: str):
    return render_template("reports/custody.html", report=custody_report.gather(db.session(), bag_code))


@bp.route("/bags/<bag_code>/chain-of-custody.pdf")
@roles_required(*CUSTODY_ROLES, action=N_("print a chain-of-custody report"))
def bag_custody_pdf(bag_code: str):
    report = custody_report.gather(db.session(), bag_code)
    return _pdf(custody_report.render(report, **_site()), f"chain-of-custody-{bag_code}.pdf")


# --- temperature excursions (QA decides) ----------------------------------------------------------------

def _excursions_page(problem: Refusal | None = None) -> str:
    session = db.session()
    page = custody.page_of_excursions(session, page_request())
    codes = custody.item_codes(session, [(x.item_type, x.item_id) for x in page.rows])
    rows = [(x, codes[x.item_type, x.item_id]) for x in page.rows]
    found = temperatures.where_found(session, [x.storage_reading_id for x, _ in rows if x.storage_reading_id])
    return render_template("reports/excursions.html", page=page, rows=rows, found=found,
                           can_decide="qa" in current_user().roles, problem=problem)


@bp.route("/excursions")
@roles_required("qa", "auditor", action=N_("review temperature excursions"))
def excursions():
    return _excursions_page()


@bp.route("/excursions/<int:excursion_id>/decide", methods=["POST"])
@roles_required("qa", action=N_("decide a temperature excursion"))
def decide_excursion(excursion_id: int):
    form = ExcursionDecisionForm()

    def decide():
        row = custody.decide_excursion(db.session(), actor=current_user(), excursion_id=excursion_id,
                                       accept=form.decision.data == "accept", reason=form.reason.data or "",
                                       signature=form.signature(), policy=policy(),
                                       ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("excursion_decided", id=row.id, decision=row.status), "success")
        return redirect(url_for("reports.excursions"))

    return submit(form, decide, lambda refusal: _excursions_page(problem=refusal))


# --- accountability and dosing --------------------------------------------------------------------------

@bp.route("/accountability")
@roles_required(*REPORT_ROLES, action=N_("read bag accountability"))
def accountability_page():
    session, now = db.session(), utcnow()
    lots = accountability.page_of_lots(session, page_request(), now=now)
    placebo = [] if request.args.get("cursor") else accountability.placebo_groups(session, now=now)
    return render_template("reports/accountability.html", page=lots, groups=[*lots.rows, *placebo],
                           totals=accountability.totals(session, now=now), columns=accountability.COLUMNS)


@bp.route("/accountability.csv")
@roles_required(*REPORT_ROLES, action=N_("export bag accountability"))
def accountability_csv():
    return Response(accountability.to_csv(accountability.gather(db.session())), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=bag-accountability.csv"})


@bp.route("/accountability.pdf")
@roles_required(*REPORT_ROLES, action=N_("print bag accountability"))
def accountability_pdf():
    return _pdf(accountability.render(accountability.gather(db.session()), **_site()), "bag-accountability.pdf")


def _dosing() -> list[dosing.SubjectDoses]:
    cfg = current_app.config
    return dosing.gather(db.session(), cells_per_kg=cfg["DOSE_CELLS_PER_KG"],
                         placebo_volume_ml=cfg["PLACEBO_VOLUME_ML"])


@bp.route("/dosing")
@roles_required(*REPORT_ROLES, action=N_("read the dosing summary"))
def dosing_page():
    return render_template("reports/dosing.html", summary=_dosing(), amount=dosing.amount)


@bp.route("/dosing.pdf")
@roles_required(*REPORT_ROLES, action=N_("print the dosing summary"))
def dosing_pdf():
    return _pdf(dosing.render(_dosing(), **_site()), "dosing-summary.pdf")
