"""The JSON API under /api/v1: one blueprint; each area's ``api`` module registers its routes on it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from cellchain.core.errors import Invalid

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what was wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid({"body": "send a JSON object with Content-Type: application/json"})
    return data


def is_api_request() -> bool:
    return request.path.startswith("/api/")
