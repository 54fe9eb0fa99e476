"""Who a request speaks for: the user and their roles, read in the one statement that checks the credential.

An API token (``accounts``) and a page's login session (``login_guard``) are different credentials
with their own checks; both read the same user columns and roles, and both refuse an account that is
deactivated or locked. That shared part is here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Join, Row

from cellchain.people.models import User, UserRole
from cellchain.people.rules.roles import Principal

USERS, ROLES = User.__table__, UserRole.__table__
# The user once per role (a user with no role gives one row with a NULL role).
COLUMNS = (USERS.c.id, USERS.c.username, USERS.c.full_name, USERS.c.active, USERS.c.locked_at, USERS.c.language,
           ROLES.c.role)


def with_roles(credential: Join) -> Join:
    """``credential`` (the credential's table joined to ``USERS``) joined to the user's roles."""
    return credential.outerjoin(ROLES, ROLES.c.user_id == USERS.c.id)


def principal_of(rows: Sequence[Row]) -> Principal | None:
    """The principal of a credential's rows; None when it matched nothing or the account is deactivated
    or locked."""
    if not rows:
        return None
    first = rows[0]
    if not first.active or first.locked_at is not None:
        return None
    return Principal.of(first.id, first.username, first.full_name, [row.role for row in rows], first.language)
