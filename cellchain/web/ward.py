"""Ward pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ward", __name__, url_prefix="/ward")
