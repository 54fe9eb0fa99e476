"""QA review pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("qa", __name__, url_prefix="/qa")
