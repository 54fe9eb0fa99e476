"""Materials pages (``/materials/``): the catalogue, lots received, one lot with its certificate, decision and
uses, and the material lots of a batch step. Each view parses, calls one operation and renders."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.error_handlers import body_limit
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.manufacturing.lot_access import get_lot
from cellchain.materials import catalogue, decisions, steps
from cellchain.materials.forms import CertificateForm, DecisionForm, MaterialForm, ReceiveForm, StepMaterialsForm
from cellchain.materials.models import MATERIAL_KINDS
from cellchain.people.security import current_user, policy, roles_required

bp = Blueprint("materials", __name__, url_prefix="/materials")
READERS = ("lab", "qc", "qa", "auditor")
DECISION_NOTES = {"release": "material_lot_released", "reject": "material_lot_rejected"}


def _substitute() -> str:
    return current_app.config["GS1_GS_SUBSTITUTE"]


def _index(*, problem: Refusal | None = None, form=None, action: str = "") -> str:
    session = db.session()
    page = catalogue.list_lots(session, page=page_request())
    user = current_user()
    return render_template("materials/index.html", materials=catalogue.materials(session), page=page,
                           rows=page.rows, kinds=MATERIAL_KINDS, units=catalogue.UNITS, problem=problem,
                           form=form or {}, action=action, can_catalogue=user.has_role("qc", "qa"),
                           can_receive=user.has_role(*catalogue.RECEIVERS), substitute=_substitute())


@bp.route("/")
@roles_required(*READERS, action=N_("see the materials"))
def index():
    return _index()


@bp.route("/", methods=["POST"])
@roles_required("qc", "qa", action=N_("add a material to the catalogue"))
def create_material():
    form = MaterialForm()

    def add():
        row = catalogue.create_material(db.session(), actor=current_user(), data=form.values())
        flash(note("material_added", name=row.name), "success")
        return redirect(url_for("materials.index"))

    return submit(form, add, lambda refusal: _index(problem=refusal, form=form, action="material"))


@bp.route("/lots", methods=["POST"])
@roles_required(*catalogue.RECEIVERS, action=N_("receive a material lot"))
def receive():
    form = ReceiveForm()

    def take():
        row = catalogue.receive(db.session(), actor=current_user(), data=form.values(), gs_substitute=_substitute())
        flash(note("material_lot_received", code=row.code), "success")
        return redirect(url_for("materials.lot", material_code=row.code))

    return submit(form, take, lambda refusal: _index(problem=refusal, form=form, action="receive"))


def _lot(material_code: str, *, problem: Refusal | None = None, form=None, action: str = "") -> str:
    user = current_user()
    found = decisions.detail(db.session(), material_code)
    return render_template("materials/lot.html", d=found, problem=problem, form=form or {}, action=action,
                           can_decide=user.has_role(*decisions.DECIDERS) and found.lot.status == "quarantine",
                           can_attach=user.has_role(*catalogue.RECEIVERS))


@bp.route("/lots/<material_code>")
@roles_required(*READERS, action=N_("see a material lot"))
def lot(material_code: str):
    return _lot(material_code)


@bp.route("/lots/<material_code>/certificates", methods=["POST"])
@body_limit(catalogue.MAX_CERTIFICATE_BODY, limit_mb=catalogue.MAX_CERTIFICATE_MB, field="certificate",
            message=catalogue.CERTIFICATE_TOO_LARGE)
@roles_required(*catalogue.RECEIVERS, action=N_("attach a certificate of analysis"))
def attach(material_code: str):
    form = CertificateForm()

    def keep():
        upload = form.certificate.data
        content = upload.read() if upload else None
        catalogue.attach_certificate(db.session(), actor=current_user(), code=material_code,
                                     filename=getattr(upload, "filename", None), content=content)
        flash(note("certificate_attached", code=material_code), "success")
        return redirect(url_for("materials.lot", material_code=material_code))

    return submit(form, keep, lambda refusal: _lot(material_code, problem=refusal, action="certificate"))


@bp.route("/lots/<material_code>/certificates/<int:certificate_id>")
@roles_required(*READERS, action=N_("read a certificate of analysis"))
def certificate(material_code: str, certificate_id: int):
    row = catalogue.certificate(db.session(), material_code, certificate_id)
    return Response(row.content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{row.sha256[:12]}.pdf"'})


def _decide(material_code: str, decision: str):
    form = DecisionForm()

    def sign():
        decisions.decide(db.session(), actor=current_user(), code=material_code, decision=decision,
                         signature=form.signature(),
                         reason=form.reason.data or "", policy=policy())
        flash(note(DECISION_NOTES[decision], code=material_code), "success")
        return redirect(url_for("materials.lot", material_code=material_code))

    return submit(form, sign, lambda refusal: _lot(material_code, problem=refusal, form=form, action=decision))


@bp.route("/lots/<material_code>/release", methods=["POST"])
@roles_required(*decisions.DECIDERS, action=N_("release a material lot"))
def release(material_code: str):
    return _decide(material_code, "release")


@bp.route("/lots/<material_code>/reject", methods=["POST"])
@roles_required(*decisions.DECIDERS, action=N_("reject a material lot"))
def reject(material_code: str):
    return _decide(material_code, "reject")


def _step(lot_id: str, step_id: int, *, problem: Refusal | None = None, form=None):
    lot = get_lot(db.session(), lot_id)
    return render_template("materials/step.html", lot=lot, step_id=step_id, problem=problem, form=form or {},
                           substitute=_substitute())


@bp.route("/steps/<lot_id>/<int:step_id>")
@roles_required("lab", action=N_("record the material lots of a step"))
def step_materials(lot_id: str, step_id: int):
    return _step(lot_id, step_id)


@bp.route("/steps/<lot_id>/<int:step_id>", methods=["POST"])
@roles_required("lab", action=N_("record the material lots of a step"))
def record_step_materials(lot_id: str, step_id: int):
    form = StepMaterialsForm()

    def use():
        uses = steps.add_to_step(db.session(), actor=current_user(), lot_number=lot_id, step_id=step_id,
                                 data={"materials": form.materials.data or ""}, gs_substitute=_substitute())
        flash(note("step_materials_recorded", count=len(uses)), "success")
        return redirect(url_for("lab.lot", lot_id=lot_id) + "#steps")

    return submit(form, use, lambda refusal: _step(lot_id, step_id, problem=refusal, form=form))
