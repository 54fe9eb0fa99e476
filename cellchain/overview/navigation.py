"""The menu: one entry per area, shown to the roles that work there (the view still checks the role)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, url_for

from cellchain.people import security
from cellchain.people.rules.roles import Actor, role_title


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]


NAV: tuple[NavItem, ...] = (
    NavItem("Scan", "scan.station", frozenset({"lab", "qc", "qa", "nurse", "coordinator", "auditor"})),
    NavItem("Lab", "lab.index", frozenset({"lab", "qa", "auditor"})),
    NavItem("QC", "qc.index", frozenset({"qc", "qa", "auditor"})),
    NavItem("QA review", "qa.index", frozenset({"qa", "auditor"})),
    NavItem("Trial", "trial.index", frozenset({"coordinator", "auditor"})),
    NavItem("Ward", "ward.index", frozenset({"nurse", "auditor"})),
    NavItem("Reports", "reports.index", frozenset({"qa", "auditor", "coordinator"})),
    NavItem("Audit trail", "audit.trail", frozenset({"auditor", "qa", "admin"})),
    NavItem("Users", "admin.users", frozenset({"admin"})),
)


def menu_for(user: Actor | None) -> list[tuple[str, str]]:
    """(label, url) for the user's roles; areas not built into this app are left out, not linked dead."""
    if user is None:
        return []
    return [(item.label, url_for(item.endpoint)) for item in NAV
            if item.roles & user.roles and item.endpoint in current_app.view_functions]


def _template_context() -> dict:
    return {"current_user": g.get("user"), "menu": menu_for(g.get("user")), "csrf_token": security.csrf_token,
            "role_title": role_title, "site_name": current_app.config["SITE_NAME"]}


def init_app(app: Flask) -> None:
    """What every page's layout reads: who is logged in, their menu, the form token, the site's name."""
    app.context_processor(_template_context)
