"""Who may do what (DESIGN section 2). Record-level rules (maker is not releaser) live with each record."""

from __future__ import annotations

from collections.abc import Iterable

from cellchain.domain.errors import Forbidden

ROLES: dict[str, str] = {
    "lab": "Lab technician",
    "qc": "QC analyst",
    "qa": "QA reviewer",
    "coordinator": "Trial coordinator",
    "nurse": "Nurse",
    "admin": "Administrator",
    "auditor": "Auditor / monitor",
}


def role_title(role: str) -> str:
    return ROLES.get(role, role)


def require_role(held: Iterable[str], *allowed: str, action: str) -> None:
    """Refuse unless the actor holds one of ``allowed``; the message names the action and the roles."""
    if not set(held).intersection(allowed):
        titles = " or ".join(role_title(r) for r in allowed)
        raise Forbidden(f"only a {titles} may {action}")
