"""API: cord collections (DESIGN section 8): register one, read one with its chain of custody."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, jsonify

from cellchain import db
from cellchain.domain.canonical import format_utc
from cellchain.models.collections import Collection
from cellchain.models.custody import CustodyEvent
from cellchain.services import collections
from cellchain.web.api import bp, json_body
from cellchain.web.security import current_user, login_required, roles_required


def _utc(moment) -> str | None:
    return format_utc(moment) if moment is not None else None


def event_json(event: CustodyEvent, view: collections.CollectionView) -> dict[str, Any]:
    return {"event_id": event.id, "event": event.event, "from_state": event.from_state, "to_state": event.to_state,
            "location": event.location, "handed_over_by": event.handed_over_by, "received_by": event.received_by,
            "temperature_c": event.temperature_c, "condition": event.condition, "excursion": event.excursion,
            "occurred_at": _utc(event.occurred_at), "recorded_by": view.name(event.recorded_by)}


def collection_json(row: Collection) -> dict[str, Any]:
    return {"din": row.din, "eligibility": row.eligibility, "reasons": row.eligibility_reasons,
            "status": row.custody_state, "donor_code": row.donor_code, "collected_at": _utc(row.collected_at),
            "site": row.site, "consent_obtained": row.consent_obtained, "screening": row.screening,
            "specimen_collected_at": _utc(row.specimen_collected_at), "medical_history_ok": row.medical_history_ok}


@bp.post("/collections")
@roles_required("lab", action="register a cord collection")
def register_collection():
    cfg = current_app.config
    row = collections.register_collection(db.session(), actor=current_user(), data=json_body(),
                                          fin=cfg["FACILITY_FIN"], tz=ZoneInfo(cfg["SITE_TIMEZONE"]),
                                          ranges=cfg["TEMPERATURE_RANGES"])
    return jsonify(collection_json(row)), 201


@bp.get("/collections/<din>")
@login_required
def get_collection(din: str):
    view = collections.collection_view(db.session(), din)
    body = collection_json(view.collection)
    body["custody"] = [event_json(e, view) for e in view.events]
    body["open_excursions"] = [{"excursion_id": e.id, "temperature_c": e.temperature_c, "range": [e.low_c, e.high_c]}
                               for e in view.excursions if e.status == "open"]
    body["lot_id"] = view.lot.lot_number if view.lot else None
    return jsonify(body)
