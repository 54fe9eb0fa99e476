"""The first page after login."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from cellchain.web.security import current_user, login_required

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("home/index.html", user=current_user())


@bp.route("/api-docs")
@login_required
def api_docs():
    """The API document as a page people can read; the JSON is at /api/v1/openapi.json."""
    from cellchain.web.api.openapi import build_spec

    return render_template("home/api_docs.html", spec=build_spec(current_app))
