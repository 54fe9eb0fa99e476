"""API: label printers (docs/architecture.md, "Label printers"). The registry, print jobs sent to a printer
and their retry, and applying a printed label by a scan on its container."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app

from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.labelling import print_jobs
from cellchain.labelling.printing import queue, reconciliation, registry
from cellchain.labelling.printing.models import Printer, PrintJob
from cellchain.labelling.printing.schemas import (
    ApplyIn,
    PrinterChange,
    PrinterIn,
    PrinterSchema,
    PrintersOut,
    PrintJobIn,
    PrintJobSchema,
    PrintJobsOut,
    PrintJobsQuery,
)
from cellchain.labelling.printing.views import spool_now
from cellchain.labelling.schemas import LabelPrintSchema
from cellchain.labelling.views import PRINTERS, label_settings
from cellchain.people.security import current_user, login_required, roles_required

TAGS = ["labels"]


@bp.route("/printers", methods=["GET"], tags=TAGS)
@login_required
@bp.response(200, PrintersOut)
def printers_list() -> dict[str, Any]:
    """The label printers of the site"""
    return {"printers": registry.printers(db.session())}


@bp.route("/printers", methods=["POST"], tags=TAGS)
@roles_required(*registry.MANAGERS, action=N_("manage printers"))
@bp.arguments(PrinterIn)
@bp.response(201, PrinterSchema)
def printers_add(data: dict[str, Any]) -> Printer:
    """Register a label printer (admin or QA); audited"""
    return registry.add_printer(db.session(), actor=current_user(), values=data)


@bp.route("/printers/<int:printer_id>", methods=["POST"], tags=TAGS)
@roles_required(*registry.MANAGERS, action=N_("manage printers"))
@bp.arguments(PrinterChange)
@bp.response(200, PrinterSchema)
def printers_change(data: dict[str, Any], printer_id: int) -> Printer:
    """Change a printer or take it out of use (``active``: false); audited"""
    return registry.change_printer(db.session(), actor=current_user(), printer_id=printer_id, values=data)


@bp.route("/print-jobs", methods=["POST"], tags=TAGS)
@roles_required(*PRINTERS, action=N_("print labels"))
@bp.arguments(PrintJobIn)
@bp.response(201, PrintJobSchema)
def print_jobs_send(data: dict[str, Any]) -> PrintJob:
    """Print labels straight to a printer

    The labels are recorded as a download records them, and the job is committed ``queued`` before it goes to
    the printer; the answer's ``status`` says whether the printer took it (``sent``) or not (``failed``, with
    ``error``): a failed job, or one left ``queued`` longer than a send may take, is sent again by its retry.
    """
    return spool_now(queue.send_labels(db.session(), actor=current_user(), printer_id=data.get("printer_id"),
                                       target=data.get("target"), key=data.get("key"), settings=label_settings(),
                                       reprint_reason=data.get("reason"), passage=data.get("passage"),
                                       vessels=data.get("vessels")))


@bp.route("/print-jobs", methods=["GET"], tags=TAGS)
@login_required
@bp.arguments(PrintJobsQuery, location="query")
@bp.response(200, PrintJobsOut)
def print_jobs_list(query: dict[str, Any]) -> dict[str, Any]:
    """Print jobs, newest first, a page at a time (``limit``, then ``cursor`` from ``next``)"""
    page = queue.jobs(db.session(), page_request(size_arg="limit"))
    return {"jobs": page.rows, "next": next_cursor(page)}


@bp.route("/print-jobs/<int:job_id>/retry", methods=["POST"], tags=TAGS)
@roles_required(*PRINTERS, action=N_("print labels"))
@bp.response(200, PrintJobSchema)
def print_jobs_retry(job_id: int) -> PrintJob:
    """Send a failed print job again (the same document), or one left queued longer than a send may take"""
    return spool_now(queue.retry(db.session(), actor=current_user(), job_id=job_id,
                                 timeout=float(current_app.config["PRINTER_TIMEOUT_SECONDS"])))


def _role_before_body(view: Callable) -> Callable:
    """Who may account for a label depends on its kind: checked before the body is read."""
    @functools.wraps(view)
    def checked(*args: Any, label_id: int, **kwargs: Any) -> Any:
        print_jobs.require_status_role(db.session(), actor=current_user(), label_id=label_id)
        return view(*args, label_id=label_id, **kwargs)
    return checked


@bp.route("/labels/<int:label_id>/apply", methods=["POST"], tags=TAGS)
@login_required
@_role_before_body
@bp.arguments(ApplyIn)
@bp.response(200, LabelPrintSchema)
def labels_apply(data: dict[str, Any], label_id: int) -> print_jobs.NamedLabel:
    """Apply a printed label: the scan of the label on its container must be that label and that container"""
    session = db.session()
    row = reconciliation.apply_by_scan(session, actor=current_user(), label_id=label_id, scan=data.get("scan"),
                                       settings=label_settings())
    (named,) = print_jobs.with_user_names(session, [row])
    return named
