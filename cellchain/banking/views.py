"""Cell-bank pages: the bank list, a bank and its vials, a vial, freezing a bank from a lot, thawing a
vial (scanned), and a cord's genealogy tree."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cellchain.banking import banks, genealogy, vials
from cellchain.banking.forms import FreezeForm, ThawForm
from cellchain.core import db
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.manufacturing import lots
from cellchain.people.security import current_user, roles_required

bp = Blueprint("banks", __name__, url_prefix="/banks")
VIEWERS = ("lab", "qa", "qc", "auditor")


@bp.route("/")
@roles_required(*VIEWERS, action=N_("see the cell banks"))
def index():
    level = request.args.get("level") or None
    page = banks.list_banks(db.session(), level=level, page=page_request())
    return render_template("banks/index.html", page=page, rows=page.rows, level=level,
                           can_record=current_user().has_role("lab"))


@bp.route("/<bank_code>")
@roles_required(*VIEWERS, action=N_("see a cell bank"))
def bank(bank_code: str):
    return render_template("banks/bank.html", view=banks.bank_view(db.session(), bank_code))


@bp.route("/vials/<vial_code>")
@roles_required(*VIEWERS, action=N_("see a vial"))
def vial(vial_code: str):
    return render_template("banks/vial.html", view=vials.vial_view(db.session(), vial_code))


def _freeze_page(lot_id: str, form: FreezeForm, refusal: Refusal | None = None) -> str:
    view = lots.lot_view(db.session(), lot_id)
    return render_template("banks/freeze.html", view=view, lot=view.lot, form=form, refusal=refusal)


@bp.route("/lots/<lot_id>/freeze", methods=["GET", "POST"])
@roles_required("lab", action=N_("freeze a cell bank"))
def freeze(lot_id: str):
    form = FreezeForm()
    if request.method == "GET":
        return _freeze_page(lot_id, form)

    def action():
        bank = banks.freeze_bank(db.session(), actor=current_user(), lot_number=lot_id, data=form.values(),
                                 ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("bank_frozen", bank_code=bank.bank_code, vials=_("1 vial") if bank.vial_count == 1
                   else _("%(count)s vials", count=bank.vial_count),
                   passage=bank.passage), "success")
        return redirect(url_for("banks.bank", bank_code=bank.bank_code))

    return submit(form, action, lambda refusal: _freeze_page(lot_id, form, refusal))


def _thaw_page(form: ThawForm, refusal: Refusal | None = None) -> str:
    return render_template("banks/thaw.html", form=form, refusal=refusal,
                           from_mcb=current_app.config["DOSING_LOT_FROM_MCB"])


@bp.route("/thaw", methods=["GET", "POST"])
@roles_required("lab", action=N_("thaw a vial"))
def thaw():
    form = ThawForm()
    if request.method == "GET":
        return _thaw_page(form)

    def action():
        cfg = current_app.config
        lot = vials.thaw_vial(db.session(), actor=current_user(), vial=form.vial.data, data=form.values(),
                              letter=cfg["LOCAL_DATA_IDENTIFIERS"]["vial"], dosing_from_mcb=cfg["DOSING_LOT_FROM_MCB"],
                              ranges=cfg["TEMPERATURE_RANGES"], passage_limit=cfg["PASSAGE_LIMIT"])
        flash(note("vial_thawed", lot_number=lot.lot_number, passage=lot.first_passage), "success")
        return redirect(url_for("lab.lot", lot_id=lot.lot_number))

    return submit(form, action, lambda refusal: _thaw_page(form, refusal))


@bp.route("/genealogy/<din>")
@roles_required(*VIEWERS, action=N_("see a cord's genealogy"))
def tree(din: str):
    return render_template("banks/genealogy.html", root=genealogy.genealogy(db.session(), din))


@bp.route("/genealogy/of/<record_type>/<key>")
@roles_required(*VIEWERS, action=N_("see a cord's genealogy"))
def tree_of(record_type: str, key: str):
    """The genealogy of the cord a lot, bank, vial or bag came from (the link each of their pages carries)."""
    return redirect(url_for("banks.tree", din=genealogy.cord_of(db.session(), record_type, key)))
