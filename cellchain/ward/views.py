"""The ward, on a tablet at the bedside: receive bags, check bag against wristband, start and finish infusions.

Every screen calls the same services as the API. Refusals are shown on the page the nurse is on, in
words (each failing check by name), not as a bare error page: at the bedside the next step is to act on
the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.errors import DomainError, Invalid, Refused
from cellchain.people.security import current_user, policy, roles_required
from cellchain.scanning import identify
from cellchain.ward import bedside, bedside_scans, custody, infusions

bp = Blueprint("ward", __name__, url_prefix="/ward")
VITALS = (("heart_rate", "Heart rate (/min)"), ("bp_systolic", "BP systolic (mmHg)"),
          ("bp_diastolic", "BP diastolic (mmHg)"), ("temperature_c", "Temperature (°C)"), ("spo2", "SpO2 (%)"),
          ("resp_rate", "Respiratory rate (/min)"))
REACTION_ROWS = 3


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def _protocol() -> bedside.Protocol:
    return bedside.Protocol.from_config(current_app.config)


def _refusal(error: DomainError) -> dict[str, Any]:
    """What a template shows for a refusal: the message, each field, each named reason."""
    return {"message": error.message, "fields": getattr(error, "fields", {}), "reasons": getattr(error, "reasons", [])}


def _index(status: int = 200, refusal: dict | None = None):
    session = db.session()
    today = datetime.now(_tz()).date()
    return render_template("ward/index.html", due=infusions.due_today(session, today=today), today=today,
                           on_ward=infusions.bags_on_ward(session), refusal=refusal,
                           can_record="nurse" in current_user().roles), status


@bp.route("/")
@roles_required("nurse", "auditor", action="open the ward")
def index():
    return _index()


@bp.route("/receive", methods=["POST"])
@roles_required("nurse", action="receive a bag on the ward")
def receive():
    form = request.form
    try:
        handover = custody.parse_handover({**form, "event": "received_at_ward"})
        if handover.temperature_c is None:
            raise Invalid({"temperature_c": "read the bag's temperature on arrival"})
        found = identify.identify(db.session(), form.get("scan", ""), tz=_tz(), field="scan")
        if found.kind != "bag":
            raise Invalid({"scan": f"this is a {found.kind}; scan the bag's 2D code"})
        event = custody.record_handover(db.session(), actor=current_user(), record=found.record, handover=handover,
                                        ranges=current_app.config["TEMPERATURE_RANGES"])
    except DomainError as error:
        db.rollback()
        return _index(error.status, _refusal(error))
    note = " Temperature out of range: QA must decide before it can be infused." if event.excursion else ""
    flash(f"Bag {found.record.bag_code} received on the ward.{note}", "warning" if event.excursion else "success")
    return redirect(url_for("ward.index"))


# --- the bedside ----------------------------------------------------------------------------------------

def _bedside(status: int = 200, **context: Any):
    return render_template("ward/bedside.html", vitals=VITALS, **context), status


@bp.route("/bedside")
@roles_required("nurse", action="check a bag at the bedside")
def bedside_page():
    """Step 1: scan the wristband. The page then asks for the bag."""
    scan = request.args.get("scan", "").strip()
    if not scan:
        return _bedside()
    subject, problem = bedside_scans.wristband_subject(db.session(), scan, _tz())
    if subject is None:
        return _bedside(400, wristband_problem=problem)
    return _bedside(wristband=scan, subject=subject)


@bp.route("/bedside/check", methods=["POST"])
@roles_required("nurse", action="check a bag at the bedside")
def bedside_check():
    """Step 2: scan the bag (its 2D code, or DIN then product code). Every check is shown and recorded."""
    wristband = request.form.get("wristband", "")
    parts = [p for p in [*request.form.getlist("bag_part"), request.form.get("scan", "").strip()] if p]
    subject, _ = bedside_scans.wristband_subject(db.session(), wristband, _tz())
    prompt = bedside_scans.bag_scan_prompt(parts, _tz())
    if prompt:
        return _bedside(wristband=wristband, subject=subject, bag_parts=parts, prompt=prompt)
    try:
        result = bedside.verify(db.session(), actor=current_user(), wristband=wristband, bag=parts or "",
                                protocol=_protocol())
    except Invalid as error:
        db.rollback()
        return _bedside(400, wristband=wristband, subject=subject, refusal=_refusal(error))
    return _bedside(wristband=wristband, subject=result.facts.subject, bag_parts=parts, result=result)


def _number(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise Invalid({name: "a number"}) from None


def _vitals(form) -> dict[str, float]:
    readings = {name: _number(form.get(name, ""), name) for name, _ in VITALS}
    return {name: value for name, value in readings.items() if value is not None}


@bp.route("/infusions", methods=["POST"])
@roles_required("nurse", action="start an infusion")
def start():
    form = request.form
    wristband, parts = form.get("wristband", ""), form.getlist("bag_part")
    try:
        if form.get("ultrasound_monitored") != "yes":
            raise Invalid({"ultrasound_monitored": "the protocol infuses under ultrasound monitoring: confirm it"})
        verifier = signatures.parse_signature({"username": form.get("signature_username", ""),
                                               "password": form.get("signature_password", ""),
                                               "meaning": form.get("signature_meaning", "")}, field="verifier")
        start_request = infusions.StartRequest(wristband=wristband, bag=parts, verifier=verifier,
                                               ultrasound_monitored=True, vital_signs=_vitals(form))
        infusion = infusions.start(db.session(), actor=current_user(), request=start_request, protocol=_protocol(),
                                   policy=policy(), ranges=current_app.config["TEMPERATURE_RANGES"], defer=db.defer)
    except DomainError as error:
        db.rollback()
        subject, _ = bedside_scans.wristband_subject(db.session(), wristband, _tz())
        return _bedside(error.status, wristband=wristband, subject=subject, bag_parts=parts,
                        refusal=_refusal(error), start_refused=True)
    flash(f"Infusion of bag {infusions.describe(db.session(), infusion).bag.bag_code} started.", "success")
    return redirect(url_for("ward.infusion", infusion_id=infusion.id))


# --- during and after the infusion ----------------------------------------------------------------------

def _infusion_page(infusion_id: int, status: int = 200, refusal: dict | None = None):
    session = db.session()
    view = infusions.describe(session, infusions.get_infusion(session, infusion_id))
    return render_template("ward/infusion.html", view=view, vitals=VITALS, reaction_rows=range(REACTION_ROWS),
                           severities=infusions.SEVERITIES, refusal=refusal,
                           can_record="nurse" in current_user().roles), status


@bp.route("/infusions/<int:infusion_id>")
@roles_required("nurse", "auditor", action="read an infusion")
def infusion(infusion_id: int):
    return _infusion_page(infusion_id)


def _local_time(text: str, name: str) -> datetime:
    """A time typed on the page (``datetime-local``) is the site's wall clock."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=_tz())
    except ValueError:
        raise Invalid({name: "give the date and time (site time)"}) from None


def _ended_at(text: str) -> datetime:
    """The end as typed, or now when left empty: the nurse completes the record as the bag runs out.

    Never a time filled in when the page was drawn: that is the start of the infusion (the page opens
    as it starts), to the minute, so it lies before the start and would be refused or, worse, kept."""
    return _local_time(text, "ended_at") if text.strip() else datetime.now(UTC)


def _reactions(form) -> list[dict[str, Any]]:
    rows = []
    for n in range(REACTION_ROWS):
        description = form.get(f"reaction_{n}_description", "").strip()
        if not description:
            continue
        onset = form.get(f"reaction_{n}_onset", "").strip()
        rows.append({"description": description, "severity": form.get(f"reaction_{n}_severity", ""),
                     "onset_at": _local_time(onset, f"reactions[{n}].onset_at") if onset else None})
    return rows


@bp.route("/infusions/<int:infusion_id>/complete", methods=["POST"])
@roles_required("nurse", action="complete an infusion")
def complete(infusion_id: int):
    form = request.form
    try:
        completion = infusions.parse_completion({
            "volume_ml": _number(form.get("volume_ml", ""), "volume_ml"),
            "ended_at": _ended_at(form.get("ended_at", "")), "reactions": _reactions(form),
            "vital_signs": _vitals(form), "ultrasound_monitored": form.get("ultrasound_monitored") == "yes"})
        infusions.complete(db.session(), actor=current_user(), infusion_id=infusion_id, completion=completion)
    except (Invalid, Refused) as error:
        db.rollback()
        return _infusion_page(infusion_id, error.status, _refusal(error))
    flash(f"Infusion {infusion_id} completed.", "success")
    return redirect(url_for("ward.infusion", infusion_id=infusion_id))
