"""The first page after login."""

from __future__ import annotations

from flask import Blueprint, render_template

from cellchain.web.security import current_user, login_required

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("home/index.html", user=current_user())
