"""Label printing pages: PDFs and ZPL for the records' labels."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("labels", __name__, url_prefix="/labels")
