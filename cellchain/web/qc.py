"""QC pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("qc", __name__, url_prefix="/qc")
