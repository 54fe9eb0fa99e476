"""Trial coordinator pages: subjects, screening, randomization, visit calendar, bag allocation.

Each form posts to one service call. A refusal re-renders the page it came from with every reason
(status 400 or 409), so the coordinator keeps what was typed. No page shows the randomization list's
entries or seed, nor what the next assignment would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlmodel import select

from cellchain.core import db
from cellchain.core.errors import Invalid, Refused
from cellchain.labelling import record_codes
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing.models import Bag
from cellchain.people.security import current_user, roles_required
from cellchain.trial import allocation, randomization, subjects, visits
from cellchain.trial.models import Subject
from cellchain.trial.rules import eligibility
from cellchain.trial.rules.schedule import FOLLOW_UP, INFUSION
from cellchain.ward.models import Infusion

bp = Blueprint("trial", __name__, url_prefix="/trial")

READERS = ("coordinator", "auditor")
CRITERIA_LABELS = {
    "meets_transplant_criteria": "Meets the criteria for liver transplantation",
    "first_transplant": "This is the subject's first liver transplant",
    "liver_only": "The transplant is of the liver only",
    "consent_signed": "Written informed consent is signed",
    "willing_to_comply": "Willing to attend the study visits",
    "prior_other_organ_transplant": "Previously received or receiving an organ transplant other than a liver",
    "vital_organ_failure": "Failure of a vital organ (heart, kidney, lung)",
    "investigational_drug_within_30_days": "Investigational drug now or within 30 days before transplant",
    "on_immunosuppressant": "Currently receiving an immunosuppressive agent",
    "active_infection": "Clinically active bacterial, fungal, viral or parasitic infection",
    "pregnant_or_lactating": "Pregnant or lactating",
}
STATUS_TEXT = {"screen_failure": "Screen failure", "awaiting_randomization": "Eligible, awaiting randomization",
               "randomized": "Randomized"}
VISIT_TEXT = {"planned": "Planned", "done": "Done", "missed": "Missed", "out_of_window": "Done out of window"}


@dataclass(frozen=True)
class CalendarRow:
    """A visit as the page shows it, with what the coordinator may do there (decided here, not in Jinja)."""

    state: visits.VisitState
    bag_code: str | None
    can_allocate: bool
    can_record: bool


def _zone() -> str:
    return current_app.config["SITE_TIMEZONE"]


def _today():
    return visits.site_today(_zone())


def _is_coordinator() -> bool:
    return "coordinator" in current_user().roles


@bp.route("/")
@roles_required(*READERS, action="see the trial's subjects")
def index():
    session, today = db.session(), _today()
    rows = []
    for subject in subjects.list_subjects(session):
        due = visits.next_due(visits.calendar(session, subject, today=today, timezone=_zone()))
        rows.append((subject, STATUS_TEXT[subjects.status_of(subject)], due))
    return render_template("trial/index.html", rows=rows, can_edit=_is_coordinator())


def _form_answers(form) -> dict[str, Any]:
    """Form text to the API's shapes: yes/no radios to booleans; an unanswered criterion stays None."""
    data: dict[str, Any] = {k: form.get(k) or None for k in ("screening_number", "birth_date", "day0", "sex",
                                                             "pregnancy_test")}
    weight = form.get("weight_kg", "").strip()
    try:
        data["weight_kg"] = float(weight) if weight else None
    except ValueError:
        data["weight_kg"] = weight
    for name in eligibility.BOOL_FIELDS:
        data[name] = {"yes": True, "no": False}.get(form.get(name, ""))
    return data


def _register_form(status: int = 200, **context):
    return render_template("trial/register.html", criteria=CRITERIA_LABELS, inclusion=eligibility.INCLUSION,
                           form=request.form, **context), status


@bp.route("/subjects/new")
@roles_required("coordinator", action="register trial subjects")
def new_subject():
    return _register_form()


@bp.route("/subjects", methods=["POST"])
@roles_required("coordinator", action="register trial subjects")
def register():
    try:
        subject = subjects.register(db.session(), actor=current_user(), data=_form_answers(request.form),
                                    protocol=subjects.Protocol.from_config(current_app.config))
    except Invalid as bad:
        return _register_form(400, fields=bad.fields)
    except Refused as refused:
        return _register_form(409, reasons=refused.reasons)
    verdict = "eligible" if subject.eligible else "not eligible (screen failure)"
    flash(f"{subject.subject_code} registered: {verdict}.", "success")
    return redirect(url_for("trial.subject", subject_code=subject.subject_code))


def _calendar(session, subject: Subject) -> list[CalendarRow]:
    """The calendar with its actions: a bag goes to the next open infusion visit without one, a follow-up
    is recorded once its window has opened."""
    today, editable = _today(), _is_coordinator() and subject.arm is not None
    states = visits.calendar(session, subject, today=today, timezone=_zone())
    upcoming = next((s.visit.id for s in states
                     if s.visit.kind == INFUSION and s.open_for_work and s.allocation is None), None)
    rows = []
    for state in states:
        bag = session.get(Bag, state.allocation.bag_id) if state.allocation else None
        visit = state.visit
        rows.append(CalendarRow(
            state, bag.bag_code if bag else None,
            can_allocate=editable and visit.id == upcoming,
            can_record=editable and visit.kind == FOLLOW_UP and visit.status != "done"
            and today >= visit.window_start))
    return rows


def _subject_page(subject_code: str, status: int = 200, **context):
    session = db.session()
    subject = subjects.get_subject(session, subject_code)
    infusions = session.exec(select(Infusion).where(Infusion.subject_id == subject.id)
                             .order_by(Infusion.started_at)).all()
    bags = {a.bag_id: session.get(Bag, a.bag_id) for a in allocation.allocations_of(session, subject)}
    return render_template(
        "trial/subject.html", subject=subject, status_text=STATUS_TEXT[subjects.status_of(subject)],
        calendar=_calendar(session, subject), visit_text=VISIT_TEXT, infusions=infusions, bags=bags,
        codes=record_codes.subject_codes(subject, LabelSettings.from_config(current_app.config)),
        can_randomize=_is_coordinator() and subject.eligible and subject.arm is None, **context), status


@bp.route("/subjects/<subject_code>")
@roles_required(*READERS, action="see a trial subject")
def subject(subject_code: str):
    return _subject_page(subject_code)


def _refusal_page(subject_code: str, error: Invalid | Refused):
    db.rollback()
    if isinstance(error, Invalid):
        return _subject_page(subject_code, 400, fields=error.fields)
    return _subject_page(subject_code, 409, reasons=error.reasons)


@bp.route("/subjects/<subject_code>/randomize", methods=["POST"])
@roles_required("coordinator", action="randomize subjects")
def randomize(subject_code: str):
    if request.form.get("confirm", "").strip().upper() != subject_code.upper():
        return _subject_page(subject_code, 400, fields={"confirm": f"type {subject_code} to confirm; "
                                                                   "a randomization cannot be undone"})
    try:
        done = randomization.randomize(db.session(), actor=current_user(), subject_code=subject_code,
                                       planned_subjects=current_app.config["TRIAL_PLANNED_SUBJECTS"])
    except (Invalid, Refused) as error:
        return _refusal_page(subject_code, error)
    flash(f"{done.subject_code} randomized to arm {done.arm}.", "success")
    return redirect(url_for("trial.subject", subject_code=subject_code))


def _visit_subject_code(visit_id: int) -> str:
    session = db.session()
    return session.get(Subject, visits.get_visit(session, visit_id).subject_id).subject_code


@bp.route("/visits/<int:visit_id>/allocation", methods=["POST"])
@roles_required("coordinator", action="allocate bags")
def allocate(visit_id: int):
    code = _visit_subject_code(visit_id)
    weight = request.form.get("weight_kg", "").strip()
    try:
        weight_kg: Any = float(weight) if weight else None
    except ValueError:
        weight_kg = weight
    try:
        row = allocation.allocate(db.session(), actor=current_user(), visit_id=visit_id,
                                  bag_scan=request.form.get("scan", ""), weight_kg=weight_kg,
                                  protocol=subjects.Protocol.from_config(current_app.config), today=_today())
    except (Invalid, Refused) as error:
        return _refusal_page(code, error)
    bag = db.session().get(Bag, row.bag_id)
    flash(f"{bag.bag_code} allocated to {code}; its label now needs the recipient reprint.", "success")
    return redirect(url_for("trial.subject", subject_code=code))


@bp.route("/visits/<int:visit_id>/done", methods=["POST"])
@roles_required("coordinator", action="record a follow-up visit")
def follow_up_done(visit_id: int):
    code = _visit_subject_code(visit_id)
    try:
        visit = visits.record_follow_up(db.session(), actor=current_user(), visit_id=visit_id, timezone=_zone())
    except (Invalid, Refused) as error:
        return _refusal_page(code, error)
    flash(f"Week {visit.week} follow-up of {code} recorded as done.", "success")
    return redirect(url_for("trial.subject", subject_code=code))


@bp.route("/balance")
@roles_required(*READERS, "admin", action="see the arm balance")
def balance():
    session = db.session()
    return render_template("trial/balance.html", balance=randomization.balance(session),
                           check=randomization.verify(session),
                           can_extend=bool(current_user().roles & set(randomization.LIST_ROLES)))


@bp.route("/balance/extend", methods=["POST"])
@roles_required(*randomization.LIST_ROLES, action="extend the randomization list")
def extend_list():
    extra = request.form.get("extra", "").strip()
    row = randomization.extend(db.session(), actor=current_user(), extra=int(extra) if extra.isdigit() else extra,
                               reason=request.form.get("reason", ""))
    flash(f"Randomization list extended; {row.next_position - 1} positions used. New fingerprint recorded.",
          "success")
    return redirect(url_for("trial.balance"))
