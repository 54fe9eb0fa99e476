"""Storage pages: the overview, a unit with its racks or shelves, boxes and readings, the box map, where a
container is, and the put / take / move scans (docs/rules.md, "Storage").

A lab technician at the tank scans the container, then the position label (or the box label and the
position read off the box); each scan box takes a keyboard-wedge scanner's Enter and keeps the focus.
QA and the auditor read every page; only the lab changes anything.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cellchain.core import db
from cellchain.core.errors import DomainError, Invalid
from cellchain.core.page_forms import Refusal, site_zone, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_, translated
from cellchain.core.words.notes import note
from cellchain.people.security import current_user, roles_required
from cellchain.storage import label_views, placements, places, scan_views, temperatures
from cellchain.storage.forms import BoxForm, ImportForm, LocationForm, ReadingForm, StoreForm, UnitForm
from cellchain.storage.places import STORAGE_KEEPERS, STORAGE_READERS
from cellchain.storage.rules import layout
from cellchain.storage.rules.readings import CSV_COLUMNS

bp = Blueprint("storage", __name__, url_prefix="/storage")


def _ranges() -> dict[str, Any]:
    return current_app.config["TEMPERATURE_RANGES"]


def _can_keep() -> bool:
    return bool(current_user().roles & set(STORAGE_KEEPERS))


def _index(refusal: Refusal | None = None, **context: Any) -> str:
    session = db.session()
    page = places.list_units(session, page_request())
    return render_template("storage/index.html", page=page, units=page.rows, unit_kinds=layout.UNIT_KINDS,
                           can_keep=_can_keep(), refusal=refusal, **context)


@bp.route("/")
@roles_required(*STORAGE_READERS, action=N_("open storage"))
def index():
    """The overview; with ``?container=`` (a scan) the put/take/move step asks for the position next."""
    scan = request.args.get("container", "").strip()
    target = request.args.get("target", "").strip()  # a box label scanned next: ask for the position in it
    if not scan:
        return _index()
    try:
        item = scan_views.container(db.session(), {"container": scan})
        box = scan_views.position_or_box(db.session(), target) if target else None
    except DomainError as error:
        db.rollback()
        return _index(Refusal.of(error)), error.status
    if box is not None:
        return _index(container=scan, target=target, ask_position=box, item=placements.where_is(db.session(), item))
    return _index(item=placements.where_is(db.session(), item), container=scan)


@bp.route("/units", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("set up a storage unit"))
def create_unit():
    form = UnitForm()

    def create():
        unit = places.create_unit(db.session(), actor=current_user(), data=form.values())
        flash(note("unit_set_up", code=unit.code), "success")
        return redirect(url_for("storage.unit", unit_code=unit.code), code=303)

    return submit(form, create, _index)


def _unit_page(unit_code: str, refusal: Refusal | None = None) -> str:
    session = db.session()
    unit = places.unit_by_code(session, unit_code)
    page = temperatures.recent(session, unit, page_request())
    return render_template("storage/unit.html", shown=places.unit_layout(session, unit),
                           page=page, readings=page.rows, unit_kinds=layout.UNIT_KINDS,
                           location_kinds=layout.LOCATION_KINDS, csv_columns=CSV_COLUMNS, can_keep=_can_keep(),
                           refusal=refusal)


@bp.route("/units/<unit_code>")
@roles_required(*STORAGE_READERS, action=N_("read storage"))
def unit(unit_code: str):
    return _unit_page(unit_code)


@bp.route("/units/<unit_code>", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("change a storage unit"))
def change_unit(unit_code: str):
    form = UnitForm()

    def change():
        session = db.session()
        values = {**form.values(), "reason": request.form.get("reason", "")}
        values = {name: value for name, value in values.items() if value not in (None, "") or name == "reason"}
        unit_row = places.change_unit(session, actor=current_user(), unit=places.unit_by_code(session, unit_code),
                                      data=values)
        flash(note("unit_changed", code=unit_row.code), "success")
        return redirect(url_for("storage.unit", unit_code=unit_code), code=303)

    return submit(form, change, lambda refusal: _unit_page(unit_code, refusal))


@bp.route("/units/<unit_code>/locations", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("add a rack or shelf"))
def create_location(unit_code: str):
    form = LocationForm()

    def create():
        session = db.session()
        location = places.create_location(session, actor=current_user(), unit=places.unit_by_code(session, unit_code),
                                          data=form.values())
        flash(note("location_added", place=location.kind.title(), code=location.code), "success")
        return redirect(url_for("storage.unit", unit_code=unit_code), code=303)

    return submit(form, create, lambda refusal: _unit_page(unit_code, refusal))


@bp.route("/locations/<location_code>")
@roles_required(*STORAGE_READERS, action=N_("read storage"))
def location(location_code: str):
    """A rack or shelf is shown on its unit's page (a location label's scan opens it there)."""
    session = db.session()
    found = places.location_by_code(session, location_code)
    unit_row = places.unit_by_id(session, found.unit_id)
    return redirect(url_for("storage.unit", unit_code=unit_row.code, _anchor=f"location-{found.code}"))


@bp.route("/locations/<location_code>/boxes", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("add a storage box"))
def create_box(location_code: str):
    form = BoxForm()
    session = db.session()
    found = places.location_by_code(session, location_code)
    unit_code = places.unit_by_id(session, found.unit_id).code

    def create():
        box = places.create_box(session, actor=current_user(), location=found, data=form.values())
        flash(note("box_added", code=box.code), "success")
        return redirect(url_for("storage.box", box_code=box.code), code=303)

    return submit(form, create, lambda refusal: _unit_page(unit_code, refusal))


def _box_page(box_code: str, selected: tuple[int, int] | None = None, refusal: Refusal | None = None) -> str:
    session = db.session()
    shown = placements.box_map(session, places.box_by_code(session, box_code))
    return render_template("storage/box.html", shown=shown, selected=selected, can_keep=_can_keep(),
                           refusal=refusal)


@bp.route("/boxes/<box_code>")
@roles_required(*STORAGE_READERS, action=N_("read storage"))
def box(box_code: str):
    return _box_page(box_code)


@bp.route("/positions/<position_code>")
@roles_required(*STORAGE_READERS, action=N_("read storage"))
def position(position_code: str):
    """A position label's scan: its box's map with the position marked."""
    found, row, column = places.position_by_code(db.session(), position_code)
    return _box_page(found.code, (row, column))


@bp.route("/where")
@roles_required(*STORAGE_READERS, action=N_("read storage"))
def where_is():
    """Where is this: a container's scan shows unit > rack > box > position and its placement history."""
    scan = request.args.get("scan", "").strip()
    if not scan:
        return render_template("storage/where.html", found=None, scanned="")
    place = scan_views.place_page(db.session(), scan)
    if place:  # a box, position or rack label: its own page says what is there
        return redirect(place, code=303)
    try:
        found = placements.where_is(db.session(), scan_views.container(db.session(), {"container": scan}, "scan"))
    except DomainError as error:
        db.rollback()
        return render_template("storage/where.html", found=None, scanned="", refusal=Refusal.of(error)), error.status
    return render_template("storage/where.html", found=found, scanned="")


def _store(action: str):
    form = StoreForm()

    def again(refusal: Refusal):
        return _index(refusal, container=form.container.data or "", target=form.target.data or "")

    def run():
        session = db.session()
        item = scan_views.container(session, {"container": form.container.data})
        if action == "take":
            placement = placements.take(session, actor=current_user(), item=item, ranges=_ranges(),
                                        reason=form.reason.data or None)
            said = "item_taken"
        else:
            if form.target.data and not form.position.data:
                found = scan_views.position_or_box(session, form.target.data)
                if found is not None:  # a box label: ask for the position in it, on a page of its own (GET)
                    return redirect(url_for("storage.index", container=form.container.data,
                                            target=form.target.data))
            box_row, row, column = scan_views.position(session, form.target.data, form.position.data)
            operation = placements.put if action == "put" else placements.move
            placement = operation(session, actor=current_user(), item=item, box=box_row, row=row, column=column,
                                  ranges=_ranges())
            said = "item_put" if action == "put" else "item_moved"
        session.flush()
        found = placements.where_is(session, item)
        stay = next(s for s in found.history if s.placement.id == placement.id)
        flash(note(said, code=found.code, where=stay.where.text), "success")
        return redirect(url_for("storage.box", box_code=stay.where.box.code), code=303)

    return submit(form, run, again, refusals=(DomainError,))


@bp.route("/put", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("put a container in storage"))
def put():
    return _store("put")


@bp.route("/take", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("take a container out of storage"))
def take():
    return _store("take")


@bp.route("/move", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("move a container in storage"))
def move():
    return _store("move")


@bp.route("/units/<unit_code>/readings", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("record a storage temperature"))
def enter_reading(unit_code: str):
    form = ReadingForm()

    def enter():
        session = db.session()
        if not form.temperature_c.data:
            raise Invalid({"temperature_c": translated(N_("read the unit's temperature"))})
        recorded = temperatures.enter(session, actor=current_user(), unit=places.unit_by_code(session, unit_code),
                                      measured_at=form.measured_at.data, temperature_c=form.temperature_c.data,
                                      notes=form.notes.data or None)
        _flash_recorded(recorded)
        return redirect(url_for("storage.unit", unit_code=unit_code), code=303)

    return submit(form, enter, lambda refusal: _unit_page(unit_code, refusal))


@bp.route("/units/<unit_code>/readings/import", methods=["POST"])
@roles_required(*STORAGE_KEEPERS, action=N_("import a temperature logger file"))
def import_readings(unit_code: str):
    form = ImportForm()

    def run():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            raise Invalid({"file": translated(N_("choose the logger's CSV file"))})
        session = db.session()
        recorded = temperatures.import_file(session, actor=current_user(), unit=places.unit_by_code(session, unit_code),
                                            content=upload.read(), file_name=upload.filename, tz=site_zone())
        _flash_recorded(recorded)
        return redirect(url_for("storage.unit", unit_code=unit_code), code=303)

    return submit(form, run, lambda refusal: _unit_page(unit_code, refusal))


def _readings(number: int) -> str:
    return _("1 reading") if number == 1 else _("%(count)s readings", count=number)


def _flash_recorded(recorded: temperatures.Recorded) -> None:
    if recorded.out_of_range:
        flash(note("readings_out_of_range", readings=_readings(len(recorded.readings)),
                   out_of_range=recorded.out_of_range,
                   items=_("1 item") if len(recorded.excursions) == 1
                   else _("%(count)s items", count=len(recorded.excursions))), "warning")
    else:
        flash(note("readings_in_range", readings=_readings(len(recorded.readings))), "success")


@bp.route("/boxes/<box_code>/labels.pdf")
@roles_required(*label_views.LABEL_PRINTERS, action=N_("print storage labels"))
def box_labels(box_code: str):
    return label_views.box_labels_pdf(box_code)


@bp.route("/positions/<position_code>/label.pdf")
@roles_required(*label_views.LABEL_PRINTERS, action=N_("print storage labels"))
def position_label(position_code: str):
    return label_views.position_label_pdf(position_code)


@bp.route("/locations/<location_code>/label.pdf")
@roles_required(*label_views.LABEL_PRINTERS, action=N_("print storage labels"))
def location_label(location_code: str):
    return label_views.location_label_pdf(location_code)
