"""The audit trail for auditors and QA: filter, read, export, verify; the rows changed outside the
application, which QA reviews (the one write here)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from flask import Blueprint, Response, redirect, render_template, request, url_for

from cellchain.audit import reconcile, row_changes
from cellchain.audit import trail as audit
from cellchain.audit.forms import ReviewChangesForm
from cellchain.audit.rules import readable
from cellchain.core import db
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.core.page_forms import PageForm, Refusal, site_zone, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_, translated
from cellchain.core.words.entries import RECORD_TYPES, record_type_label
from cellchain.people.security import current_user, roles_required
from cellchain.scanning import audit_scope
from cellchain.scanning.pages import letters

bp = Blueprint("audit", __name__, url_prefix="/audit")
TRAIL_PAGE_SIZE = 100  # an auditor reads the trail in long runs; it showed 100 entries a page before keyset paging
CSV_COLUMNS = ("seq", "recorded_at", "actor", "record_type", "record_id", "action", "old_values", "new_values",
               "reason", "prev_hash", "hash")


def _day_bound(text: str, field: str, end: bool) -> str | None:
    """A date typed in the site's zone, as the inclusive UTC bound of that day."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()  # a calendar date; its zone is added below
    except ValueError:
        raise Invalid({field: translated(N_("use YYYY-MM-DD"))}) from None
    local = datetime.combine(day, time.max if end else time.min, site_zone())
    return format_utc(local)


FILTER_ARGS = ("code", "record_type", "record_id", "actor", "since", "until")


def _link_args() -> dict[str, str]:
    """The filters as the page's links repeat them. Only these names: the query string goes into
    ``url_for(**args)``, where a parameter named ``endpoint``, ``_method`` or ``_external`` would break
    the link or point it elsewhere."""
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


def _scope() -> audit_scope.Scope | None:
    """The record a scanned or typed code names, with its children (``Invalid`` names ``code``)."""
    code = request.args.get("code", "")
    if not code:
        return None
    return audit_scope.scope_of(db.session(), code, tz=site_zone(), letters=letters())


def _filter_from_args(scope: audit_scope.Scope | None = None) -> audit.AuditFilter:
    args = request.args
    return audit.AuditFilter(record_type=args.get("record_type") or None, record_id=args.get("record_id") or None,
                             actor=args.get("actor") or None, since=_day_bound(args.get("since", ""), "since", False),
                             until=_day_bound(args.get("until", ""), "until", True),
                             records=scope.records if scope else None)


def _record_types() -> list[tuple[str, str]]:
    """The record types the filter offers, as (code, word) in the reader's language and its order; a type typed
    into the address that is not listed stays chosen."""
    codes = set(RECORD_TYPES)
    chosen = request.args.get("record_type")
    if chosen:
        codes.add(chosen)
    return sorted(((code, record_type_label(code)) for code in codes), key=lambda pair: pair[1])


@bp.app_template_filter("audit_rows")
def audit_rows(stored: str | None) -> list[tuple[str, str]]:
    """An entry's stored values as (field, value) rows for the page."""
    return readable.rows(stored)


@bp.route("/")
@roles_required("auditor", "qa", "admin", action=N_("read the audit trail"))
def trail():
    """The trail, filtered; ``code`` (a scan or typed code) shows one record's entries and its children's."""
    try:
        scope = _scope()
    except Invalid as refusal:
        return render_template("audit/trail.html", entries=[], total=0, page=None, args=_link_args(), scope=None,
                               fields=refusal.fields, record_types=_record_types()), 400
    flt = _filter_from_args(scope)
    session = db.session()
    page = audit.page_of(session, flt, page_request(default=TRAIL_PAGE_SIZE))
    return render_template("audit/trail.html", entries=page.rows, total=audit.count(session, flt), page=page,
                           args=_link_args(), scope=scope, fields={}, record_types=_record_types())


@bp.route("/export.csv")
@roles_required("auditor", "qa", "admin", action=N_("export the audit trail"))
def export_csv():
    entries = audit.search(db.session(), _filter_from_args(_scope()), limit=None)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_safe(getattr(entry, column)) for column in CSV_COLUMNS])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-trail.csv"})


def _csv_safe(value):
    """Spreadsheets run cells that start with = + - @ as formulas; prefix them so they stay text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.route("/verify")
@roles_required("auditor", "qa", "admin", action=N_("verify the audit trail"))
def verify():
    """From the newest checkpoint by default (quick, every day); ``?scope=full`` walks the whole chain. Every
    regulated record is compared with the trail either way (one indexed read per batch of records)."""
    full = request.args.get("scope") == "full"
    session = db.session()
    report = audit.verify_chain(session, incremental=not full)
    return render_template("audit/verify.html", report=report, full=full, records=reconcile.reconcile(session),
                           outside=row_changes.count(session))


CHANGES_SHOWN = 200


def _changes_page(problem: Refusal | None = None, form: PageForm | None = None):
    session = db.session()
    waiting = row_changes.newest(session, limit=CHANGES_SHOWN)
    return render_template("audit/changes.html", waiting=waiting, total=row_changes.count(session),
                           waiting_count=row_changes.count(session, waiting_only=True), problem=problem,
                           form=form or {}, can_review="qa" in current_user().roles)


@bp.route("/changes")
@roles_required("auditor", "qa", "admin", action=N_("read the changes made outside the application"))
def changes():
    """The rows of regulated tables changed outside the application and not yet reviewed, newest first."""
    return _changes_page()


@bp.route("/changes/review", methods=["POST"])
@roles_required("qa", action=N_("review changes made outside the application"))
def review_changes():
    form = ReviewChangesForm()

    def review():
        text = (form.through.data or "").strip()
        through = int(text) if text.isdigit() else text
        # The list it leads to no longer shows what was reviewed; the review itself is in the trail.
        row_changes.review(db.session(), actor=current_user(), through=through, note=form.note.data or "")
        return redirect(url_for("audit.changes"))

    return submit(form, review, lambda refusal: _changes_page(refusal, form))
