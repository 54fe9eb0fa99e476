"""API: scans (docs/architecture.md). ``POST /scans {data}`` says what a scan is and which record it names;
``GET /search?q=`` finds records by a scan or the start of their codes.

Answers 200 ``{kind, fields, data, record?}`` or 400 ``{error, fields: {data: reason}}``; never a 500,
whatever a scanner, a person or an attacker sends (the parser refuses anything it does not recognise).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.errors import Invalid
from cellchain.core.schemas import RowWith
from cellchain.core.words import N_, translated
from cellchain.people.security import login_required, roles_required
from cellchain.scanning import resolver, search
from cellchain.scanning.pages import API_PATHS
from cellchain.scanning.schemas import ScanIn, ScanOut, SearchOut, SearchQuery
from cellchain.scanning.views import SEARCHERS, record_links


@bp.route("/scans", methods=["POST"], tags=["scans"])
@login_required
@bp.arguments(ScanIn)
@bp.response(200, ScanOut)
def scans(body: dict[str, Any]) -> RowWith:
    """Say what a scan is and which record it names"""
    data = body.get("data")
    if not isinstance(data, str):
        raise Invalid({"data": translated(N_("give what the scanner read, as text"))})
    answer = resolver.describe(db.session(), data, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]),
                               letters=current_app.config["LOCAL_DATA_IDENTIFIERS"],
                               gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
    found: dict[str, Any] = {}
    if answer.record is not None:
        found["record"] = RowWith(answer.record, **record_links(answer.record))
    if answer.note:
        found["note"] = answer.note
    return RowWith(answer.scan, **found)


def _hit(hit: search.Hit) -> dict[str, Any]:
    return {"type": hit.type, "key": hit.key, "words": hit.words,
            **({"api": API_PATHS[hit.type].format(key=hit.key)} if hit.type in API_PATHS else {})}


@bp.route("/search", methods=["GET"], tags=["scans"])
@roles_required(*SEARCHERS, action=N_("search records"))
@bp.arguments(SearchQuery, location="query")
@bp.response(200, SearchOut)
def search_records(query: dict[str, Any]) -> dict[str, Any]:
    """Find records by a scan or the start of their codes (writes nothing)"""
    found = search.find(db.session(), query.get("q"), tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]),
                        letters=current_app.config["LOCAL_DATA_IDENTIFIERS"])
    return {"q": found.text, "scanned": _hit(found.scanned) if found.scanned else None,
            "hits": [_hit(hit) for hit in found.hits], "note": found.note}
