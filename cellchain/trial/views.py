"""Trial coordinator pages: subjects, screening, randomization, visit calendar, bag allocation.

Each form posts to one service call. A refusal re-renders the page it came from with every reason
(status 400 or 409), so the coordinator keeps what was typed. No page shows the randomization list's
entries or seed, nor what the next assignment would be.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.core.page_forms import PageForm, Refusal, submit
from cellchain.core.web import localtime, page_request
from cellchain.core.words import N_, translated
from cellchain.core.words.checks import reworded
from cellchain.core.words.notes import note, notes
from cellchain.core.words.numbers import count
from cellchain.labelling import record_codes
from cellchain.labelling.data import LabelSettings
from cellchain.people.security import current_user, policy, roles_required
from cellchain.safety import clinical_deviations
from cellchain.safety import events as adverse_events
from cellchain.trial import allocation, deallocation, lifecycle, randomization, subject_record, subjects, visits
from cellchain.trial.forms import (
    AllocateForm,
    DeallocateForm,
    ExtendListForm,
    MissedVisitForm,
    PlanInfusionForm,
    RandomizeForm,
    RegisterForm,
    ReturnDecisionForm,
    SubjectEndForm,
    VisitWeightForm,
)
from cellchain.trial.rules import eligibility
from cellchain.trial.rules import lifecycle as lifecycle_rules

bp = Blueprint("trial", __name__, url_prefix="/trial")

READERS = ("coordinator", "investigator", "auditor")
CRITERIA_LABELS = {
    "meets_transplant_criteria": _l("Meets the criteria for liver transplantation"),
    "first_transplant": _l("This is the subject's first liver transplant"),
    "liver_only": _l("The transplant is of the liver only"),
    "consent_signed": _l("Written informed consent is signed"),
    "willing_to_comply": _l("Willing to attend the study visits"),
    "prior_other_organ_transplant": _l("Previously received or receiving an organ transplant other than a liver"),
    "vital_organ_failure": _l("Failure of a vital organ (heart, kidney, lung)"),
    "investigational_drug_within_30_days": _l("Investigational drug now or within 30 days before transplant"),
    "on_immunosuppressant": _l("Currently receiving an immunosuppressive agent"),
    "active_infection": _l("Clinically active bacterial, fungal, viral or parasitic infection"),
    "pregnant_or_lactating": _l("Pregnant or lactating"),
}
STATUS_TEXT = {"screened": _l("Screened"), "screen_failed": _l("Screen failure"),
               "eligible": _l("Eligible, awaiting randomization"),
               "randomized": _l("Randomized, first infusion to come"), "on_treatment": _l("On treatment"),
               "treatment_completed": _l("Treatment completed, in follow-up"),
               "study_completed": _l("Study completed"), "withdrawn": _l("Withdrawn"), "died": _l("Died")}
VISIT_TEXT = {"planned": _l("Planned"), "done": _l("Done"), "missed": _l("Missed"),
              "out_of_window": _l("Done out of window"), "cancelled": _l("Cancelled")}


def _zone() -> str:
    return current_app.config["SITE_TIMEZONE"]


def _today():
    return visits.site_today(_zone())


def _is_coordinator() -> bool:
    return "coordinator" in current_user().roles


@bp.route("/")
@roles_required(*READERS, action=N_("see the trial's subjects"))
def index():
    session, today = db.session(), _today()
    page = subjects.list_subjects(session, page_request())
    calendars = visits.calendars(session, page.rows, today=today, timezone=_zone())
    rows = [(subject, STATUS_TEXT[subject.status], visits.next_due(calendars[subject.id]))
            for subject in page.rows]
    return render_template("trial/index.html", page=page, rows=rows, can_edit=_is_coordinator())


def _register_form(refusal: Refusal | None = None, form: RegisterForm | None = None) -> str:
    return render_template("trial/register.html", criteria=CRITERIA_LABELS, inclusion=eligibility.INCLUSION,
                           form=form or {}, fields=refusal.fields if refusal else {},
                           reasons=refusal.reasons if refusal else [])


@bp.route("/subjects/new")
@roles_required("coordinator", action=N_("register trial subjects"))
def new_subject():
    return _register_form()


@bp.route("/subjects", methods=["POST"])
@roles_required("coordinator", action=N_("register trial subjects"))
def register():
    form = RegisterForm()

    def register_subject():
        subject = subjects.register(db.session(), actor=current_user(), data=form.answers(),
                                    protocol=subjects.Protocol.from_config(current_app.config))
        flash(note("subject_registered" if subject.eligible else "subject_screen_failure",
                   subject_code=subject.subject_code), "success")
        return redirect(url_for("trial.subject", subject_code=subject.subject_code))

    return submit(form, register_subject, lambda refusal: _register_form(refusal, form))


def _subject_page(subject_code: str, refusal: Refusal | None = None, open_form: str = "") -> str:
    session = db.session()
    subject = subjects.get_subject(session, subject_code)
    calendar = subject_record.calendar_rows(session, subject, today=_today(), timezone=_zone(),
                                            editable=_is_coordinator() and subject.arm is not None)
    investigator = "investigator" in current_user().roles
    ae_rows = adverse_events.listing(session, subject_code=subject.subject_code)
    return render_template(
        "trial/subject.html", subject=subject, status_text=STATUS_TEXT[subject.status],
        # the screening's reasons are stored with their codes: worded again in the reader's language
        eligibility_reasons=[{"code": r["code"], "message": reworded(r["code"], r.get("params"), r["message"])}
                             for r in subject.eligibility_reasons],
        history=subject_record.state_history(session, subject),
        returns=lifecycle.returns_of(session, subject),
        can_withdraw=investigator and lifecycle_rules.may_move(subject.status, lifecycle_rules.WITHDRAWN),
        can_record_death=investigator and lifecycle_rules.may_move(subject.status, lifecycle_rules.DIED),
        fatal_events=[r for r in ae_rows if r.death_path_open], withdrawal_reasons=lifecycle_rules.WITHDRAWAL_REASONS,
        open_form=open_form,
        calendar=calendar, visit_text=VISIT_TEXT, infusions=subject_record.infusions_of(session, subject),
        bags=subject_record.allocated_bags(session, subject),
        flagged={f.visit.id: f for f in deallocation.flagged_visits(session, timezone=_zone(), today=_today(),
                                                                   subject=subject)},
        can_deallocate=_is_coordinator(),
        codes=record_codes.subject_codes(subject, LabelSettings.from_config(current_app.config)),
        can_randomize=_is_coordinator() and subject.status == lifecycle_rules.ELIGIBLE,
        adverse_events=ae_rows,
        can_record_ae=bool(current_user().roles & set(adverse_events.RECORDERS)),
        clinical_deviations=clinical_deviations.of_subject(session, subject),
        can_open_deviation=bool(current_user().roles & set(clinical_deviations.OPENERS)),
        fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [])


@bp.route("/subjects/<subject_code>")
@roles_required(*READERS, action=N_("see a trial subject"))
def subject(subject_code: str):
    return _subject_page(subject_code)


def _on_subject_page(subject_code: str, form: PageForm, action):
    """Post one of the subject page's forms; a refusal shows the subject's page again with its reasons."""
    return submit(form, action, lambda refusal: _subject_page(subject_code, refusal))


@bp.route("/subjects/<subject_code>/randomize", methods=["POST"])
@roles_required("coordinator", action=N_("randomize subjects"))
def randomize(subject_code: str):
    form = RandomizeForm()

    def randomize_subject():
        if (form.confirm.data or "").upper() != subject_code.upper():
            raise Invalid({"confirm": translated(N_(
                "type {subject_code} to confirm; a randomization cannot be undone")).format(
                subject_code=subject_code)})
        done = randomization.randomize(db.session(), actor=current_user(), subject_code=subject_code,
                                       planned_subjects=current_app.config["TRIAL_PLANNED_SUBJECTS"],
                                       fin=current_app.config["FACILITY_FIN"])
        flash(note("subject_randomized", subject_code=done.subject_code, arm=done.arm), "success")
        return redirect(url_for("trial.subject", subject_code=subject_code))

    return _on_subject_page(subject_code, form, randomize_subject)


@bp.route("/visits/<int:visit_id>/allocation", methods=["POST"])
@roles_required("coordinator", action=N_("allocate bags"))
def allocate(visit_id: int):
    code = subject_record.subject_code_of_visit(db.session(), visit_id)
    form = AllocateForm()

    def allocate_bag():
        row = allocation.allocate(db.session(), actor=current_user(), visit_id=visit_id,
                                  bag_scan=form.scan.data or "", weight_kg=form.weight(),
                                  protocol=subjects.Protocol.from_config(current_app.config), today=_today())
        bag_code = subject_record.bag_code(db.session(), row.bag_id)
        flash(note("bag_allocated", bag_code=bag_code, subject_code=code), "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, form, allocate_bag)


@bp.route("/visits/<int:visit_id>/deallocation", methods=["POST"])
@roles_required("coordinator", action=N_("take a bag off a visit"))
def deallocate(visit_id: int):
    """Take the bag off the visit with a reason; the page then offers the visit a replacement bag."""
    code = subject_record.subject_code_of_visit(db.session(), visit_id)
    form = DeallocateForm()

    def take_off():
        done = deallocation.deallocate(db.session(), actor=current_user(), visit_id=visit_id,
                                       reason=form.reason.data, timezone=_zone())
        # Its printed label still names the subject (labelling reads the allocation): reprinted before reuse.
        flash(notes(note("bag_taken_off" if done.back_to_stock else "bag_taken_off_unfit", bag_code=done.bag.bag_code,
                         week=done.visit.week),
                    note("reprint_before_reuse") if done.back_to_stock else "",
                    note("return_to_lab") if done.bag.custody_state in ("dispatched", "at_ward") else "",
                    note("scan_replacement")), "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, form, take_off)


@bp.route("/visits/<int:visit_id>/done", methods=["POST"])
@roles_required("coordinator", action=N_("record a follow-up visit"))
def follow_up_done(visit_id: int):
    code = subject_record.subject_code_of_visit(db.session(), visit_id)

    def record():
        visit = visits.record_follow_up(db.session(), actor=current_user(), visit_id=visit_id, timezone=_zone())
        flash(note("follow_up_done", week=visit.week, subject_code=code), "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, PageForm(), record)


@bp.route("/visits/<int:visit_id>/missed", methods=["POST"])
@roles_required(*visits.MISSED_ROLES, action=N_("mark a visit missed"))
def mark_missed(visit_id: int):
    """Mark the visit missed with the reason; its clinical protocol deviation opens with it."""
    code = subject_record.subject_code_of_visit(db.session(), visit_id)
    form = MissedVisitForm()

    def mark():
        row = clinical_deviations.mark_visit_missed(db.session(), actor=current_user(), visit_id=visit_id,
                                                    reason=form.reason.data, timezone=_zone())
        flash(note("visit_marked_missed", subject_code=code, number=clinical_deviations.number(row.id)), "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, form, mark)


@bp.route("/visits/<int:visit_id>/weight", methods=["POST"])
@roles_required("coordinator", action=N_("record a visit's weight"))
def record_weight(visit_id: int):
    code = subject_record.subject_code_of_visit(db.session(), visit_id)
    form = VisitWeightForm()

    def record():
        visit = visits.record_weight(db.session(), actor=current_user(), visit_id=visit_id, weight_kg=form.weight())
        flash(note("weight_recorded", week=visit.week, subject_code=code, weight_kg=visit.weight_kg), "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, form, record)


@bp.route("/visits/<int:visit_id>/plan", methods=["POST"])
@roles_required("coordinator", action=N_("plan infusions"))
def plan_infusion(visit_id: int):
    code = subject_record.subject_code_of_visit(db.session(), visit_id)
    form = PlanInfusionForm()

    def plan():
        if form.planned_at.data is None:
            raise Invalid({"planned_at": translated(N_("give the planned date and time (site time)"))})
        visit = visits.plan_infusion(db.session(), actor=current_user(), visit_id=visit_id,
                                     planned_at=form.planned_at.data, reason=form.reason.data, timezone=_zone())
        flash(note("infusion_planned", week=visit.week, subject_code=code, when=localtime(visit.planned_at)),
              "success")
        return redirect(url_for("trial.subject", subject_code=code))

    return _on_subject_page(code, form, plan)


def _end(subject_code: str, to: str, open_form: str):
    form = SubjectEndForm()

    def record():
        done = lifecycle.end(db.session(), actor=current_user(), subject_code=subject_code, to=to,
                             reason=form.reason.data or None, note=form.note.data or None,
                             ended_at=form.ended_at.data, signature=form.signature(), policy=policy(),
                             timezone=_zone(), ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("subject_withdrawn" if to == lifecycle_rules.WITHDRAWN else "subject_died",
                   subject_code=subject_code, visits=count(len(done.cancelled), "visit"),
                   bags=count(len(done.returns), "bag")), "success")
        return redirect(url_for("trial.subject", subject_code=subject_code))

    return submit(form, record, lambda refusal: _subject_page(subject_code, refusal, open_form=open_form))


@bp.route("/subjects/<subject_code>/withdrawal", methods=["POST"])
@roles_required(*lifecycle.ENDING_ROLES, action=N_("withdraw subjects"))
def withdraw(subject_code: str):
    return _end(subject_code, lifecycle_rules.WITHDRAWN, "withdrawal")


@bp.route("/subjects/<subject_code>/death", methods=["POST"])
@roles_required(*lifecycle.ENDING_ROLES, action=N_("record a subject's death"))
def record_death(subject_code: str):
    return _end(subject_code, lifecycle_rules.DIED, "death")


RETURN_READERS = ("qa", "coordinator", "investigator", "auditor")


def _returns_page(refusal: Refusal | None = None) -> str:
    session = db.session()
    status = request.args.get("status") or "awaiting_decision"
    if status not in ("awaiting_decision", "restocked", "discarded"):
        raise Invalid({"status": translated(N_("awaiting_decision, restocked or discarded"))})
    page = lifecycle.returns_page(session, page_request(), status=status)
    return render_template("trial/returns.html", page=page, status=status,
                           can_decide="qa" in current_user().roles,
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [])


@bp.route("/returns")
@roles_required(*RETURN_READERS, action=N_("see returned bags"))
def returns():
    return _returns_page()


@bp.route("/returns/<int:return_id>/decision", methods=["POST"])
@roles_required(*lifecycle.RETURN_ROLES, action=N_("decide on a returned bag"))
def decide_return(return_id: int):
    form = ReturnDecisionForm()

    def decide():
        row = lifecycle.decide_return(db.session(), actor=current_user(), return_id=return_id,
                                      restock={"restock": True, "discard": False}.get(form.decision.data or ""),
                                      reason=form.reason.data, signature=form.signature(), policy=policy(),
                                      ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("returned_bag_restocked" if row.bag_return.status == "restocked" else "returned_bag_discarded",
                   bag_code=row.bag_code), "success")
        return redirect(url_for("trial.returns"))

    return submit(form, decide, _returns_page)


@bp.route("/balance")
@roles_required(*READERS, "admin", action=N_("see the arm balance"))
def balance():
    return _balance_page()


def _balance_page(refusal: Refusal | None = None) -> str:
    session = db.session()
    return render_template("trial/balance.html", balance=randomization.balance(session),
                           check=randomization.verify(session),
                           can_extend=bool(current_user().roles & set(randomization.LIST_ROLES)),
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [])


@bp.route("/balance/extend", methods=["POST"])
@roles_required(*randomization.LIST_ROLES, action=N_("extend the randomization list"))
def extend_list():
    form = ExtendListForm()

    def extend():
        row = randomization.extend(db.session(), actor=current_user(), extra=form.extra_positions(),
                                   reason=form.reason.data or "")
        flash(note("list_extended", used=row.next_position - 1), "success")
        return redirect(url_for("trial.balance"))

    return submit(form, extend, _balance_page)
