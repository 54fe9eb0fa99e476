"""A role grant takes effect only when a second administrator signs it (docs/rules.md, "People and access").

One administrator asks (``accounts.set_roles`` or a new account, both through ``accounts.request_grant``);
the grant waits, pending; a different administrator, who is not the account's owner, approves it with an
e-signature meaning ``approved``. Both steps are audited. The roles are checked again at approval, so a
site policy changed in between is obeyed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core.errors import NotFound, Reason, Refused
from cellchain.core.words import N_
from cellchain.people import accounts
from cellchain.people.models import RoleGrant, User
from cellchain.people.rules.roles import (
    GRANT_NOT_PENDING,
    GRANT_SAME_ADMIN,
    OWN_ACCOUNT,
    Actor,
    require_role,
    role_set_refusals,
)

SIGNER_NOT_ACTOR = "signer_not_actor"


def pending(session: Session) -> list[RoleGrant]:
    """Grants waiting for a second administrator, oldest first."""
    return list(session.exec(select(RoleGrant).where(RoleGrant.status == "pending").order_by(RoleGrant.id)))


def get(session: Session, grant_id: int, *, lock: bool = False) -> RoleGrant:
    statement = select(RoleGrant).where(RoleGrant.id == grant_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    grant = session.exec(statement).first()
    if grant is None:
        raise NotFound(f"no role grant {grant_id}")
    return grant


def content(grant: RoleGrant, user: User) -> dict[str, Any]:
    """What the approving administrator signs: whose roles, from what, to what, asked by whom and why."""
    return {"grant": grant.id, "user": user.username, "roles": grant.role_list,
            "previous_roles": [r for r in grant.previous_roles.split(",") if r],
            "requested_by": grant.requested_by, "reason": grant.reason}


def _refusals(grant: RoleGrant, actor: Actor, signature: signatures.SignatureInput,
              policy: accounts.Policy) -> list[Reason]:
    reasons = []
    if grant.status != "pending":
        reasons.append(Reason(GRANT_NOT_PENDING, grant_id=grant.id, status=grant.status))
    if grant.requested_by == actor.id:
        reasons.append(Reason(GRANT_SAME_ADMIN))
    if grant.user_id == actor.id:
        reasons.append(Reason(OWN_ACCOUNT, variant="approve"))
    if signature.username.strip().lower() != actor.username.lower():
        reasons.append(Reason(SIGNER_NOT_ACTOR))
    reasons += role_set_refusals(grant.role_list, allow_qa_with_lab_or_qc=policy.allow_qa_with_lab_or_qc)
    return reasons


def approve(session: Session, *, actor: Actor, grant_id: int, signature: signatures.SignatureInput,
            policy: accounts.Policy) -> RoleGrant:
    """A second administrator signs the grant (meaning ``approved``); the account then holds its roles."""
    require_role(actor.roles, "admin", action=N_("approve role grants"))
    grant = get(session, grant_id, lock=True)
    reasons = _refusals(grant, actor, signature, policy)
    if reasons:
        raise Refused(reasons)
    user = accounts.get_user(session, grant.user_id)
    signed = signatures.sign(session, signature, record_type="role_grant", record_id=grant.id,
                             content=content(grant, user), policy=policy, meanings=("approved",), roles=("admin",),
                             action=N_("approve a role grant"), typist=actor)
    accounts.apply_roles(session, actor=actor, user=user, roles=grant.role_list, reason=grant.reason,
                         grant_id=grant.id)
    grant.status, grant.decided_by, grant.decided_at = "approved", actor.id, signed.signed_at
    grant.signature_id = signed.id
    session.add(grant)
    session.flush()
    trail.record(session, actor=actor, record_type="role_grant", record_id=grant.id, action="approve",
                 old={"status": "pending"}, new={"status": "approved", "user": user.username, "roles": grant.role_list,
                                                 "signature_id": signed.id}, at=signed.signed_at)
    return grant
