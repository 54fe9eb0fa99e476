"""Safety factories: subjects in either arm, an infusion completed with a reaction, and adverse-event bodies
as the API takes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cellchain.core import db
from tests.conftest import signature
from tests.factories import ward

EVENTS = "/api/v1/adverse-events"


def subject_code(app, *, arm: str | None = "A") -> str:
    """A randomized subject (rows made directly, as the ward factories do)."""
    with app.app_context():
        row = ward.subject(db.session(), arm=arm)
        db.commit()
        return row.subject_code


def infused(app, api, *, reactions: list[dict[str, Any]] | None = None) -> tuple[ward.Bedside, int, Any]:
    """A subject infused today and the infusion completed (with ``reactions``): the scene, the infusion id and
    the completion's answer."""
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    started = api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
        "ultrasound_monitored": True})
    assert started.status_code == 201, started.get_json()
    infusion_id = started.get_json()["infusion_id"]
    now = datetime.now(UTC)
    done = api.post(f"/api/v1/infusions/{infusion_id}/complete", as_="nurse", json={
        "volume_ml": scene.bag.volume_ml, "ended_at": now.isoformat(), "ultrasound_monitored": True,
        "reactions": reactions or []})
    return scene, infusion_id, done


def today() -> date:
    return ward.site_today()


def complete_assessment(**overrides: Any) -> dict[str, Any]:
    """A non-serious, complete assessment (grade 1 fever, possibly related, resolved the next day)."""
    onset = today() - timedelta(days=2)
    return {"term": "fever", "category": "infusion_reaction", "onset_on": onset.isoformat(),
            "resolved_on": (onset + timedelta(days=1)).isoformat(), "grade": 1, "seriousness": [],
            "causality": "possible", "expectedness": "expected", "action_taken": "not_changed",
            "outcome": "recovered", **overrides}


def acute_rejection(**overrides: Any) -> dict[str, Any]:
    """A serious grade-3 biopsy-proven acute rejection, still resolving (the trial's event of special interest)."""
    return complete_assessment(**{"term": "acute cellular rejection", "category": "acute_rejection", "grade": 3,
                                  "seriousness": ["hospitalisation"], "causality": "unlikely",
                                  "expectedness": "expected", "outcome": "recovering", "resolved_on": None,
                                  "biopsy_proven": True, "rejection_treatment": "methylprednisolone 500 mg x 3",
                                  **overrides})


def record(api, code: str, body: dict[str, Any], *, as_: str = "investigator"):
    return api.post(EVENTS, as_=as_, json={"subject_id": code, **body})
