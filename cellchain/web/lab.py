"""Lab pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("lab", __name__, url_prefix="/lab")
