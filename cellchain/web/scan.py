"""Scan station pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scan", __name__, url_prefix="/scan")
