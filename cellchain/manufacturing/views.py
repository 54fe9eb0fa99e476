"""Lab pages: scan a cord or bag, register and receive cords, grow a lot, keep its batch record, fill bags.

Every form here calls the same service as its API twin; a refused form is shown again with the reasons
(400 for unreadable fields, 409 for a rule), nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cellchain.core import db
from cellchain.core.errors import Invalid, Refused
from cellchain.core.page_forms import PageForm, Refusal, site_zone, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note, notes
from cellchain.core.words.numbers import cells
from cellchain.labelling import record_codes
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing import bags, batch, collections, donor_results, lots
from cellchain.manufacturing.api import batch_steps
from cellchain.manufacturing.bag_input import ANTICOAGULANTS
from cellchain.manufacturing.documents.growth_curve import GrowthPoint, growth_svg
from cellchain.manufacturing.forms import (
    CollectionForm,
    DeterminationForm,
    DonorResultForm,
    FillForm,
    FormulationForm,
    HandoverForm,
    HarvestForm,
    PassageForm,
    PlaceboForm,
    StepForm,
    VerifyStepForm,
)
from cellchain.manufacturing.models import Lot
from cellchain.manufacturing.rules.donor import RESULTS, SCREENING_TESTS
from cellchain.people.security import current_user, policy, roles_required
from cellchain.scanning.pages import read_scan
from cellchain.ward import custody
from cellchain.ward.rules import custody_states

bp = Blueprint("lab", __name__, url_prefix="/lab")
VIEWERS = ("lab", "qa", "qc", "auditor")
# The investigator signs a pending cord's donor determination on the cord's page.
COLLECTION_VIEWERS = (*VIEWERS, "investigator")
HANDOVER_EVENTS = ("shipped", "received", "stored")




# --- index and scanning ------------------------------------------------------------------------------


def _index_page(status: int = 200, fields: dict | None = None, **_: Any):
    session = db.session()
    return render_template("lab/index.html", in_process=lots.lots_with_status(session, "in_process"),
                           awaiting_release=lots.lots_with_status(session, "awaiting_release"),
                           awaiting_lot=collections.awaiting_lot(session),
                           quarantine=bags.list_bags(session, status="quarantine").rows,
                           quarantine_count=bags.count_bags(session, status="quarantine"),
                           can_record=current_user().has_role("lab"), fields=fields or {},
                           scanned=request.args.get("scan", "")), status


@bp.route("/")
@roles_required(*VIEWERS, action=N_("open the lab"))
def index():
    return _index_page()


@bp.route("/open")
@roles_required(*VIEWERS, action=N_("open a scanned item"))
def open_scan():
    raw = request.args.get("scan", "")

    try:
        answer, page = read_scan(raw)
    except Invalid as refusal:
        db.rollback()
        return _index_page(status=400, fields=refusal.fields)
    if page is None:
        return _index_page(status=404, fields={"scan": answer.note or _("nothing in this database has that scan")})
    if answer.record and answer.record.type == "subject":
        return _index_page(status=400, fields={"scan": "a wristband is scanned on the ward, not in the lab"})
    return redirect(page)


# --- collections ---------------------------------------------------------------------------------------


def _new_collection(refusal: Refusal | None = None, form: CollectionForm | None = None) -> str:
    return render_template("lab/collection_new.html", tests=SCREENING_TESTS, results=RESULTS,
                           fields=refusal.fields if refusal else {}, form=form or {})


@bp.route("/collections/new")
@roles_required("lab", action=N_("register a cord collection"))
def new_collection():
    return _new_collection()


@bp.route("/collections", methods=["POST"])
@roles_required("lab", action=N_("register a cord collection"))
def register_collection():
    cfg = current_app.config
    form = CollectionForm()

    def register():
        row = collections.register_collection(db.session(), actor=current_user(), data=form.collection(),
                                              fin=cfg["FACILITY_FIN"], tz=site_zone(), ranges=cfg["TEMPERATURE_RANGES"])
        flash(note("cord_registered", din=row.din, eligibility=row.eligibility), "success")
        return redirect(url_for("lab.collection", din=row.din))

    return submit(form, register, lambda refusal: _new_collection(refusal, form))


def _collection_page(din: str, refusal: Refusal | None = None, form: PageForm | None = None) -> str:
    view = collections.collection_view(db.session(), din)
    # Only the hand-overs the state machine allows next: a new cord is shipped before it is received.
    events = [e for e in custody_states.next_handovers("collection", view.collection.custody_state)
              if e in HANDOVER_EVENTS]
    return render_template("lab/collection.html", view=view, c=view.collection, events=events,
                           can_start=view.lot is None and view.collection.custody_state not in
                           custody_states.TERMINAL_STATES,
                           label_url=url_for("labels.collection_label", din=view.collection.din),
                           can_record=current_user().has_role("lab"),
                           can_determine=current_user().has_role("investigator"), tests=SCREENING_TESTS,
                           results=RESULTS, fields=refusal.fields if refusal else {},
                           reasons=refusal.reasons if refusal else [], form=form or {})


@bp.route("/collections/<din>")
@roles_required(*COLLECTION_VIEWERS, action=N_("see a cord collection"))
def collection(din: str):
    return _collection_page(din)


@bp.route("/collections/<din>/handover", methods=["POST"])
@roles_required("lab", action=N_("record a cord's hand-over"))
def handover(din: str):
    form = HandoverForm()

    def record():
        session = db.session()
        entry = custody.parse_handover(form.values())
        row = custody.record_handover(session, actor=current_user(), handover=entry,
                                      record=collections.collection_view(session, din).collection,
                                      ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(notes(note("cord_handed_over", handover=row.event, location=row.location),
                    note("excursion_awaits_qa") if row.excursion else ""), "warning" if row.excursion else "success")
        return redirect(url_for("lab.collection", din=din))

    return submit(form, record, lambda refusal: _collection_page(din, refusal, form))


@bp.route("/collections/<din>/donor-results", methods=["POST"])
@roles_required(*donor_results.ENTERERS, action=N_("enter a donor result"))
def enter_donor_result(din: str):
    form = DonorResultForm()

    def enter():
        entered = donor_results.enter_result(db.session(), actor=current_user(), din=din, data=form.values(),
                                             today=datetime.now(site_zone()).date())
        flash(notes(note("donor_result_entered", test=entered.result.test, result=entered.result.result,
                         eligibility=entered.collection.eligibility),
                    note("cord_held") if entered.holds else ""),
              "warning" if entered.result.result != "negative" else "success")
        return redirect(url_for("lab.collection", din=din))

    return submit(form, enter, lambda refusal: _collection_page(din, refusal, form))


@bp.route("/collections/<din>/determination", methods=["POST"])
@roles_required("investigator", action=N_("sign a donor eligibility determination"))
def sign_determination(din: str):
    form = DeterminationForm()

    def sign():
        donor_results.sign_determination(db.session(), actor=current_user(), din=din, signature=form.signature(),
                                         policy=policy())
        flash(note("donor_determined_eligible", din=din), "success")
        return redirect(url_for("lab.collection", din=din))

    return submit(form, sign, lambda refusal: _collection_page(din, refusal, form))


@bp.route("/collections/<din>/lot", methods=["POST"])
@roles_required("lab", action=N_("start a lot"))
def start_lot(din: str):
    def start():
        lot = lots.start_lot(db.session(), actor=current_user(), collection_din=din,
                             purpose=request.form.get("purpose"),
                             dosing_from_cord=current_app.config["DOSING_LOT_FROM_CORD"])
        flash(note("lot_started", lot_number=lot.lot_number), "success")
        return redirect(url_for("lab.lot", lot_id=lot.lot_number))

    return submit(None, start, lambda refusal: _collection_page(din, refusal))


# --- lots ---------------------------------------------------------------------------------------------



def _label_links(lot: Lot, has_bags: bool) -> list[tuple[str, str]]:
    """The lot's label pages, where the lab looks for them: culture vessel labels while it grows,
    QC tube labels, the bag labels printed for it, and the reconciliation of every label not yet accounted
    for; only for a person the label pages admit (their own ``roles_required``)."""
    allowed = getattr(current_app.view_functions["labels.print_page"], "required_roles", ())
    if not set(allowed) & current_user().roles:
        return []
    key = lot.lot_number
    links = [(_("Culture vessel labels"), url_for("labels.print_page", item_type="vessel", key=key))] \
        if lot.status == "in_process" else []
    links.append((_("QC sample tube labels"), url_for("labels.print_page", item_type="qc", key=key)))
    if has_bags:
        links.append((_("Bag labels printed"), url_for("labels.print_page", item_type="lot", key=key)))
    links.append((_("Label reconciliation"), url_for("labels.index")))
    return links

def _lot_page(lot_id: str, refusal: Refusal | None = None, form: PageForm | None = None, section: str = "",
              preview: list[bags.NamedDose] | None = None) -> str:
    steps = batch_steps()
    view = lots.lot_view(db.session(), lot_id, steps)
    manual = [s for s in steps if s.code not in batch.AUTOMATIC_STEPS]
    user = current_user()
    return render_template("lab/lot.html", view=view, lot=view.lot, steps=manual, actions=view.actions,
                           can_record=user.has_role("lab"), can_verify=user.has_role("lab", "qa"),
                           next_passage=view.passages[-1].number + 1 if view.passages else view.lot.first_passage,
                           passage_limit=current_app.config["PASSAGE_LIMIT"],
                           anticoagulants=tuple(ANTICOAGULANTS.values()),
                           shelf_life=current_app.config["PRODUCT_SHELF_LIFE_HOURS"],
                           pdf_url=url_for("api.batch_record_pdf", lot_id=view.lot.lot_number),
                           labels_url=url_for("labels.lot_bag_labels", lot_id=view.lot.lot_number)
                           if view.bags else None, label_links=_label_links(view.lot, bool(view.bags)),
                           codes=record_codes.lot_codes(view.lot.lot_number),
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or {}, section=section, preview=preview,
                           frozen_days=current_app.config["FROZEN_SHELF_LIFE_DAYS"])


@bp.route("/lots/<lot_id>")
@roles_required(*VIEWERS, action=N_("see a lot"))
def lot(lot_id: str):
    """The lot's page; ``?preview=1&named=...`` (with the rest of the fill form as typed) also shows each
    named bag's computed volume: a GET, so reload and back never ask to send anything again."""
    if request.args.get("preview"):
        return _preview_page(lot_id)
    return _lot_page(lot_id)


# The fill form's inputs the preview carries in its address, so the form shows them again (never a token).
PREVIEW_KEPT = ("count", "volume_ml", "total_cells", "preservation", "frozen_at", "anticoagulant",
                "anticoagulant_lot", "anticoagulant_volume_ml", "expires_at", "named")


def _preview_page(lot_id: str):
    """The named bags' volumes as the fill would make them, computed and written nowhere; a refusal (an
    unknown subject, a dose no bag can hold) is shown in the fill form, as the fill itself would show it."""
    try:
        doses = bags.preview_named(db.session(), lot_number=lot_id, named=request.args.get("named", ""),
                                   settings=bags.FillSettings.from_config(current_app.config))
    except (Invalid, Refused) as error:
        refusal = Refusal.of(error)
        return _lot_page(lot_id, refusal, request.args, "fill"), refusal.status
    return _lot_page(lot_id, form=request.args, section="fill", preview=doses)


@bp.route("/lots/<lot_id>/growth.svg")
@roles_required(*VIEWERS, action=N_("see a lot's growth curve"))
def growth(lot_id: str):
    view = lots.lot_view(db.session(), lot_id, batch_steps())
    points = [GrowthPoint(p.number, p.harvested_cells, p.cumulative_doublings) for p in view.passages]
    title = _("Growth of lot %(lot)s", lot=view.lot.lot_number)
    return Response(growth_svg(points, title=title), mimetype="image/svg+xml")


def _lot_form(lot_id: str, section: str, form: PageForm, action: Callable[[], str]):
    """Post one of the lot page's forms: the service call, a message, back to the lot page."""
    def run():
        flash(action(), "success")
        return redirect(url_for("lab.lot", lot_id=lot_id) + f"#{section}")

    return submit(form, run, lambda refusal: _lot_page(lot_id, refusal, form, section))


@bp.route("/lots/<lot_id>/passages", methods=["POST"])
@roles_required("lab", action=N_("record a passage"))
def record_passage(lot_id: str):
    form = PassageForm()

    def action():
        row = lots.record_passage(db.session(), actor=current_user(), lot_number=lot_id, data=form.passage(),
                                  limit=current_app.config["PASSAGE_LIMIT"])
        return note("passage_recorded", number=row.number, doublings=row.population_doublings,
                    cumulative=row.cumulative_doublings)

    return _lot_form(lot_id, "passage", form, action)


@bp.route("/lots/<lot_id>/batch-steps", methods=["POST"])
@roles_required("lab", action=N_("record a batch-record step"))
def record_step(lot_id: str):
    form = StepForm()

    def action():
        data = {**form.values(), "details": batch.details_from_lines(form.details.data or "")}
        row = batch.record_step(db.session(), actor=current_user(), lot_number=lot_id, data=data, steps=batch_steps(),
                                gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
        return note("step_recorded", step_key=row.step_key)

    return _lot_form(lot_id, "steps", form, action)


@bp.route("/lots/<lot_id>/batch-steps/<int:step_id>/verify", methods=["POST"])
@roles_required("lab", "qa", action=N_("verify a batch-record step"))
def verify_step(lot_id: str, step_id: int):
    form = VerifyStepForm()

    def action():
        batch.verify_step(db.session(), actor=current_user(), lot_number=lot_id, step_id=step_id,
                          signature=form.signature(), policy=policy())
        return note("step_verified", step_id=step_id, full_name=current_user().full_name)

    return _lot_form(lot_id, "steps", form, action)


@bp.route("/lots/<lot_id>/harvest", methods=["POST"])
@roles_required("lab", action=N_("record a harvest"))
def record_harvest(lot_id: str):
    form = HarvestForm()

    def action():
        row = lots.record_harvest(db.session(), actor=current_user(), lot_number=lot_id, data=form.values())
        return note("harvest_recorded", cells=cells(row.harvested_cells))

    return _lot_form(lot_id, "harvest", form, action)


@bp.route("/lots/<lot_id>/formulation", methods=["POST"])
@roles_required("lab", action=N_("record a formulation"))
def record_formulation(lot_id: str):
    form = FormulationForm()

    def action():
        row = lots.record_formulation(db.session(), actor=current_user(), lot_number=lot_id, data=form.values())
        return note("formulation_recorded", cells_per_ml=cells(row.formulated_cells_per_ml),
                    volume_ml=row.formulated_volume_ml)

    return _lot_form(lot_id, "formulation", form, action)


@bp.route("/lots/<lot_id>/bags", methods=["POST"])
@roles_required("lab", action=N_("fill bags"))
def fill_bags(lot_id: str):
    """Fill the lot. The "preview" button goes on to the lot page's GET with what was typed (see ``lot``):
    the preview writes nothing, so it is a page to reload, not a post to send again."""
    form = FillForm()
    if request.form.get("preview"):
        kept = {name: request.form[name] for name in PREVIEW_KEPT if request.form.get(name)}
        return redirect(url_for("lab.lot", lot_id=lot_id, preview=1, **kept, _anchor="fill"), code=303)

    def action():
        filled = bags.fill_bags(db.session(), actor=current_user(), lot_number=lot_id, data=form.values(),
                                settings=bags.FillSettings.from_config(current_app.config))
        return note("bags_filled", bags=_("1 bag") if len(filled) == 1 else _("%(count)s bags", count=len(filled)),
                    codes=", ".join(b.bag_code for b in filled))

    return _lot_form(lot_id, "fill", form, action)


# --- bags and placebo ----------------------------------------------------------------------------------


@bp.route("/bags")
@roles_required(*VIEWERS, action=N_("see bags"))
def bag_list():
    args = request.args
    page = bags.list_bags(db.session(), status=args.get("status") or None, lot_number=args.get("lot_id") or None,
                          din_text=args.get("din") or None, page=page_request())
    return render_template("lab/bags.html", page=page, args=args)


@bp.route("/bags/<bag_id>")
@roles_required(*VIEWERS, action=N_("see a bag"))
def bag(bag_id: str):
    session = db.session()
    view = bags.bag_view(session, bag_id, tz=site_zone())
    codes = record_codes.bag_codes(session, view.bag, LabelSettings.from_config(current_app.config))
    return render_template("lab/bag.html", view=view, b=view.bag, codes=codes,
                           label_url=url_for("labels.bag_label", bag_id=view.bag.bag_code))


def _placebo_page(refusal: Refusal | None = None, form: PlaceboForm | None = None) -> str:
    cfg = current_app.config
    return render_template("lab/placebo.html", volume=cfg["PLACEBO_VOLUME_ML"],
                           shelf_days=cfg["PLACEBO_SHELF_LIFE_DAYS"], fields=refusal.fields if refusal else {},
                           form=form or {})


@bp.route("/placebo")
@roles_required("lab", action=N_("fill placebo bags"))
def placebo():
    return _placebo_page()


@bp.route("/placebo", methods=["POST"])
@roles_required("lab", action=N_("fill placebo bags"))
def fill_placebo():
    form = PlaceboForm()

    def fill():
        filled = bags.fill_placebo(db.session(), actor=current_user(), data=form.values(),
                                   settings=bags.FillSettings.from_config(current_app.config))
        flash(note("placebo_filled", bags=_("1 placebo bag") if len(filled) == 1
                   else _("%(count)s placebo bags", count=len(filled)), din=filled[0].din), "success")
        return redirect(url_for("lab.bag_list", din=filled[0].din))

    return submit(form, fill, lambda refusal: _placebo_page(refusal, form))
