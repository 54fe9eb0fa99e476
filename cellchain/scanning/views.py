"""The scan station: one scan box that takes any scan and opens the record it belongs to.

A keyboard-wedge scanner types the data and presses Enter. If the scan names a record, the station
opens its page (``lab.collection``, ``lab.lot``, ``lab.bag``, ``trial.subject``); otherwise it shows
what the scan is and its fields, or why it was refused.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.identifiers.scans import jsonable
from cellchain.people.security import roles_required
from cellchain.scanning import resolver

bp = Blueprint("scan", __name__, url_prefix="/scan")

SCANNERS = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")
PAGES = {"collection": ("lab.collection", "din"), "lot": ("lab.lot", "lot_id"), "bag": ("lab.bag", "bag_id"),
         "subject": ("trial.subject", "subject_code")}
API_PATHS = {"collection": "/api/v1/collections/{key}", "lot": "/api/v1/lots/{key}", "bag": "/api/v1/bags/{key}",
             "subject": "/api/v1/subjects/{key}"}


def page_url(found: resolver.Found) -> str:
    """The record's own page, by its public key (DIN, lot id, bag id, subject id)."""
    endpoint, argument = PAGES[found.type]
    return url_for(endpoint, **{argument: found.key})


def record_links(found: resolver.Found) -> dict[str, str]:
    """``url`` (the record's page), ``labels_url`` and ``api`` (its JSON)."""
    return {"url": page_url(found), "labels_url": url_for("labels.print_page", item_type=found.type, key=found.key),
            "api": API_PATHS[found.type].format(key=found.key)}


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
    if answer.record:
        return redirect(page_url(answer.record), code=303)
    return render_template("scan/station.html", answer=answer, fields={}, scanned="",
                           scan_fields=jsonable(answer.scan.fields))
