"""Equipment pages: the registry with what falls due, an instrument with its service history, and the forms
that register, service, take out of and return an instrument to service (docs/rules.md, "Equipment")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.page_forms import PageForm, Refusal, site_zone, submit
from cellchain.core.types import utcnow
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.equipment import instruments
from cellchain.equipment.forms import InstrumentForm, OutOfServiceForm, ReturnForm, ServiceForm
from cellchain.equipment.instruments import KEEPERS, READERS
from cellchain.equipment.rules.validity import KINDS
from cellchain.people.security import current_user, policy, roles_required

bp = Blueprint("equipment", __name__, url_prefix="/equipment")
SERVICE_NOTES = {"calibration": "instrument_calibration_recorded", "maintenance": "instrument_maintenance_recorded"}


def _can_keep() -> bool:
    return bool(current_user().roles & set(KEEPERS))


def _today() -> Any:
    return utcnow().astimezone(site_zone()).date()


def _index(refusal: Refusal | None = None, form: PageForm | None = None) -> str:
    session = db.session()
    days = current_app.config["EQUIPMENT_DUE_DAYS"]
    return render_template("equipment/index.html", page=instruments.list_instruments(session, page_request()),
                           due=instruments.falls_due(session, today=_today(), days=days), days=days,
                           today=_today(), kinds=[k for k in KINDS if k != "storage_unit"],
                           can_keep=_can_keep(), problem=refusal, form=form or InstrumentForm())


def _instrument(code: str, refusal: Refusal | None = None, form: PageForm | None = None, action: str = "") -> str:
    session = db.session()
    row = instruments.by_code(session, code)
    return render_template("equipment/instrument.html", instrument=row, history=instruments.events_of(session, row.id),
                           today=_today(), can_keep=_can_keep(), can_return="qa" in current_user().roles,
                           problem=refusal, form=form or ServiceForm(), action=action)


@bp.route("/")
@roles_required(*READERS, action=N_("read the instrument registry"))
def index():
    return _index()


@bp.route("/", methods=["POST"])
@roles_required(*KEEPERS, action=N_("register an instrument"))
def register():
    form = InstrumentForm()

    def register_it():
        row = instruments.register(db.session(), actor=current_user(), data=form.values(), zone=site_zone())
        flash(note("instrument_registered", instrument=row.code), "success")
        return redirect(url_for("equipment.instrument", instrument_code=row.code))

    return submit(form, register_it, lambda refusal: _index(refusal, form))


@bp.route("/<instrument_code>")
@roles_required(*READERS, action=N_("read the instrument registry"))
def instrument(instrument_code: str):
    return _instrument(instrument_code)


def _service(code: str, service: str):
    form = ServiceForm()

    def record_it():
        instruments.record_service(db.session(), actor=current_user(), code=code, service=service,
                                   data=form.values(), zone=site_zone())
        flash(note(SERVICE_NOTES[service], instrument=code.upper()), "success")
        return redirect(url_for("equipment.instrument", instrument_code=code))

    return submit(form, record_it, lambda refusal: _instrument(code, refusal, form, service))


@bp.route("/<instrument_code>/calibration", methods=["POST"])
@roles_required(*KEEPERS, action=N_("record a calibration"))
def record_calibration(instrument_code: str):
    return _service(instrument_code, "calibration")


@bp.route("/<instrument_code>/maintenance", methods=["POST"])
@roles_required(*KEEPERS, action=N_("record a maintenance"))
def record_maintenance(instrument_code: str):
    return _service(instrument_code, "maintenance")


@bp.route("/<instrument_code>/out-of-service", methods=["POST"])
@roles_required(*KEEPERS, action=N_("take an instrument out of service"))
def take_out_of_service(instrument_code: str):
    code = instrument_code
    form = OutOfServiceForm()

    def take_it():
        row = instruments.take_out_of_service(db.session(), actor=current_user(), code=code, data=form.values())
        flash(note("instrument_out_of_service", instrument=row.code), "success")
        return redirect(url_for("equipment.instrument", instrument_code=row.code))

    return submit(form, take_it, lambda refusal: _instrument(code, refusal, form, "out"))


@bp.route("/<instrument_code>/return-to-service", methods=["POST"])
@roles_required("qa", action=N_("return an instrument to service"))
def return_to_service(instrument_code: str):
    code = instrument_code
    form = ReturnForm()

    def return_it():
        row = instruments.return_to_service(db.session(), actor=current_user(), code=code,
                                            reason=form.reason.data or "", signature=form.signature(),
                                            policy=policy())
        flash(note("instrument_returned", instrument=row.code), "success")
        return redirect(url_for("equipment.instrument", instrument_code=row.code))

    return submit(form, return_it, lambda refusal: _instrument(code, refusal, form, "return"))
