"""Label printing pages: the downloads other pages link to, a print page per item, reconciliation.

Downloads (GET, for the logged-in user; they write LabelPrint rows, so they commit like any success):
``labels.collection_label(din)``, ``labels.lot_bag_labels(lot_id)``, ``labels.bag_label(bag_id)``,
``labels.wristband(subject_code)``, ``labels.qc_tube_labels(lot_id)``, ``labels.vessel_labels(lot_id)``
(``?passage=&vessels=``). Each takes ``?format=zpl`` and ``?reason=``; a reprint without a reason goes
to the item's print page, which asks for one and lists every label printed for the item with its status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Refused, Unauthenticated
from cellchain.core.page_forms import PageForm, Refusal, submit
from cellchain.core.web import page_request, readable
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.forms import LabelStatusForm, PrintForm
from cellchain.labelling.printing import registry
from cellchain.manufacturing.models import LABEL_STATUSES
from cellchain.people.security import current_user, roles_required
from cellchain.scanning import resolver

bp = Blueprint("labels", __name__, url_prefix="/labels")

PRINTERS = ("lab", "coordinator", "qa")
VIEWERS = ("lab", "coordinator", "qa", "nurse", "auditor")


def label_settings() -> LabelSettings:
    """The site's label settings from the configuration; the shipper QR points at the verify page."""
    verify = url_for("labels.shipment", shipment_id="SHP", _external=True)
    return LabelSettings.from_config(current_app.config, verify_url_base=verify[:-len("SHP")])


def send_printed(printed: print_jobs.Printed) -> Response:
    """The print job as a download; ZPL goes as text for a Zebra printer's raw queue.

    A PDF is an attachment too: shown inline, the browser's viewer would replace the page the person
    is working on, and its print dialog may scale the label (and its barcodes) to fit the paper."""
    body = printed.content if isinstance(printed.content, bytes) else printed.content.encode("utf-8")
    response = current_app.response_class(body, mimetype=printed.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
    response.headers["X-Label-Count"] = str(printed.count)
    response.headers["X-Reprint-Count"] = str(printed.reprints)
    return response


def _download(target: str, key: str, **options: Any):
    """Print what a link names; a reprint with no reason is sent to the print page to give one."""
    args = request.args
    try:
        printed = print_jobs.print_target(db.session(), actor=current_user(), target=target, key=key,
                                      settings=label_settings(), reprint_reason=args.get("reason"),
                                      fmt=args.get("format", "pdf"), dpi=args.get("dpi"), **options)
    except Invalid as refusal:
        if "reason" not in refusal.fields:
            raise
        db.rollback()
        flash(note("reprint_needs_reason", why=refusal.fields["reason"]), "warning")
        return redirect(url_for("labels.print_page", item_type=target, key=key, **_vessel_args()))
    return send_printed(printed)


def _vessel_args() -> dict[str, Any]:
    return {k: request.args[k] for k in ("passage", "vessels") if request.args.get(k)}


@bp.route("/collections/<din>/label")
@roles_required(*PRINTERS, action=N_("print collection labels"))
def collection_label(din: str):
    return _download("collection", din)


@bp.route("/bags/<bag_id>/label")
@roles_required(*PRINTERS, action=N_("print bag labels"))
def bag_label(bag_id: str):
    return _download("bag", bag_id)


@bp.route("/lots/<lot_id>/bag-labels")
@roles_required(*PRINTERS, action=N_("print bag labels"))
def lot_bag_labels(lot_id: str):
    return _download("lot", lot_id)


@bp.route("/lots/<lot_id>/qc-tube-labels")
@roles_required(*PRINTERS, action=N_("print QC sample tube labels"))
def qc_tube_labels(lot_id: str):
    return _download("qc", lot_id)


@bp.route("/lots/<lot_id>/vessel-labels")
@roles_required(*PRINTERS, action=N_("print culture vessel labels"))
def vessel_labels(lot_id: str):
    if not request.args.get("passage") or not request.args.get("vessels"):
        return redirect(url_for("labels.print_page", item_type="vessel", key=lot_id))
    return _download("vessel", lot_id, passage=request.args.get("passage", type=int),
                     vessels=request.args.get("vessels", type=int))


@bp.route("/subjects/<subject_code>/wristband")
@roles_required(*PRINTERS, action=N_("print wristbands"))
def wristband(subject_code: str):
    return _download("subject", subject_code)


# --- the print page: reason, format, and the item's labels with their status ----------------------------
def _print_page(item_type: str, key: str, refusal: Refusal | None = None, form: PageForm | None = None, *,
                status_form: dict[str, Any] | None = None) -> str:
    """The print page; after a refused status change ``status_form`` holds that label's choice and reason."""
    session = db.session()
    kind = print_jobs.target_kind(item_type)
    summary = resolver.print_target(session, item_type, key)  # 404 for an unknown item
    history = print_jobs.target_history(session, item_type, key)
    counts = {s: sum(1 for row in history if row.status == s) for s in LABEL_STATUSES}
    return render_template("labels/print.html", item_type=item_type, key=key, kind=kind,
                           summary=readable(summary.summary) if summary else {},
                           title=_(print_jobs.TARGET_TITLES[item_type]), history=history, counts=counts,
                           transitions=print_jobs.TRANSITIONS, printers=print_jobs.user_names(session, history),
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or request.args, status_form=status_form or {},
                           send_printers=registry.printers(session, active_only=True))


@bp.route("/print/<item_type>/<key>")
@roles_required(*VIEWERS, action=N_("see printed labels"))
def print_page(item_type: str, key: str):
    return _print_page(item_type, key)


@bp.route("/print/<item_type>/<key>", methods=["POST"])
@roles_required(*PRINTERS, action=N_("print labels"))
def print_submit(item_type: str, key: str):
    form = PrintForm()

    def print_labels():
        printed = print_jobs.print_target(db.session(), actor=current_user(), target=item_type, key=key,
                                          settings=label_settings(), reprint_reason=form.reason.data,
                                          fmt=form.format.data or "pdf", **form.options(item_type))
        return send_printed(printed)

    # The labels come back as a download; the same form sent again goes to the print page, which lists them.
    return submit(form, print_labels, lambda refusal: _print_page(item_type, key, refusal, form),
                  refusals=(Invalid, Refused), result_page=url_for("labels.print_page", item_type=item_type, key=key))


@bp.route("/<int:label_id>/status", methods=["POST"])
@roles_required(*VIEWERS, action=N_("account for printed labels"))
def set_status(label_id: int):
    """A refusal shows the item's print page again, where the label is listed with its status, with what was
    chosen and typed still in the label's form and the reason beside it; nothing is written."""
    form = LabelStatusForm()

    def change() -> Response:
        row = print_jobs.set_status(db.session(), actor=current_user(), label_id=label_id,
                                    status=form.status.data, reason=form.reason.data)
        flash(note("label_marked", id=row.id, item_key=row.item_key, status=row.status), "success")
        target, key = print_jobs.target_of(db.session(), label_id)
        return redirect(url_for("labels.print_page", item_type=target, key=key))

    def refused(refusal: Refusal) -> str:
        try:
            target, key = print_jobs.target_of(db.session(), label_id)
        except NotFound:
            return _index_page(refusal)  # no such label: the list of labels to account for, with why
        return _print_page(target, key, refusal, status_form={"label_id": label_id, "status": form.status.data,
                                                             "reason": form.reason.data or ""})

    # Forbidden is not among them: a person without the right gets the 403 page, not the page with a form.
    return submit(form, change, refused, refusals=(Invalid, Refused, NotFound, Unauthenticated))


def _index_page(refusal: Refusal | None = None) -> str:
    session = db.session()
    page = print_jobs.outstanding(session, page_request())
    rows = page.rows
    links = print_jobs.targets_of(session, rows)
    return render_template("labels/index.html", page=page, rows=rows, links=links,
                           printers=print_jobs.user_names(session, rows), problem=refusal)


@bp.route("/")
@roles_required(*VIEWERS, action=N_("see printed labels"))
def index():
    return _index_page()


def _in_reader_language(sentence: str) -> str:
    """A label's sentence, which it keeps one label language a line (``site/words.py`` ``lines``), in the
    reader's language when the site prints labels in it; every line when the lines do not match the site's
    label languages (docs/architecture.md, "Languages")."""
    languages = list(current_app.config["LABEL_LANGUAGES"])
    lines, language = sentence.split("\n"), str(get_locale() or "")
    return lines[languages.index(language)] if language in languages and len(lines) == len(languages) else sentence


@bp.route("/shipments/<shipment_id>")
@roles_required(*VIEWERS, action=N_("verify a shipment"))
def shipment(shipment_id: str):
    session = db.session()
    prints = print_jobs.shipment_prints(session, shipment_id)
    if not prints:
        raise NotFound(_("no shipper label %(id)s was printed here", id=shipment_id[:40]))
    contents = print_jobs.shipment_contents(session, prints[-1])
    keep = _in_reader_language(prints[-1].content.get("temperature_requirement") or "")
    return render_template("labels/shipment.html", shipment_id=shipment_id, prints=prints, label=prints[-1],
                           contents=contents, keep=keep, printers=print_jobs.user_names(session, prints),
                           transitions=print_jobs.TRANSITIONS)
