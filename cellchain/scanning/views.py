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
from cellchain.core.words import N_
from cellchain.identifiers.scans import jsonable
from cellchain.people.security import roles_required
from cellchain.scanning import resolver, search
from cellchain.scanning.pages import API_PATHS, labels_url, letters, may_open, page_url, read_scan

bp = Blueprint("scan", __name__, url_prefix="/scan")

SCANNERS = ("lab", "qc", "qa", "nurse", "coordinator", "auditor")
SEARCHERS = (*SCANNERS, "investigator")  # the investigator looks subjects up


def record_links(found: resolver.Found) -> dict[str, str]:
    """``url`` (the record's page), ``labels_url`` and ``api`` (its JSON)."""
    return {"url": page_url(found.type, found.key), "labels_url": labels_url(found.type, found.key),
            "api": API_PATHS[found.type].format(key=found.key)}


@bp.route("/")
@roles_required(*SCANNERS, action=N_("use the scan station"))
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
@roles_required(*SCANNERS, action=N_("use the scan station"))
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


def hit_url(hit: search.Hit) -> str | None:
    """The hit's page when the person's role opens it (``may_open``), else None: shown, not linked."""
    return page_url(hit.type, hit.key) if may_open(hit.type) else None


@bp.route("/search")
@roles_required(*SEARCHERS, action=N_("search records"))
def search_page():
    """One box: a scan opens its record's page; typed text lists the subjects, lots, bags, cords, banks and
    vials whose code starts with it."""
    text = request.args.get("q", "")
    if not text:
        return render_template("scan/search.html", found=None, fields={}, typed="")
    try:
        found = search.find(db.session(), text, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]), letters=letters())
    except Invalid as refusal:
        return render_template("scan/search.html", found=None, fields=refusal.fields,
                               typed=text if text.isprintable() else ""), 400
    if found.scanned is not None and not found.hits and hit_url(found.scanned):
        return redirect(hit_url(found.scanned), code=303)
    links = {(hit.type, hit.key): hit_url(hit) for hit in [*found.hits, *([found.scanned] if found.scanned else [])]}
    return render_template("scan/search.html", found=found, links=links, fields={}, typed=text)
