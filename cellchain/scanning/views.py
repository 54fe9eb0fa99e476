"""The scan station: one scan box that takes any scan and opens the record it belongs to.

A keyboard-wedge scanner types the data and presses Enter. If the scan names a record, the station
opens its page (``lab.collection``, ``lab.lot``, ``lab.bag``, ``trial.subject``); otherwise it shows
what the scan is and its fields, or why it was refused.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.identifiers.scans import jsonable
from cellchain.people.security import roles_required
from cellchain.scanning import resolver
from cellchain.scanning.pages import API_PATHS, labels_url, page_url, read_scan

bp = Blueprint("scan", __name__, url_prefix="/scan")

SCANNERS = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")


def record_links(found: resolver.Found) -> dict[str, str]:
    """``url`` (the record's page), ``labels_url`` and ``api`` (its JSON)."""
    return {"url": page_url(found.type, found.key), "labels_url": labels_url(found.type, found.key),
            "api": API_PATHS[found.type].format(key=found.key)}


@bp.route("/")
@roles_required(*SCANNERS, action="use the scan station")
def station():
    """The scan box; with ``?scan=`` (where a posted scan that opens no page is sent) what that scan is."""
    raw = request.args.get("scan", "")
    if not raw:
        return render_template("scan/station.html", answer=None, fields={}, scanned="")
    try:
        answer, _page = read_scan(raw)
    except Invalid as refusal:
        db.rollback()
        return _refused(raw, refusal)
    return render_template("scan/station.html", answer=answer, fields={}, scanned="",
                           scan_fields=jsonable(answer.scan.fields))


def _refused(raw: str, refusal: Invalid):
    return render_template("scan/station.html", answer=None, fields=refusal.fields,
                           scanned=raw if raw.isprintable() else ""), 400


@bp.route("/", methods=["POST"])
@roles_required(*SCANNERS, action="use the scan station")
def scan():
    """A scan opens its record's page, or the station's own GET page saying what it is (post/redirect/get:
    going back never sends the scan again); a refused scan is said here."""
    raw = request.form.get("scan", "")
    try:
        _answer, page = read_scan(raw)
    except Invalid as refusal:
        db.rollback()
        return _refused(raw, refusal)
    return redirect(page or url_for("scan.station", scan=raw), code=303)
