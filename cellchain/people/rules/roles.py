"""Who may do what (docs/rules.md, "People and access"). Record-level rules (maker is not releaser) live
with each record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cellchain.core.errors import Forbidden

ROLES: dict[str, str] = {
    "lab": "Lab technician",
    "qc": "QC analyst",
    "qa": "QA reviewer",
    "coordinator": "Trial coordinator",
    "nurse": "Nurse",
    # Signs clinical decisions and follows up the subjects; reads subjects and safety; never releases a
    # lot. Told at once when a released lot is held (docs/security.md, "Roles").
    "investigator": "Investigator",
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


class Actor(Protocol):
    """Whoever does something, as the services read them: a stored user or a request's principal."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Principal:
    """The person behind one request, read live for that request from their login session or API token.

    Plain values, not the stored user: every request (a nurse's bedside scan among them) is
    authenticated in one small read, and nothing a view does can change the account by accident.
    """

    id: int
    username: str
    full_name: str
    roles: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @classmethod
    def of(cls, user_id: int, username: str, full_name: str, roles: Sequence[str | None]) -> Principal:
        """From the rows of a user joined to their roles (a user with no role gives one NULL role)."""
        return cls(user_id, username, full_name, frozenset(r for r in roles if r is not None))
