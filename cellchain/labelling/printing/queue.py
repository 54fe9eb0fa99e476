"""Print jobs sent straight to a printer, as a print spooler does: record, commit, then send.

The labels are recorded (as any print is), the document rendered for the printer's kind and resolution and
kept on the job, and the job recorded ``queued``: that is the request's first transaction, with its audit
entries (``send_labels``, or ``retry`` for a job sent again). The request commits it before anything goes to
the printer (the edge: ``views.spool_now``); ``spool`` then sends the document with no transaction open, so a
slow printer holds no lock and no audit head, and records what the printer did (``sent``, or ``failed`` with
the error) in a short transaction of its own, with its audit entry ``send``. A crash between the two leaves
the job ``queued``, listed on the jobs page; once it has waited longer than a send can take
(``PRINTER_TIMEOUT_SECONDS``) its sender or QA sends it again (``retry``). docs/architecture.md, "Label
printers".

A failed send is not a refusal: the labels stay recorded (printed, to be accounted for) and the failure is on
record. ``retry`` sends the same bytes again while every label of the job is still only printed (a label
voided since is never printed a second time by a retry). Every step is audited (record type ``print_job``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
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

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 5.0  # seconds a whole send may take; a printer that is off fails the job, never hangs a page
SIZE_TOLERANCE_MM = 0.5
MAX_ERROR = 500


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


@dataclass(frozen=True)
class Queued:
    """A job recorded queued, with what its send needs read beforehand: the send itself reads no database."""

    job: PrintJob
    attempt: int  # the job's ``attempts`` when this send was started: whose outcome it records
    printer_kind: str
    address: str
    user: str


def _queued(job: PrintJob, printer: Printer, actor: Actor) -> Queued:
    return Queued(job, job.attempts, printer.kind, printer.address, actor.username)


def send_labels(session: Session, *, actor: Actor, printer_id: Any, target: str, key: str, settings: LabelSettings,
                reprint_reason: str | None = None, passage: Any = None, vessels: Any = None) -> Queued:
    """Record what a print page names (``print_jobs.print_target``) as a job queued for a registered printer.

    The labels, the job and their audit entries are one transaction; the caller commits it, then ``spool``s it.
    """
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
                   attempts=1, queued_at=utcnow(), created_by=actor.id)
    session.add(job)
    session.flush()
    trail.record(session, actor=actor, record_type="print_job", record_id=job.id, action="queue",
                 new={**job.state(), "printer": printer.name})
    return _queued(job, printer, actor)


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


def stalled(job: PrintJob, *, now: datetime, timeout: float) -> bool:
    """A queued job no send is working on any more: queued longer than a whole send may take (the request that
    queued it ended before recording what the printer did)."""
    return job.status == "queued" and (job.queued_at is None or now - job.queued_at > timedelta(seconds=timeout))


def may_send_again(job: PrintJob, *, now: datetime, timeout: float) -> bool:
    """What the jobs page offers "Send again" for: a failed job, or a stalled one."""
    return job.status == "failed" or stalled(job, now=now, timeout=timeout)


def retry(session: Session, *, actor: Actor, job_id: Any, timeout: float = DEFAULT_TIMEOUT,
          now: datetime | None = None) -> Queued:
    """Queue a failed or stalled job again for its printer (still active) while its labels are unaccounted for:
    the same document, a new attempt. The caller commits, then ``spool``s it."""
    job = get_job(session, job_id, lock=True)
    spec = label_items.kind_spec(job.label_kind)
    require_role(actor.roles, *spec.roles, *print_jobs.REPRINT_ROLES, action=spec.print_action)
    if job.created_by != actor.id and not actor.has_role(*print_jobs.REPRINT_ROLES):
        raise Forbidden(translated(N_("only the person who sent this job, or QA, may send it again")))
    now = now or utcnow()
    if job.status == "queued" and not stalled(job, now=now, timeout=timeout):
        raise Refused(Reason("print_job_in_queue", id=job.id, seconds=f"{timeout:g}"))
    if job.status not in ("failed", "queued"):
        raise Refused(Reason("print_job_not_failed", id=job.id, status=job.status))
    rows = session.exec(select(LabelPrint).where(LabelPrint.id.in_(job.label_ids))).all()
    done = sorted(row.item_key for row in rows if row.status != "printed")
    if done:
        raise Refused(Reason("print_job_labels_accounted", id=job.id, item_keys=", ".join(done)))
    printer = get_printer(session, job.printer_id)
    if not printer.active:
        raise Refused(Reason("printer_inactive", name=printer.name))
    old = {"status": job.status, "error": job.error, "attempts": job.attempts, "queued_at": job.queued_at}
    job.status, job.error, job.attempts, job.queued_at = "queued", None, job.attempts + 1, now
    session.add(job)
    session.flush()
    trail.record(session, actor=actor, record_type="print_job", record_id=job.id, action="retry", old=old,
                 new={"status": job.status, "error": job.error, "attempts": job.attempts, "queued_at": job.queued_at})
    return _queued(job, printer, actor)


def _deliver(queued: Queued, timeout: float) -> str | None:
    """One send of the job's document; the error, or None once the printer took it. No database here."""
    job = queued.job
    try:
        if queued.printer_kind == "zpl":
            transport.send_raw(queued.address, job.document, timeout=timeout)
        else:
            transport.send_ipp(queued.address, job.document, user=queued.user, timeout=timeout,
                               job_name=f"{job.label_kind} {job.item_key}")
    except transport.SendFailed as failed:
        return str(failed)[:MAX_ERROR] or "failed"
    return None


def spool(session: Session, queued: Queued, *, actor: Actor, timeout: float = DEFAULT_TIMEOUT) -> PrintJob:
    """Send a job whose queueing is committed, then record what the printer did (flushed: the caller commits).

    Refuses to start while ``session`` has a transaction open: the printer must never hold one.
    """
    if session.in_transaction():
        raise RuntimeError("commit the queued print job before sending it: a printer must not hold a transaction")
    error = _deliver(queued, timeout)
    return record_outcome(session, actor=actor, queued=queued, error=error)


def record_outcome(session: Session, *, actor: Actor, queued: Queued, error: str | None) -> PrintJob:
    """The job sent, or failed with ``error``: its state and audit entry, unless a later attempt has taken the
    job over meanwhile (a retry of it as stalled), whose outcome then stands."""
    job = get_job(session, queued.job.id, lock=True)
    if job.status != "queued" or job.attempts != queued.attempt:
        log.warning("print job %s: attempt %s ended after attempt %s took the job over; its outcome (%s) is not "
                    "recorded", job.id, queued.attempt, job.attempts, error or "sent")
        return job
    if error is None:
        job.status, job.error, job.sent_at = "sent", None, utcnow()
    else:
        job.status, job.error = "failed", error
    session.add(job)
    session.flush()
    trail.record(session, actor=actor, record_type="print_job", record_id=job.id, action="send",
                 old={"status": "queued"},
                 new={"status": job.status, "error": job.error, "attempts": job.attempts, "sent_at": job.sent_at})
    return job


def jobs(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the print jobs, newest first."""
    statement = select(PrintJob)
    return db.keyset(session, statement, (PrintJob.created_at, PrintJob.id), page, descending=True)
