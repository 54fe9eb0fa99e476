"""Bearer tokens for scanner stations and hospital systems."""

from __future__ import annotations

from typing import Any

from flask import request

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import answer_not_kept, bp
from cellchain.core.errors import Invalid
from cellchain.core.schemas import ErrorSchema
from cellchain.core.words import N_, translated
from cellchain.people import accounts, role_grants
from cellchain.people.models import RoleGrant, User
from cellchain.people.schemas import (
    ApproveGrantIn,
    EmailIn,
    MeOut,
    PasswordIn,
    PasswordOut,
    RevokedOut,
    RoleChangeOut,
    RoleGrantOut,
    RoleGrantsOut,
    RolesIn,
    TokenIn,
    TokenOut,
    UserOut,
)
from cellchain.people.security import current_user, login_required, login_throttle, policy, roles_required

TAGS = ["auth"]


@bp.post("/auth/token", tags=TAGS)
@answer_not_kept  # the answer is a bearer token: never stored in the clear for a retry
@bp.arguments(TokenIn)
@bp.response(201, TokenOut)
@bp.alt_response(401, schema=ErrorSchema, description="the username or password is wrong")
@bp.alt_response(403, schema=ErrorSchema, description="the account is locked or disabled")
@bp.alt_response(429, schema=ErrorSchema, description="too many failed logins from this address; see Retry-After")
def issue_token(data: dict[str, Any]) -> dict[str, Any]:
    """Exchange a username and password for a bearer token"""
    username, password = data.get("username"), data.get("password")
    fields = {k: "required" for k, v in (("username", username), ("password", password))
              if not isinstance(v, str) or not v}
    if fields:
        raise Invalid(fields)
    session = db.session()
    with login_throttle(username.strip()):
        user = accounts.check_credentials(session, username.strip(), password, policy=policy())
    plain, token = accounts.issue_token(session, user, policy=policy(), label=str(data.get("label", "")))
    return {"plain": plain, "record": token, "user": user}


@bp.post("/auth/revoke", tags=TAGS)
@login_required
@bp.response(200, RevokedOut)
def revoke_token():
    """Revoke the bearer token of this request"""
    header = request.headers.get("Authorization", "")
    return accounts.revoke_token(db.session(), actor=current_user(), plain=header[7:].strip())


@bp.get("/auth/me", tags=TAGS)
@login_required
@bp.response(200, MeOut)
def me():
    """Who the token belongs to"""
    return current_user()


@bp.post("/auth/password", tags=TAGS)
@login_required
@bp.arguments(PasswordIn)
@bp.response(200, PasswordOut)
def change_password(data: dict[str, Any]) -> dict[str, Any]:
    """Change one's own password

    Every login session and API token of the person ends, this request's token too: ask for a new one.
    """
    texts = {name: data.get(name) if isinstance(data.get(name), str) else "" for name in
             ("current_password", "new_password", "repeat_password")}
    _, revoked = accounts.change_password(db.session(), actor=current_user(), policy=policy(),
                                          current=texts["current_password"], new=texts["new_password"],
                                          repeat=texts["repeat_password"])
    return {"tokens_revoked": revoked}


@bp.post("/users/<int:user_id>/email", tags=["users"])
@roles_required("admin", action=N_("change e-mail addresses"))
@bp.arguments(EmailIn)
@bp.response(200, UserOut)
def set_email(data: dict[str, Any], user_id: int) -> User:
    """Set or clear where a person's notices are mailed (administrator)"""
    return accounts.set_email(db.session(), actor=current_user(), user_id=user_id, email=data.get("email"))


@bp.post("/users/<int:user_id>/roles", tags=["users"])
@roles_required("admin", action=N_("change roles"))
@bp.arguments(RolesIn)
@bp.response(200, RoleChangeOut)
def set_roles(data: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Change a person's roles (administrator): taking roles away is done at once, giving one is a pending
    grant that a second administrator approves"""
    roles = data.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Invalid({"roles": translated(N_("a list of role names"))})
    reason = data.get("reason")
    session = db.session()
    grant = accounts.set_roles(session, actor=current_user(), user_id=user_id, roles=roles,
                               reason=reason if isinstance(reason, str) else "", policy=policy())
    return {"user": accounts.get_user(session, user_id), "grant": grant}


@bp.get("/role-grants", tags=["users"])
@roles_required("admin", "auditor", action=N_("see role grants"))
@bp.response(200, RoleGrantsOut)
def pending_grants() -> dict[str, Any]:
    """Role grants waiting for a second administrator's signature"""
    return {"grants": role_grants.pending(db.session())}


@bp.post("/role-grants/<int:grant_id>/approve", tags=["users"])
@roles_required("admin", action=N_("approve role grants"))
@bp.arguments(ApproveGrantIn)
@bp.response(200, RoleGrantOut)
def approve_grant(data: dict[str, Any], grant_id: int) -> RoleGrant:
    """Approve a role grant with an e-signature (a second administrator: not the one who asked, not its owner)"""
    return role_grants.approve(db.session(), actor=current_user(), grant_id=grant_id,
                               signature=signatures.parse_signature(data.get("signature")), policy=policy())
