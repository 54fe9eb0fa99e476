"""The scan station: one scan box that takes any scan and opens the record it belongs to.

A keyboard-wedge scanner types the data and presses Enter. If the scan names a record and that
record's page exists (``lab.collection``, ``lab.lot``, ``lab.bag``, ``trial.subject``), the station
opens it; otherwise it shows what the scan is, its fields and the record's summary, or why it was refused.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.core.web import readable
from cellchain.identifiers.scans import jsonable
from cellchain.people.security import roles_required
from cellchain.scanning import resolver

bp = Blueprint("scan", __name__, url_prefix="/scan")

SCANNERS = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")
PAGES = {"collection": "lab.collection", "lot": "lab.lot", "bag": "lab.bag", "subject": "trial.subject"}
API_PATHS = {"collection": "/api/v1/collections/{key}", "lot": "/api/v1/lots/{key}", "bag": "/api/v1/bags/{key}",
             "subject": "/api/v1/subjects/{key}"}


def page_url(found: resolver.Found) -> str | None:
    """The record's own page, if the area that owns it has one: its one URL argument gets the record's
    public key (DIN, lot id, bag id, subject id), or its row id when the argument is a number."""
    endpoint = PAGES[found.type]
    if endpoint not in current_app.view_functions:
        return None
    for rule in current_app.url_map.iter_rules(endpoint):
        if "GET" not in (rule.methods or ()) or len(rule.arguments) != 1:
            continue
        (argument,) = rule.arguments
        for value in (found.key, found.id):
            try:
                return url_for(endpoint, **{argument: value})
            except (BuildError, ValueError, TypeError):
                continue
    return None


def _api_url(found: resolver.Found) -> str | None:
    path = API_PATHS[found.type].format(key=found.key)
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None
    return path


def record_links(found: resolver.Found) -> dict[str, str]:
    """``url`` (the record's page, else its labels page), ``labels_url`` and, when it exists, ``api``."""
    labels_url = url_for("labels.print_page", item_type=found.type, key=found.key)
    links = {"url": page_url(found) or labels_url, "labels_url": labels_url}
    api = _api_url(found)
    if api:
        links["api"] = api
    return links


@bp.route("/")
@roles_required(*SCANNERS, action="use the scan station")
def station():
    return render_template("scan/station.html", answer=None, fields={}, scanned="")


@bp.route("/", methods=["POST"])
@roles_required(*SCANNERS, action="use the scan station")
def scan():
    raw = request.form.get("scan", "")
    try:
        answer = resolver.describe(db.session(), raw, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]))
    except Invalid as refusal:
        db.rollback()
        return render_template("scan/station.html", answer=None, fields=refusal.fields,
                               scanned=raw if raw.isprintable() else ""), 400
    page = page_url(answer.record) if answer.record else None
    if page:
        return redirect(page, code=303)
    links = record_links(answer.record) if answer.record else {}
    return render_template("scan/station.html", answer=answer, fields={}, scanned="", links=links,
                           scan_fields=jsonable(answer.scan.fields),
                           summary=readable(answer.record.summary) if answer.record else {})
