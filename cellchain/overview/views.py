"""The first page after login: a panel per role the person holds, each linking to where the work is done;
the small charts those panels show; and the API document as a page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import gettext, ngettext

from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.core.words import N_
from cellchain.manufacturing import batch
from cellchain.overview import alerts, charts, dashboards
from cellchain.people.security import current_user, login_required, roles_required
from cellchain.trial import visits

bp = Blueprint("home", __name__)
CHART_ROLES = ("coordinator", "nurse", "auditor")


def _settings() -> dashboards.Settings:
    config = current_app.config
    return dashboards.Settings(timezone=config["SITE_TIMEZONE"],
                               passage_interval_days=config["PASSAGE_INTERVAL_DAYS"],
                               passage_limit=config["PASSAGE_LIMIT"],
                               steps=batch.step_definitions(config["BATCH_RECORD_STEPS"]),
                               equipment_due_days=config["EQUIPMENT_DUE_DAYS"])


@bp.route("/")
@login_required
def index():
    user = current_user()
    board = dashboards.for_user(db.session(), user=user, settings=_settings())
    # The infusion chart is drawn once, in the first of the panels that shows it.
    chart_in = next((name for name, panel in (("coordinator", board.coordinator), ("ward", board.ward),
                                              ("auditor", board.auditor)) if panel is not None), None)
    return render_template("home/index.html", user=user, board=board, chart_in=chart_in,
                           chart_weeks=dashboards.CHART_WEEKS, near_days=dashboards.NEAR_WINDOW_DAYS,
                           partial_days=dashboards.PARTIAL_INFUSION_DAYS,
                           passage_interval=current_app.config["PASSAGE_INTERVAL_DAYS"])


@bp.route("/dashboard/infusions-per-week.svg")
@roles_required(*CHART_ROLES, action=N_("see infusions per week"))
def infusions_per_week():
    """Completed infusions per ISO week (site time) over the last weeks, as an SVG bar chart."""
    zone = current_app.config["SITE_TIMEZONE"]
    weeks = dashboards.infusions_per_week(db.session(), timezone=zone, today=visits.site_today(zone))
    bars = [charts.Bar(w.key, w.label, w.count, ngettext(
                "week %(week)s (from %(monday)s): %(num)d infusion completed",
                "week %(week)s (from %(monday)s): %(num)d infusions completed", w.count,
                week=w.key, monday=w.monday.isoformat()))
            for w in weeks]
    caption = gettext("%(count)s completed in the last %(weeks)s ISO weeks (site time)",
                      count=sum(w.count for w in weeks), weeks=len(weeks))
    svg = charts.bar_chart_svg(bars, title=gettext("Completed infusions per week"), caption=caption,
                               empty=gettext("Nothing to show"))
    return Response(svg, mimetype="image/svg+xml")


@bp.route("/alerts")
@roles_required(*alerts.ALERT_ROLES, action=N_("see what needs attention"))
def alerts_page():
    """What needs attention now for the person's roles, each linking to where it is dealt with."""
    config, now = current_app.config, utcnow()
    session = db.session()
    hours = config["EXPIRY_ALERT_HOURS"]
    found = alerts.for_roles(session, current_user().roles, timezone=config["SITE_TIMEZONE"], expiry_hours=hours,
                             now=now)
    expiring = alerts.expiring_bags(session, now=now, hours=hours) \
        if any(a.code == "bags_expiring" for a in found) else []
    return render_template("home/alerts.html", alerts=[(a, url_for(a.endpoint, **dict(a.args))) for a in found],
                           expiring=expiring, hours=hours)


@bp.route("/api-docs")
@login_required
def api_docs():
    """The API document as a page people can read; the JSON is at /api/v1/openapi.json."""
    from cellchain.overview.openapi import build_spec

    return render_template("home/api_docs.html", spec=build_spec(current_app))
