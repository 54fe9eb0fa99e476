"""API: scans (docs/architecture.md). ``POST /scans {data}`` says what a scan is and which record it names.

Answers 200 ``{kind, fields, data, record?}`` or 400 ``{error, fields: {data: reason}}``; never a 500,
whatever a scanner, a person or an attacker sends (the parser refuses anything it does not recognise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, jsonify

from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.people.security import login_required
from cellchain.scanning import resolver
from cellchain.scanning.views import record_links


@bp.route("/scans", methods=["POST"])
@login_required
def scans():
    data = json_body().get("data")
    if not isinstance(data, str):
        raise Invalid({"data": "give what the scanner read, as text"})
    answer = resolver.describe(db.session(), data, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]))
    body: dict[str, Any] = answer.scan.as_dict()
    if answer.record is not None:
        found = answer.record
        summary = {k: format_utc(v) if isinstance(v, datetime) else v for k, v in found.summary.items()}
        body["record"] = {"type": found.type, "id": found.id, "key": found.key, **record_links(found),
                          "summary": summary}
    if answer.note:
        body["note"] = answer.note
    return jsonify(body)
