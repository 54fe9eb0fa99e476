"""Safety pages: the adverse-event listing with the summary by arm (page, CSV, PDF), recording an event for a
subject, and one event's page, where it is amended, confirmed and reported (docs/rules.md, "Safety"); the
register of clinical protocol deviations, one deviation's page with its signed decision and closing, and
opening one by hand for a subject (docs/rules.md, "Clinical protocol deviations")."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cellchain.core import db
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.types import utcnow
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.people.security import current_user, policy, roles_required
from cellchain.safety import clinical_deviations, events, exports, sae
from cellchain.safety.forms import (
    ClinicalCloseForm,
    ClinicalDecisionForm,
    ClinicalDeviationForm,
    ConfirmForm,
    EventForm,
    ReportForm,
)
from cellchain.safety.models import CLINICAL_DEVIATION_KINDS, CLINICAL_DEVIATION_STATUSES
from cellchain.safety.rules import clock, terms
from cellchain.trial import subjects, visits
from cellchain.trial.models import Subject
from cellchain.trial.subject_record import infusions_of

bp = Blueprint("safety", __name__, url_prefix="/safety")


def _zone() -> str:
    return current_app.config["SITE_TIMEZONE"]


def _vocabulary() -> dict:
    return {"terms": terms, "clock_states": {clock.DUE: _("due"), clock.OVERDUE: _("OVERDUE"),
                                             clock.SENT: _("sent in time"), clock.SENT_LATE: _("sent late")}}


@bp.route("/")
@roles_required(*events.READERS, action=N_("read adverse events"))
def index():
    session = db.session()
    rows = events.listing(session)
    return render_template("safety/index.html", rows=rows, arms=exports.summary_of(rows), clocks=sae.clocks(session),
                           **_vocabulary())


@bp.route("/listing.csv")
@roles_required(*events.READERS, action=N_("read adverse events"))
def listing_csv():
    return Response(exports.to_csv(events.listing(db.session())), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=adverse-events.csv"})


@bp.route("/listing.pdf")
@roles_required(*events.READERS, action=N_("read adverse events"))
def listing_pdf():
    pdf = exports.render(events.listing(db.session()), site=current_app.config["SITE_NAME"], timezone=_zone())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=adverse-events.pdf"})


def _new_page(subject: Subject, form: EventForm, problem: Refusal | None = None) -> str:
    return render_template("safety/new.html", subject=subject, form=form, problem=problem,
                           infusions=infusions_of(db.session(), subject), **_vocabulary())


@bp.route("/subjects/<subject_code>/new")
@roles_required(*events.RECORDERS, action=N_("record an adverse event"))
def new_event(subject_code: str):
    return _new_page(subjects.get_subject(db.session(), subject_code), EventForm())


@bp.route("/subjects/<subject_code>/events", methods=["POST"])
@roles_required(*events.RECORDERS, action=N_("record an adverse event"))
def record_event(subject_code: str):
    form = EventForm()
    subject = subjects.get_subject(db.session(), subject_code)

    def record_it():
        event = events.record(db.session(), actor=current_user(), subject_code=subject_code,
                              data=form.assessment(), timezone=_zone())
        flash(note("event_drafted", id=event.id), "success")
        return redirect(url_for("safety.event", event_id=event.id))

    return submit(form, record_it, lambda refusal: _new_page(subject, form, refusal))


def _event_page(event_id: int, *, problem: Refusal | None = None, form=None, posted: str = "") -> str:
    session = db.session()
    found = events.detail(session, event_id)
    user = current_user()
    subject = session.get(Subject, found.event.subject_id)
    can_amend = "investigator" in user.roles or ("coordinator" in user.roles and found.event.status == "draft")
    return render_template("safety/event.html", d=found, e=found.event, now=utcnow(), problem=problem,
                           form=form or EventForm(formdata=None), posted=posted, can_amend=can_amend,
                           is_investigator="investigator" in user.roles,
                           infusions=infusions_of(session, subject), **_vocabulary())


@bp.route("/events/<int:event_id>")
@roles_required(*events.READERS, action=N_("read adverse events"))
def event(event_id: int):
    return _event_page(event_id)


@bp.route("/events/<int:event_id>/amend", methods=["POST"])
@roles_required(*events.RECORDERS, action=N_("amend an adverse event"))
def amend_event(event_id: int):
    form = EventForm()

    def amend_it():
        events.amend(db.session(), actor=current_user(), event_id=event_id, data=form.assessment(), timezone=_zone())
        flash(note("event_amended", id=event_id), "success")
        return redirect(url_for("safety.event", event_id=event_id))

    return submit(form, amend_it, lambda refusal: _event_page(event_id, problem=refusal, form=form, posted="amend"))


@bp.route("/events/<int:event_id>/confirm", methods=["POST"])
@roles_required("investigator", action=N_("confirm an adverse event"))
def confirm_event(event_id: int):
    form = ConfirmForm()

    def confirm_it():
        events.confirm(db.session(), actor=current_user(), event_id=event_id, signature=form.signature(),
                       policy=policy())
        flash(note("event_confirmed", id=event_id), "success")
        return redirect(url_for("safety.event", event_id=event_id))

    return submit(form, confirm_it, lambda refusal: _event_page(event_id, problem=refusal, posted="confirm"))


@bp.route("/events/<int:event_id>/report", methods=["POST"])
@roles_required("investigator", action=N_("report a serious adverse event"))
def report_event(event_id: int):
    form = ReportForm()

    def report_it():
        row = sae.report(db.session(), actor=current_user(), event_id=event_id, signature=form.signature(),
                         sent_at=form.sent_at.data, sent_to=form.sent_to.data, policy=policy())
        flash(note("event_reported", report=row.kind.replace("_", "-").capitalize(), id=event_id), "success")
        return redirect(url_for("safety.event", event_id=event_id))

    return submit(form, report_it, lambda refusal: _event_page(event_id, problem=refusal, posted="report"))


# --- clinical protocol deviations ------------------------------------------------------------------------

@bp.route("/deviations")
@roles_required(*clinical_deviations.READERS, action=N_("read clinical protocol deviations"))
def deviations():
    """The register, newest first, a page at a time; filters: status (or not closed), kind, subject."""
    filters = {name: (request.args.get(name) or "").strip() for name in ("status", "kind", "subject_id")}
    page = clinical_deviations.page_of(db.session(), page_request(), status=filters["status"] or None,
                                       kind=filters["kind"] or None, subject_code=filters["subject_id"] or None)
    return render_template("safety/deviations.html", page=page, rows=page.rows, filters=filters,
                           statuses=(clinical_deviations.NOT_CLOSED, *CLINICAL_DEVIATION_STATUSES),
                           kinds=CLINICAL_DEVIATION_KINDS,
                           can_open=bool(current_user().roles & set(clinical_deviations.OPENERS)))


def _new_deviation_page(subject: Subject, problem: Refusal | None = None) -> str:
    return render_template("safety/deviation_new.html", subject=subject, problem=problem,
                           kinds=CLINICAL_DEVIATION_KINDS, visits=visits.visits_of(db.session(), subject))


@bp.route("/subjects/<subject_code>/deviations/new")
@roles_required(*clinical_deviations.OPENERS, action=N_("open a clinical protocol deviation"))
def new_deviation(subject_code: str):
    return _new_deviation_page(subjects.get_subject(db.session(), subject_code))


@bp.route("/subjects/<subject_code>/deviations", methods=["POST"])
@roles_required(*clinical_deviations.OPENERS, action=N_("open a clinical protocol deviation"))
def open_deviation(subject_code: str):
    form = ClinicalDeviationForm()
    subject = subjects.get_subject(db.session(), subject_code)

    def open_it():
        row = clinical_deviations.open_by_hand(db.session(), actor=current_user(), subject_code=subject_code,
                                               kind=form.kind.data, description=form.description.data,
                                               visit_id=form.visit_id.data)
        flash(note("clinical_deviation_opened", number=clinical_deviations.number(row.id)), "success")
        return redirect(url_for("safety.deviation", deviation_id=row.id))

    return submit(form, open_it, lambda refusal: _new_deviation_page(subject, refusal))


def _deviation_page(deviation_id: int, problem: Refusal | None = None, posted: str = "") -> str:
    roles = current_user().roles
    return render_template("safety/deviation.html", d=clinical_deviations.detail(db.session(), deviation_id),
                           problem=problem, posted=posted,
                           can_decide=bool(roles & set(clinical_deviations.DECIDERS)),
                           can_close=bool(roles & set(clinical_deviations.CLOSERS)))


@bp.route("/deviations/<int:deviation_id>")
@roles_required(*clinical_deviations.READERS, action=N_("read clinical protocol deviations"))
def deviation(deviation_id: int):
    return _deviation_page(deviation_id)


@bp.route("/deviations/<int:deviation_id>/decision", methods=["POST"])
@roles_required(*clinical_deviations.DECIDERS, action=N_("decide a clinical protocol deviation"))
def decide_deviation(deviation_id: int):
    form = ClinicalDecisionForm()

    def decide_it():
        row = clinical_deviations.decide(db.session(), actor=current_user(), deviation_id=deviation_id,
                                         signature=form.signature(), note=form.note.data, policy=policy())
        flash(note("clinical_deviation_decided", number=clinical_deviations.number(row.id), status=row.status),
              "success")
        return redirect(url_for("safety.deviation", deviation_id=deviation_id))

    return submit(form, decide_it, lambda refusal: _deviation_page(deviation_id, refusal, posted="decide"))


@bp.route("/deviations/<int:deviation_id>/close", methods=["POST"])
@roles_required(*clinical_deviations.CLOSERS, action=N_("close a clinical protocol deviation"))
def close_deviation(deviation_id: int):
    form = ClinicalCloseForm()

    def close_it():
        clinical_deviations.close(db.session(), actor=current_user(), deviation_id=deviation_id, note=form.note.data)
        flash(note("clinical_deviation_closed", number=clinical_deviations.number(deviation_id)), "success")
        return redirect(url_for("safety.deviation", deviation_id=deviation_id))

    return submit(form, close_it, lambda refusal: _deviation_page(deviation_id, refusal, posted="close"))
