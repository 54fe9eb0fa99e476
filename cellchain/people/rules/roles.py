"""Who may do what (docs/rules.md, "People and access"). Record-level rules (maker is not releaser) live
with each record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cellchain.core.errors import Forbidden, Reason
from cellchain.core.words import N_, joined, translated

ROLES: dict[str, str] = {
    "lab": N_("Lab technician"),
    "qc": N_("QC analyst"),
    "qa": N_("QA reviewer"),
    "coordinator": N_("Trial coordinator"),
    "nurse": N_("Nurse"),
    # Signs clinical decisions and follows up the subjects; reads subjects and safety; never releases a
    # lot. Told at once when a released lot is held (docs/security.md, "Roles").
    "investigator": N_("Investigator"),
    "admin": N_("Administrator"),
    "auditor": N_("Auditor / monitor"),
}


# Refusal codes of the account rules (docs/rules.md, "People and access").
ADMIN_WITH_OPERATIONAL_ROLE = "admin_with_operational_role"
QA_WITH_LAB = "qa_with_lab"
QA_WITH_QC = "qa_with_qc"
OWN_ACCOUNT = "own_account"
GRANT_SAME_ADMIN = "grant_same_admin"
GRANT_NOT_PENDING = "grant_not_pending"


def role_set_refusals(roles: Iterable[str], *, allow_qa_with_lab_or_qc: bool = False) -> list[Reason]:
    """Why one account may not hold these roles together, or [] when it may (21 CFR 11.10(g); EU GMP
    Part I 2.4 and Annex 16: QA independent of production and QC).

    The administrator manages accounts and holds no operational role (and no operational account is ever
    also an administrator), so nobody can both grant a power and use it. QA with lab or QC would let one
    person make or test a lot and release it; a site whose staffing needs that allows it by a setting
    (``ALLOW_QA_WITH_LAB_OR_QC``), and the record-level rules (maker is not releaser) still apply.
    """
    held = set(roles)
    reasons = []
    if "admin" in held and held - {"admin"}:
        others = ", ".join(role_title(r) for r in sorted(held - {"admin"}))
        reasons.append(Reason(ADMIN_WITH_OPERATIONAL_ROLE, others=others))
    if not allow_qa_with_lab_or_qc and "qa" in held:
        for other, code in (("lab", QA_WITH_LAB), ("qc", QA_WITH_QC)):
            if other in held:
                reasons.append(Reason(code, qa=role_title("qa"), other=role_title(other)))
    return reasons


def role_title(role: str) -> str:
    """A role's title in the reader's language."""
    return translated(ROLES[role]) if role in ROLES else role


def roles_worded(roles: Iterable[str]) -> str:
    """The roles' titles in the reader's language, joined as alternatives ("QA reviewer or QC analyst")."""
    return joined((role_title(r) for r in roles), N_("{items} or {item}"))


def require_role(held: Iterable[str], *allowed: str, action: str) -> None:
    """Refuse unless the actor holds one of ``allowed``; the message names the action and the roles.

    ``action`` is an English phrase marked ``N_`` where it is written ("release a lot"); it is translated
    here, with the sentence and the titles, when the refusal is made (docs/architecture.md, "Languages").
    """
    if not set(held).intersection(allowed):
        raise Forbidden(translated(N_("only a {roles} may {action}")).format(roles=roles_worded(allowed),
                                                                            action=translated(action)))


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
    # The language the person chose (``users.language``), read in the same statement: an API caller's
    # answers are worded in it unless the request's Accept-Language names another (languages/selection.py).
    language: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @classmethod
    def of(cls, user_id: int, username: str, full_name: str, roles: Sequence[str | None],
           language: str | None = None) -> Principal:
        """From the rows of a user joined to their roles (a user with no role gives one NULL role)."""
        return cls(user_id, username, full_name, frozenset(r for r in roles if r is not None), language)
