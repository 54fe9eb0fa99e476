"""Trial pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("trial", __name__, url_prefix="/trial")
