"""Print jobs sent straight to a printer: the labels are recorded (as any print is), the document rendered
for the printer's kind and resolution, kept on the job, and sent; the job says queued, sent or failed.

A failed send is not a refusal: the labels stay recorded (printed, to be accounted for), the job keeps the
error, and the request that made it still commits, so the failure is on record. ``retry`` sends the same
bytes again while every label of the job is still only printed (a label voided since is never printed a
second time by a retry). Every send and retry is audited (record type ``print_job``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Forbidden, NotFound, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.labelling import label_items, print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.printing import transport
from cellchain.labelling.printing.models import Printer, PrintJob
from cellchain.labelling.printing.registry import get_printer
from cellchain.labelling.templates import load_template
from cellchain.manufacturing.models import LabelPrint
from cellchain.people.rules.roles import Actor, require_role

DEFAULT_TIMEOUT = 5.0  # seconds to connect and send; a printer that is off fails the job, never hangs a page
SIZE_TOLERANCE_MM = 0.5


def _size_fits(printer: Printer, kind: str) -> None:
    """The printer takes the label's stock: its template's size, either way round, among the printer's sizes."""
    template = load_template(label_items.KINDS[kind].layout(kind))
    for size in printer.label_sizes:
        width, height = (float(n) for n in size.split("x"))
        for w, h in ((width, height), (height, width)):
            if abs(w - template.width_mm) <= SIZE_TOLERANCE_MM and abs(h - template.height_mm) <= SIZE_TOLERANCE_MM:
                return
    raise Refused(Reason("printer_label_size", name=printer.name, size=f"{template.width_mm:g}x{template.height_mm:g}",
                         sizes=", ".join(printer.label_sizes)))


def _usable(session: Session, printer_id: Any, kind: str) -> Printer:
    printer = get_printer(session, printer_id)
    if not printer.active:
        raise Refused(Reason("printer_inactive", name=printer.name))
    _size_fits(printer, kind)
    return printer


def _send(printer: Printer, job: PrintJob, user: str, timeout: float) -> None:
    """One attempt: the job is sent or failed, with the error."""
    job.attempts += 1
    try:
        if printer.kind == "zpl":
            transport.send_raw(printer.address, job.document, timeout=timeout)
        else:
            transport.send_ipp(printer.address, job.document, user=user, timeout=timeout,
                               job_name=f"{job.label_kind} {job.item_key}")
    except transport.SendFailed as failed:
        job.status, job.error = "failed", str(failed)[:500]
        return
    job.status, job.error, job.sent_at = "sent", None, utcnow()


def send_labels(session: Session, *, actor: Actor, printer_id: Any, target: str, key: str, settings: LabelSettings,
                reprint_reason: str | None = None, passage: Any = None, vessels: Any = None,
                timeout: float = DEFAULT_TIMEOUT) -> PrintJob:
    """Print what a print page names (``print_jobs.print_target``) straight to a registered printer."""
    kind = print_jobs.target_kind(target)
    require_role(actor.roles, *label_items.KINDS[kind].roles, *print_jobs.REPRINT_ROLES,
                 action=label_items.KINDS[kind].print_action)
    printer = _usable(session, printer_id, kind)
    printed = print_jobs.print_target(session, actor=actor, target=target, key=key, settings=settings,
                                      reprint_reason=reprint_reason, fmt=printer.kind, passage=passage,
                                      vessels=vessels, dpi=printer.dpi)
    document = printed.content if isinstance(printed.content, bytes) else printed.content.encode("utf-8")
    job = PrintJob(printer_id=printer.id, label_kind=kind, target=target, item_key=key,
                   label_ids=list(printed.label_ids), fmt=printer.kind, dpi=printer.dpi, document=document,
                   created_by=actor.id)
    session.add(job)
    session.flush()
    _send(printer, job, actor.username, timeout)
    session.add(job)
    session.flush()
    trail.record(session, actor=actor, record_type="print_job", record_id=job.id, action="send",
                 new={**job.summary(), "printer": printer.name, "error": job.error})
    return job


def get_job(session: Session, job_id: Any, *, lock: bool = False) -> PrintJob:
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        raise NotFound(f"no print job {str(job_id)[:20]}")
    statement = select(PrintJob).where(PrintJob.id == job_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    job = session.exec(statement).first()
    if job is None:
        raise NotFound(f"no print job {job_id}")
    return job


def retry(session: Session, *, actor: Actor, job_id: Any, timeout: float = DEFAULT_TIMEOUT) -> PrintJob:
    """Send a failed job's document again, to its printer (still active), while its labels are unaccounted for."""
    job = get_job(session, job_id, lock=True)
    spec = label_items.kind_spec(job.label_kind)
    require_role(actor.roles, *spec.roles, *print_jobs.REPRINT_ROLES, action=spec.print_action)
    if job.created_by != actor.id and not actor.has_role(*print_jobs.REPRINT_ROLES):
        raise Forbidden(translated(N_("only the person who sent this job, or QA, may send it again")))
    if job.status != "failed":
        raise Refused(Reason("print_job_not_failed", id=job.id, status=job.status))
    rows = session.exec(select(LabelPrint).where(LabelPrint.id.in_(job.label_ids))).all()
    done = sorted(row.item_key for row in rows if row.status != "printed")
    if done:
        raise Refused(Reason("print_job_labels_accounted", id=job.id, item_keys=", ".join(done)))
    printer = get_printer(session, job.printer_id)
    if not printer.active:
        raise Refused(Reason("printer_inactive", name=printer.name))
    old = {"status": job.status, "error": job.error}
    _send(printer, job, actor.username, timeout)
    session.add(job)
    session.flush()
    trail.record(session, actor=actor, record_type="print_job", record_id=job.id, action="retry", old=old,
                 new={"status": job.status, "error": job.error, "attempts": job.attempts})
    return job


def jobs(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the print jobs, newest first."""
    statement = select(PrintJob)
    return db.keyset(session, statement, (PrintJob.created_at, PrintJob.id), page, descending=True)
