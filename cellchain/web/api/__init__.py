"""The JSON API under /api/v1 (DESIGN section 8). One blueprint; one module per area registers its routes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request

from cellchain.domain.errors import Invalid

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what was wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid({"body": "send a JSON object with Content-Type: application/json"})
    return data


def init_app(app: Flask) -> None:
    from cellchain.web.api import (  # noqa: F401 - each module registers its routes on bp
        audit,
        auth,
        bags,
        collections,
        custody,
        infusions,
        labels,
        lots,
        openapi,
        qc,
        scans,
        trial,
    )

    app.register_blueprint(bp)
