"""Printer pages: the registry (admin and QA manage it), print jobs with their retry, sending an item's labels
to a printer from its print page, and the scan page that applies a printed label.

``/labels/printers`` lists and registers printers; ``/labels/jobs`` lists the jobs; ``/labels/print/<item>/<key>/send``
is the print page's "send to a printer" form; ``/labels/<id>/apply`` is the keyboard-wedge scan box that
applies one label, then opens the next label of the same item still to apply. A job is committed queued
before it goes to the printer (``spool_now``, also the API's).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Refused
from cellchain.core.page_forms import PageForm, Refusal, submit
from cellchain.core.types import utcnow
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.labelling import print_jobs
from cellchain.labelling.printing import queue, registry
from cellchain.labelling.printing.forms import ApplyForm, PrinterForm, SendForm
from cellchain.labelling.printing.models import Printer, PrintJob
from cellchain.labelling.printing.reconciliation import apply_by_scan
from cellchain.labelling.views import PRINTERS, VIEWERS, _print_page, label_settings
from cellchain.manufacturing.models import Bag, LabelPrint, Lot
from cellchain.people.security import current_user, roles_required

bp = Blueprint("printers", __name__, url_prefix="/labels")
REGISTRY_READERS = (*VIEWERS, "admin")


def _timeout() -> float:
    return float(current_app.config["PRINTER_TIMEOUT_SECONDS"])


def spool_now(queued: queue.Queued) -> PrintJob:
    """The spooler's edge, for the pages and the API: commit the queued job (its labels, the job and their
    audit entries) before anything goes to the printer, then send it with no transaction open; what the
    printer did is recorded in the request's next transaction, which the request commits as any other."""
    db.commit()
    return queue.spool(db.session(), queued, actor=current_user(), timeout=_timeout())


# --- the registry -------------------------------------------------------------------------------------------
def _registry_page(refusal: Refusal | None = None, form: PageForm | None = None, editing: int | None = None):
    session = db.session()
    return render_template("labels/printers.html", printers=registry.printers(session),
                           may_manage=current_user().has_role(*registry.MANAGERS),
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or {}, editing=editing)


@bp.route("/printers")
@roles_required(*REGISTRY_READERS, action=N_("see the label printers"))
def printers_page():
    return _registry_page()


def _saved(row: Printer):
    flash(note("printer_saved", name=row.name), "success")
    return redirect(url_for("printers.printers_page"))


@bp.route("/printers", methods=["POST"])
@roles_required(*registry.MANAGERS, action=N_("manage printers"))
def printers_add():
    form = PrinterForm()
    return submit(form, lambda: _saved(registry.add_printer(db.session(), actor=current_user(),
                                                            values=form.printer())),
                  lambda refusal: _registry_page(refusal, form), refusals=(Invalid, Refused))


@bp.route("/printers/<int:printer_id>", methods=["POST"])
@roles_required(*registry.MANAGERS, action=N_("manage printers"))
def printers_change(printer_id: int):
    form = PrinterForm()
    return submit(form, lambda: _saved(registry.change_printer(db.session(), actor=current_user(),
                                                               printer_id=printer_id, values=form.printer())),
                  lambda refusal: _registry_page(refusal, form, printer_id), refusals=(Invalid, Refused))


# --- jobs ---------------------------------------------------------------------------------------------------
def _job_note(job) -> None:
    name = registry.names(db.session(), [job.printer_id]).get(job.printer_id, "")
    if job.status == "sent":
        flash(note("print_job_sent", id=job.id, printer=name, count=len(job.label_ids)), "success")
    elif job.status == "queued":  # a later attempt took the job over while this one was sending
        flash(note("print_job_queued", id=job.id, printer=name), "info")
    else:
        flash(note("print_job_failed", id=job.id, printer=name, error=job.error or ""), "error")


@bp.route("/jobs")
@roles_required(*VIEWERS, action=N_("see print jobs"))
def jobs_page(refusal: Refusal | None = None):
    session = db.session()
    page = queue.jobs(session, page_request())
    now, timeout = utcnow(), _timeout()
    return render_template("labels/jobs.html", page=page, jobs=page.rows,
                           names=registry.names(session, [job.printer_id for job in page.rows]),
                           send_again={job.id for job in page.rows
                                       if queue.may_send_again(job, now=now, timeout=timeout)},
                           stalled={job.id for job in page.rows if queue.stalled(job, now=now, timeout=timeout)},
                           reasons=refusal.reasons if refusal else [])


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@roles_required(*PRINTERS, action=N_("print labels"))
def jobs_retry(job_id: int):
    def again():
        job = spool_now(queue.retry(db.session(), actor=current_user(), job_id=job_id, timeout=_timeout()))
        _job_note(job)
        return redirect(url_for("printers.jobs_page"))

    return submit(PageForm(), again, lambda refusal: jobs_page(refusal), refusals=(Refused, NotFound))


@bp.route("/print/<item_type>/<key>/send", methods=["POST"])
@roles_required(*PRINTERS, action=N_("print labels"))
def send(item_type: str, key: str):
    form = SendForm()

    def send_labels():
        job = spool_now(queue.send_labels(db.session(), actor=current_user(), printer_id=form.printer(),
                                          target=item_type, key=key, settings=label_settings(),
                                          reprint_reason=form.reason.data, **form.options(item_type)))
        _job_note(job)
        return redirect(url_for("labels.print_page", item_type=item_type, key=key))

    return submit(form, send_labels, lambda refusal: _print_page(item_type, key, refusal, form),
                  refusals=(Invalid, Refused, NotFound))


# --- applying a label by scan -------------------------------------------------------------------------------
def _label(label_id: int) -> LabelPrint:
    row = db.session().get(LabelPrint, label_id)
    if row is None:
        raise NotFound(f"no printed label {label_id}")
    return row


def _apply_page(label_id: int, refusal: Refusal | None = None):
    row = _label(label_id)
    target, key = print_jobs.target_of(db.session(), label_id)
    return render_template("labels/apply.html", label=row, target=target, key=key,
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [])


@bp.route("/<int:label_id>/apply")
@roles_required(*VIEWERS, action=N_("account for printed labels"))
def apply_page(label_id: int):
    return _apply_page(label_id)


def _next_to_apply(row: LabelPrint) -> str:
    """The next label still to apply among its item's labels (for a bag's label: among all the lot's bags'),
    or the item's print page when none is left."""
    session = db.session()
    target, key = print_jobs.target_of(session, row.id)
    bag = session.get(Bag, row.item_id) if row.item_type == "bag" else None
    lot = session.get(Lot, bag.lot_id) if bag is not None and bag.lot_id else None
    listed = print_jobs.target_history(session, "lot", lot.lot_number) if lot else []
    waiting = [r for r in listed or print_jobs.target_history(session, target, key) if r.status == "printed"]
    if waiting:
        return url_for("printers.apply_page", label_id=waiting[0].id)
    return url_for("labels.print_page", item_type=target, key=key)


@bp.route("/<int:label_id>/apply", methods=["POST"])
@roles_required(*VIEWERS, action=N_("account for printed labels"))
def apply(label_id: int):
    form = ApplyForm()

    def applied():
        row = apply_by_scan(db.session(), actor=current_user(), label_id=label_id, scan=form.scan.data or "",
                            settings=label_settings())
        flash(note("label_applied", id=row.id, item_key=row.item_key), "success")
        return redirect(_next_to_apply(row))

    return submit(form, applied, lambda refusal: _apply_page(label_id, refusal),
                  refusals=(Invalid, Refused))
