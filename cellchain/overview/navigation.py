"""The menu: one entry per area page, shown to the roles that page admits."""

from __future__ import annotations

from flask import Flask, current_app, g, url_for

from cellchain.core import db
from cellchain.core.words import N_, translated
from cellchain.notices import inbox
from cellchain.overview import alerts
from cellchain.people import security
from cellchain.people.rules.roles import Actor, role_title

# (label, endpoint): who sees an entry is who may open its page, as the page's ``roles_required`` says.
NAV: tuple[tuple[str, str], ...] = (
    (N_("Scan"), "scan.station"), (N_("Search"), "scan.search_page"),
    (N_("Lab"), "lab.index"), (N_("Cell banks"), "banks.index"), (N_("Storage"), "storage.index"),
    (N_("Equipment"), "equipment.index"),
    ("QC", "qc.index"), (N_("QA review"), "qa.index"), (N_("Holds"), "qa.hold_list"), (N_("Trial"), "trial.index"),
    (N_("Returned bags"), "trial.returns"),
    (N_("Safety"), "safety.index"), (N_("Protocol deviations"), "safety.deviations"),
    (N_("Ward"), "ward.index"), (N_("Hand-over"), "handover.page"), (N_("Thaw"), "ward.thaw_page"),
    (N_("Reports"), "reports.index"), (N_("Labels"), "labels.index"), (N_("Expired bags"), "handover.expired_page"),
    (N_("Alerts"), "home.alerts_page"), (N_("Audit trail"), "audit.trail"),
    (N_("Users"), "admin.users"),
    (N_("Label printers"), "printers.printers_page"),
)


def roles_of(endpoint: str) -> frozenset[str]:
    """The roles the page's own gate admits: the one statement of them."""
    return frozenset(current_app.view_functions[endpoint].required_roles)


def menu_for(user: Actor | None) -> list[tuple[str, str]]:
    """(label, url) of every area page the user's roles may open, the label in the reader's language."""
    if user is None:
        return []
    return [(translated(label), url_for(endpoint)) for label, endpoint in NAV if roles_of(endpoint) & user.roles]


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
