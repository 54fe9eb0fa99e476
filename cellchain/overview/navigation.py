"""The menu: one entry per area page, shown to the roles that page admits."""

from __future__ import annotations

from flask import Flask, current_app, g, url_for

from cellchain.core import db
from cellchain.notices import inbox
from cellchain.overview import alerts
from cellchain.people import security
from cellchain.people.rules.roles import Actor, role_title

# (label, endpoint): who sees an entry is who may open its page, as the page's ``roles_required`` says.
NAV: tuple[tuple[str, str], ...] = (
    ("Scan", "scan.station"), ("Search", "scan.search_page"),
    ("Lab", "lab.index"), ("Cell banks", "banks.index"), ("Storage", "storage.index"),
    ("Equipment", "equipment.index"),
    ("QC", "qc.index"), ("QA review", "qa.index"), ("Holds", "qa.hold_list"), ("Trial", "trial.index"),
    ("Returned bags", "trial.returns"),
    ("Safety", "safety.index"), ("Protocol deviations", "safety.deviations"),
    ("Ward", "ward.index"), ("Hand-over", "handover.page"), ("Thaw", "ward.thaw_page"), ("Reports", "reports.index"),
    ("Labels", "labels.index"), ("Expired bags", "handover.expired_page"),
    ("Alerts", "home.alerts_page"), ("Audit trail", "audit.trail"),
    ("Users", "admin.users"),
    ("Label printers", "printers.printers_page"),
)


def roles_of(endpoint: str) -> frozenset[str]:
    """The roles the page's own gate admits: the one statement of them."""
    return frozenset(current_app.view_functions[endpoint].required_roles)


def menu_for(user: Actor | None) -> list[tuple[str, str]]:
    """(label, url) of every area page the user's roles may open."""
    if user is None:
        return []
    return [(label, url_for(endpoint)) for label, endpoint in NAV if roles_of(endpoint) & user.roles]


def inbox_unread() -> int:
    """The logged-in person's unread notices, counted when the layout shows the number (one statement)."""
    user = g.get("user")
    return 0 if user is None else inbox.unread_count(db.session(), user.id)


def alerts_now() -> int:
    """How many things need the logged-in person's attention now (``overview/alerts.py``: one bounded count
    per alert of their roles), for the top bar; 0 for a person whose roles have no alerts."""
    user = g.get("user")
    if user is None or not set(alerts.ALERT_ROLES) & user.roles:
        return 0
    config = current_app.config
    return alerts.total(alerts.for_roles(db.session(), user.roles, timezone=config["SITE_TIMEZONE"],
                                         expiry_hours=config["EXPIRY_ALERT_HOURS"]))


def _template_context() -> dict:
    return {"current_user": g.get("user"), "menu": menu_for(g.get("user")), "csrf_token": security.csrf_token,
            "role_title": role_title, "site_name": current_app.config["SITE_NAME"], "inbox_unread": inbox_unread,
            "alerts_now": alerts_now}


def init_app(app: Flask) -> None:
    """What every page's layout reads: who is logged in, their menu, the form token, the site's name."""
    app.context_processor(_template_context)
