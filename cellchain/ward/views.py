"""The ward, on a tablet at the bedside: receive bags, check bag against wristband, start and finish infusions.

Every screen calls the same services as the API. Refusals are shown on the page the nurse is on, in
words (each failing check by name), not as a bare error page: at the bedside the next step is to act on
the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import DomainError, Invalid
from cellchain.core.page_forms import Refusal, site_zone, submit
from cellchain.core.web import localtime
from cellchain.core.words import N_, translated
from cellchain.core.words.notes import note, notes
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing import lookups
from cellchain.people.security import current_user, policy, roles_required
from cellchain.scanning import resolver
from cellchain.ward import bedside, bedside_scans, custody, infusions, thaw
from cellchain.ward.forms import (
    REACTION_ROWS,
    VITALS,
    BedsideCheckForm,
    CompleteForm,
    ReceiveForm,
    StartForm,
    ThawForm,
)

bp = Blueprint("ward", __name__, url_prefix="/ward")


def _protocol() -> bedside.Protocol:
    return bedside.Protocol.from_config(current_app.config)


def _index(refusal: Refusal | None = None) -> str:
    session = db.session()
    today = datetime.now(site_zone()).date()
    return render_template("ward/index.html", due=infusions.due_today(session, today=today), today=today,
                           on_ward=infusions.bags_on_ward(session), refusal=refusal,
                           can_record="nurse" in current_user().roles)


@bp.route("/")
@roles_required("nurse", "auditor", action=N_("open the ward"))
def index():
    return _index()


@bp.route("/receive", methods=["POST"])
@roles_required("nurse", action=N_("receive a bag on the ward"))
def receive():
    form = ReceiveForm()

    def receive_bag():
        handover = custody.parse_handover(form.handover())
        if handover.temperature_c is None:
            raise Invalid({"temperature_c": translated(N_("read the bag's temperature on arrival"))})
        found = resolver.identify(db.session(), form.scan.data, tz=site_zone(), field="scan")
        if found.kind != "bag":
            raise Invalid({"scan": translated(N_("this is a {kind}; scan the bag's 2D code")).format(kind=found.kind)})
        event = custody.record_handover(db.session(), actor=current_user(), record=found.record, handover=handover,
                                        ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(notes(note("bag_received", bag_code=found.record.bag_code),
                    note("excursion_before_infusion") if event.excursion else ""),
              "warning" if event.excursion else "success")
        return redirect(url_for("ward.index"))

    return submit(form, receive_bag, _index, refusals=(DomainError,))


# --- thawing a frozen bag ---------------------------------------------------------------------------------

def _thaw_page(refusal: Refusal | None = None, form: ThawForm | None = None) -> str:
    return render_template("ward/thaw.html", refusal=refusal, form=form or {},
                           hours=current_app.config["THAWED_SHELF_LIFE_HOURS"])


@bp.route("/thaw")
@roles_required(*thaw.THAW_ROLES, action=N_("thaw a bag"))
def thaw_page():
    return _thaw_page()


@bp.route("/thaw", methods=["POST"])
@roles_required(*thaw.THAW_ROLES, action=N_("thaw a bag"))
def thaw_bag():
    """Scan the frozen bag: the thaw is recorded, its new expiry set and its new label printed."""
    form = ThawForm()

    def record():
        done = thaw.thaw(db.session(), actor=current_user(), bag_scan=form.scan.data, thawed_at=form.thawed_at.data,
                         location=form.location.data, labels=LabelSettings.from_config(current_app.config),
                         thawed_life=timedelta(hours=current_app.config["THAWED_SHELF_LIFE_HOURS"]))
        flash(note("bag_thawed", bag_code=done.bag.bag_code, expires=localtime(done.bag.expires_at)), "success")
        return redirect(url_for("ward.thawed", bag_id=done.bag.bag_code))

    return submit(form, record, lambda refusal: _thaw_page(refusal, form), refusals=(DomainError,))


@bp.route("/thaw/<bag_id>")
@roles_required(*thaw.THAW_ROLES, action=N_("thaw a bag"))
def thawed(bag_id: str):
    """A thawed bag: its new expiry and its post-thaw label to print (PDF or ZPL)."""
    session = db.session()
    bag = lookups.bag_by_code(session, bag_id)
    label = thaw.thaw_label_of(session, bag)
    return render_template("ward/thawed.html", bag=bag, label=label,
                           may_print=label is not None and label.printed_by == current_user().id
                           and label.status == "printed")


@bp.route("/thaw/labels/<int:label_id>")
@roles_required(*thaw.THAW_ROLES, action=N_("print a thawed bag's label"))
def thaw_label_document(label_id: int):
    """The post-thaw label recorded at the thaw, as PDF or ZPL (?format=; the same print, not a new label)."""
    fmt = request.args.get("format", "pdf")
    return send_label(print_jobs.recorded_document(db.session(), actor=current_user(), label_id=label_id, fmt=fmt,
                                                   dpi=current_app.config["LABEL_ZPL_DPI"]))


def send_label(printed: print_jobs.Printed) -> Response:
    """The label's document as a download (a PDF shown inline could be scaled by the browser's print dialog)."""
    body = printed.content if isinstance(printed.content, bytes) else printed.content.encode("utf-8")
    response = current_app.response_class(body, mimetype=printed.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
    return response


# --- the bedside ----------------------------------------------------------------------------------------

def _bedside(**context: Any) -> str:
    return render_template("ward/bedside.html", vitals=VITALS, **context)


@bp.route("/bedside")
@roles_required("nurse", action=N_("check a bag at the bedside"))
def bedside_page():
    """Step 1: scan the wristband. The page then asks for the bag (``?bag_part=`` carries half of a bag's
    linear scans, DIN or product code, while it asks for the other)."""
    scan = request.args.get("scan", "").strip()
    if not scan:
        return _bedside()
    subject, problem = bedside_scans.wristband_subject(db.session(), scan, site_zone())
    if subject is None:
        return _bedside(wristband_problem=problem.text if problem else ""), 400
    parts = [p.strip() for p in request.args.getlist("bag_part") if p.strip()]
    prompt = bedside_scans.bag_scan_prompt(parts, site_zone()) if parts else None
    return _bedside(wristband=scan, subject=subject, bag_parts=parts if prompt else [], prompt=prompt)


@bp.route("/bedside/check", methods=["POST"])
@roles_required("nurse", action=N_("check a bag at the bedside"))
def bedside_check():
    """Step 2: scan the bag (its 2D code, or DIN then product code). Every check is recorded, then shown on
    the attempt's own page (post/redirect/get: going back never checks again)."""
    form = BedsideCheckForm()
    wristband, parts = form.wristband.data or "", form.bag_parts()

    def subject_on_wristband():  # only for a page without a check: the check reads the wristband itself
        return bedside_scans.wristband_subject(db.session(), wristband, site_zone())[0]

    if bedside_scans.bag_scan_prompt(parts, site_zone()):  # half a bag's identity: ask for the other half
        return redirect(url_for("ward.bedside_page", scan=wristband, bag_part=parts), code=303)

    def check():
        result = bedside.verify(db.session(), actor=current_user(), wristband=wristband, bag=parts or "",
                                protocol=_protocol())
        return redirect(url_for("ward.bedside_attempt", check_id=result.record.id))

    return submit(form, check,
                  lambda refusal: _bedside(wristband=wristband, subject=subject_on_wristband(), refusal=refusal),
                  refusals=(Invalid,))


@bp.route("/bedside/checks/<int:check_id>")
@roles_required("nurse", action=N_("check a bag at the bedside"))
def bedside_attempt(check_id: int):
    """A recorded bedside check: every check as it was judged then; when all passed, the start form."""
    result = bedside.recorded_attempt(db.session(), check_id)
    return _bedside(wristband=result.wristband, subject=result.subject, bag_parts=result.bag_parts, result=result)


@bp.route("/infusions", methods=["POST"])
@roles_required("nurse", action=N_("start an infusion"))
def start():
    form = StartForm()
    wristband, parts = form.wristband.data or "", form.bag_part.data

    def start_infusion():
        if not form.ultrasound_monitored.data:
            raise Invalid({"ultrasound_monitored": translated(N_(
                "the protocol infuses under ultrasound monitoring: confirm it"))})
        start_request = infusions.StartRequest(wristband=wristband, bag=parts, verifier=form.signature("verifier"),
                                               ultrasound_monitored=True, vital_signs=form.vital_signs())
        infusion = infusions.start(db.session(), actor=current_user(), request=start_request, protocol=_protocol(),
                                   policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"], defer=db.defer)
        flash(note("infusion_started", bag_code=infusions.describe(db.session(), infusion).bag.bag_code), "success")
        return redirect(url_for("ward.infusion", infusion_id=infusion.id))

    def refused(refusal: Refusal) -> str:
        subject, _ = bedside_scans.wristband_subject(db.session(), wristband, site_zone())
        return _bedside(wristband=wristband, subject=subject, bag_parts=parts, refusal=refusal, start_refused=True)

    return submit(form, start_infusion, refused, refusals=(DomainError,))


# --- during and after the infusion ----------------------------------------------------------------------

def _infusion_page(infusion_id: int, refusal: Refusal | None = None, form: CompleteForm | None = None) -> str:
    session = db.session()
    view = infusions.describe(session, infusions.get_infusion(session, infusion_id))
    recorded = [name for phase in ("start", "end") for name in (view.infusion.vital_signs or {}).get(phase, {})]
    reactions = [{**r, "onset_at": datetime.fromisoformat(r["onset_at"]) if r.get("onset_at") else None}
                 for r in view.infusion.reactions or []]
    return render_template("ward/infusion.html", view=view, vitals=VITALS, reaction_rows=range(REACTION_ROWS),
                           vital_labels=dict(VITALS), vital_names=list(dict.fromkeys(recorded)),
                           reactions=reactions,
                           severities={s: translated(w) for s, w in infusions.SEVERITY_WORDS.items()},
                           refusal=refusal, form=form or CompleteForm(),
                           can_record="nurse" in current_user().roles)


@bp.route("/infusions/<int:infusion_id>")
@roles_required("nurse", "auditor", action=N_("read an infusion"))
def infusion(infusion_id: int):
    return _infusion_page(infusion_id)


@bp.route("/infusions/<int:infusion_id>/complete", methods=["POST"])
@roles_required("nurse", action=N_("complete an infusion"))
def complete(infusion_id: int):
    form = CompleteForm()

    def complete_infusion():
        # The end as typed, or now when left empty: the nurse completes the record as the bag runs out.
        # Never a time filled in when the page was drawn: that is the start of the infusion (the page opens
        # as it starts), to the minute, so it lies before the start and would be refused or, worse, kept.
        completion = infusions.parse_completion({
            "volume_ml": form.volume_ml.data, "ended_at": form.ended_at.data or datetime.now(UTC),
            "reactions": form.reactions(), "vital_signs": form.vital_signs(),
            "ultrasound_monitored": bool(form.ultrasound_monitored.data), "partial_reason": form.partial_reason.data})
        infusions.complete(db.session(), actor=current_user(), infusion_id=infusion_id, completion=completion,
                           timezone=current_app.config["SITE_TIMEZONE"])
        flash(note("infusion_completed", id=infusion_id), "success")
        return redirect(url_for("ward.infusion", infusion_id=infusion_id))

    return submit(form, complete_infusion, lambda refusal: _infusion_page(infusion_id, refusal, form))
