"""People: accounts, passwords, login with lock-out, and API tokens (21 CFR 11.10(d), 11.300)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.canonical import sha256_hex
from cellchain.core.errors import Forbidden, Invalid, NotFound, Reason, Refused, Unauthenticated
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.languages.selection import LANGUAGES
from cellchain.people import principals
from cellchain.people.models import ApiToken, LoginSession, RoleGrant, User, UserRole
from cellchain.people.rules import passwords
from cellchain.people.rules.roles import OWN_ACCOUNT, ROLES, Actor, Principal, require_role, role_set_refusals

MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
MAX_GRANT_REASON = 500  # the role grant's reason column


@dataclass(frozen=True)
class Policy:
    hash_method: str = "scrypt:32768:8:1"
    max_failed_logins: int = 5
    token_ttl_hours: int = 12
    allow_qa_with_lab_or_qc: bool = False
    signature_failures: int = 5  # wrong passwords typed into other people's signatures, per typist and window
    throttle_window_seconds: int = 900

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """The site's password, lock-out, token and role settings (``PASSWORD_HASH_METHOD``,
        ``MAX_FAILED_LOGINS``, ``API_TOKEN_TTL_HOURS``, ``ALLOW_QA_WITH_LAB_OR_QC``,
        ``SIGNATURE_THROTTLE_FAILURES``, ``LOGIN_THROTTLE_WINDOW_SECONDS``)."""
        return cls(hash_method=config["PASSWORD_HASH_METHOD"], max_failed_logins=config["MAX_FAILED_LOGINS"],
                   token_ttl_hours=config["API_TOKEN_TTL_HOURS"],
                   allow_qa_with_lab_or_qc=bool(config.get("ALLOW_QA_WITH_LAB_OR_QC", False)),
                   signature_failures=int(config.get("SIGNATURE_THROTTLE_FAILURES", 5)),
                   throttle_window_seconds=int(config.get("LOGIN_THROTTLE_WINDOW_SECONDS", 900)))


def check_new_password(password: str, *, username: str = "", full_name: str = "") -> None:
    """The one rule for a password being set (a new account, a change of one's own password): at least
    12 characters, not on the shipped list of common passwords, not the person's name. Raises
    ``Invalid({"password": ...})``; a stored password set under an older rule keeps logging in."""
    problem = passwords.password_problem(password, username=username, full_name=full_name)
    if problem:
        raise Invalid({"password": problem})


def check_role_set(roles: Iterable[str], *, policy: Policy) -> None:
    """Refuse roles one account may not hold together (``role_set_refusals``), each by its code."""
    reasons = role_set_refusals(roles, allow_qa_with_lab_or_qc=policy.allow_qa_with_lab_or_qc)
    if reasons:
        raise Refused(reasons)


def _roles_problem(roles: list[str]) -> str | None:
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        if unknown:
            return translated(N_("choose from {roles} (unknown: {unknown})")).format(roles=", ".join(ROLES),
                                                                                 unknown=", ".join(unknown))
        return translated(N_("choose from {roles}")).format(roles=", ".join(ROLES))
    return None


def _validate_new(username: str, full_name: str, password: str, roles: list[str]) -> None:
    fields = {}
    if not username or len(username) > 64 or not set(username) <= USERNAME_CHARS:
        fields["username"] = translated(N_("use 1-64 lower-case letters, digits, '.', '_' or '-'"))
    if not full_name.strip() or len(full_name) > 200:
        fields["full_name"] = translated(N_("give the person's printed name (it appears on signatures)"))
    problem = passwords.password_problem(password, username=username, full_name=full_name)
    if problem:
        fields["password"] = problem
    if roles_problem := _roles_problem(roles):
        fields["roles"] = roles_problem
    if fields:
        raise Invalid(fields)


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def create_user(session: Session, *, actor: Actor | None, username: str, full_name: str, password: str,
                roles: list[str], policy: Policy) -> User:
    """Create an account; ``actor`` None is the command line (the site's first administrator, the demo).

    An administrator's new account starts with no role: its roles are a pending grant that a second
    administrator signs (``role_grants.approve``). The command line runs on the server itself and gives
    them at once. Either way the roles must be a set one account may hold (``check_role_set``)."""
    if actor is not None:
        require_role(actor.roles, "admin", action=N_("create accounts"))
    _validate_new(username, full_name, password, roles)
    check_role_set(roles, policy=policy)
    if find_user(session, username):
        raise Invalid({"username": translated(N_("'{username}' is taken")).format(username=username)})
    granted = sorted(set(roles)) if actor is None else []
    user = User(username=username, full_name=full_name.strip(),
                password_hash=generate_password_hash(password, method=policy.hash_method),
                role_rows=[UserRole(role=r) for r in granted])
    session.add(user)
    session.flush()
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="create",
                 new={"username": username, "full_name": user.full_name, "roles": granted})
    if actor is not None:
        request_grant(session, actor=actor, user=user, roles=roles, reason="new account")
    return user


@cache
def _dummy_hash(method: str) -> str:
    """A hash made with the site's own method and cost, checked when the username is unknown: an unknown
    name then costs exactly the work a wrong password does (OWASP ASVS 2.2.x; no timing tells names apart)."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def password_matches(user: User | None, password: str, *, policy: Policy) -> bool:
    if user is None:
        check_password_hash(_dummy_hash(policy.hash_method), password)
        return False
    return check_password_hash(user.password_hash, password)


def _register_failure(session: Session, username: str, action: str, max_failed: int) -> None:
    statement = select(User).where(User.username == username).with_for_update()
    user = session.exec(statement.execution_options(populate_existing=True)).first()
    if user is None:
        trail.record(session, actor=None, record_type="login", record_id=username[:64], action=action,
                     new={"username": username[:64], "known_user": False})
        return
    user.failed_logins += 1
    trail.record(session, actor=None, record_type="user", record_id=user.id, action=action,
                 new={"username": user.username, "failed_logins": user.failed_logins})
    if user.failed_logins >= max_failed and not user.is_locked:
        user.locked_at = utcnow()
        user.auth_version += 1
        trail.record(session, actor=None, record_type="user", record_id=user.id, action="lock",
                     new={"locked": True, "failed_logins": user.failed_logins},
                     reason=f"{user.failed_logins} failed password attempts")
    session.add(user)


def check_credentials(session: Session, username: str, password: str, *, policy: Policy,
                      action: str = "login_failed") -> User:
    """The user behind a username and password; every refusal is audited after the request ends.

    The message never says which of the two was wrong, so the refusal does not reveal accounts.
    """
    user = find_user(session, username)
    if user is not None and user.is_locked:
        user_id = user.id  # captured now: the request's rollback expires the loaded object
        db.defer(lambda s: trail.record(s, actor=None, record_type="user", record_id=user_id,
                                        action=f"{action}_locked", new={"username": username}))
        raise Forbidden(translated(N_("this account is locked after repeated failed passwords; an administrator can "
                                       "unlock it")))
    if not password_matches(user, password, policy=policy) or (user is not None and not user.active):
        db.defer(lambda s: _register_failure(s, username, action, policy.max_failed_logins))
        raise Unauthenticated(translated(N_("the username or password is wrong")))
    if user.failed_logins:
        user.failed_logins = 0
        session.add(user)
    return user


def login(session: Session, username: str, password: str, *, policy: Policy) -> User:
    user = check_credentials(session, username, password, policy=policy)
    trail.record(session, actor=user, record_type="user", record_id=user.id, action="login")
    return user


def unlock(session: Session, *, actor: Actor, user_id: int, reason: str) -> User:
    require_role(actor.roles, "admin", action=N_("unlock accounts"))
    if not reason.strip():
        raise Invalid({"reason": translated(N_("say why the account is unlocked"))})
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise Refused(Reason(OWN_ACCOUNT, variant="unlock"))
    if not user.is_locked:
        return user
    user.locked_at, user.failed_logins = None, 0
    session.add(user)
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="unlock",
                 old={"locked": True}, new={"locked": False}, reason=reason.strip())
    return user


def set_roles(session: Session, *, actor: Actor, user_id: int, roles: list[str], reason: str,
              policy: Policy) -> RoleGrant | None:
    """Change an account's roles. Taking roles away is done at once; anything that gives a role is a
    pending grant (returned) that takes effect only when a second administrator signs it. Nobody changes
    their own roles, and the new set must be one an account may hold."""
    require_role(actor.roles, "admin", action=N_("change roles"))
    user = get_user(session, user_id)
    fields = {}
    if roles_problem := _roles_problem(roles):
        fields["roles"] = roles_problem
    if not reason.strip() or len(reason) > MAX_GRANT_REASON:
        fields["reason"] = translated(N_("say why the roles change (up to {n} characters)")).format(n=MAX_GRANT_REASON)
    if fields:
        raise Invalid(fields)
    if user.id == actor.id:
        raise Refused(Reason(OWN_ACCOUNT, variant="roles"))
    check_role_set(roles, policy=policy)
    if set(roles) <= user.roles:
        apply_roles(session, actor=actor, user=user, roles=roles, reason=reason)
        return None
    return request_grant(session, actor=actor, user=user, roles=roles, reason=reason)


def apply_roles(session: Session, *, actor: Actor, user: User, roles: Iterable[str], reason: str,
                grant_id: int | None = None) -> User:
    """Give the account exactly ``roles`` now (audited); its sessions and tokens read the change at once."""
    wanted, old = sorted(set(roles)), sorted(user.roles)
    # Keep the rows of roles that stay: replacing them all would insert a kept role before its old row is
    # deleted, and the unique (user, role) constraint would refuse the change.
    kept = [row for row in user.role_rows if row.role in wanted]
    user.role_rows = kept + [UserRole(role=r) for r in sorted(set(wanted) - set(old))]
    user.auth_version += 1
    session.add(user)
    new: dict[str, Any] = {"roles": wanted} | ({"grant": grant_id} if grant_id is not None else {})
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="set_roles",
                 old={"roles": old}, new=new, reason=reason.strip())
    return user


def request_grant(session: Session, *, actor: Actor, user: User, roles: Iterable[str], reason: str) -> RoleGrant:
    """A pending grant of ``roles`` (the whole set the account is to hold); an earlier pending grant for
    the same account is superseded, so a second administrator always signs the latest request."""
    for older in session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.status == "pending")):
        older.status = "superseded"
        session.add(older)
        trail.record(session, actor=actor, record_type="role_grant", record_id=older.id, action="supersede",
                     old={"status": "pending"}, new={"status": "superseded"})
    grant = RoleGrant(user_id=user.id, roles=",".join(sorted(set(roles))), previous_roles=",".join(sorted(user.roles)),
                      reason=reason.strip()[:MAX_GRANT_REASON], requested_by=actor.id)
    session.add(grant)
    session.flush()
    trail.record(session, actor=actor, record_type="role_grant", record_id=grant.id, action="request",
                 new={"user": user.username, "roles": grant.role_list, "previous_roles": sorted(user.roles),
                      "status": "pending"}, reason=grant.reason)
    return grant


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool, reason: str) -> User:
    require_role(actor.roles, "admin", action=N_("deactivate accounts"))
    user = get_user(session, user_id)
    if user.id == actor.id and not active:
        raise Invalid({"active": translated(N_("you cannot deactivate your own account"))})
    if not reason.strip():
        raise Invalid({"reason": translated(N_("say why"))})
    old = user.active
    user.active = active
    user.auth_version += 1
    session.add(user)
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="set_active",
                 old={"active": old}, new={"active": active}, reason=reason.strip())
    return user


MAX_EMAIL = 254


def _email(value: Any) -> str | None:
    """An e-mail address (``name@host.domain``) or None to clear it; anything else is Invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else ""
    local, _, host = text.partition("@")
    if (not local or "." not in host or host.startswith(".") or host.endswith(".") or len(text) > MAX_EMAIL
            or any(c.isspace() for c in text) or "@" in host):
        raise Invalid({"email": translated(N_(
            "an e-mail address such as name@hospital.example, or empty to clear it"))})
    return text


def set_email(session: Session, *, actor: Actor, user_id: int, email: Any) -> User:
    """Where the person's notices are mailed (when SMTP is configured); empty clears it. Admin only, audited."""
    require_role(actor.roles, "admin", action=N_("change e-mail addresses"))
    address = _email(email)
    user = get_user(session, user_id)
    old = user.email
    user.email = address
    session.add(user)
    session.flush()
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="set_email",
                 old={"email": old}, new={"email": address})
    return user


def _new_password_fields(current: str, new: str, repeat: str, *, username: str,
                         full_name: str) -> dict[str, str]:
    """What is wrong with a password change's three inputs, by input name (the messages hold no password)."""
    fields: dict[str, str] = {}
    if not current:
        fields["current_password"] = translated(N_("type your current password"))
    problem = passwords.password_problem(new, username=username, full_name=full_name)
    if problem:
        fields["new_password"] = problem
    elif new != repeat:
        fields["repeat_password"] = translated(N_("the two new passwords differ; type the same one twice"))
    elif new == current:
        fields["new_password"] = translated(N_("choose a password other than the current one"))
    return fields


def change_password(session: Session, *, actor: Actor, current: str, new: str, repeat: str,
                    policy: Policy) -> tuple[User, int]:
    """A person changes their own password: the current one, the new one twice, the site's password rule.

    A wrong current password is named on the form and counts toward the lock-out like a wrong login
    (``check_credentials``, docs/security.md "Wrong passwords"). The change moves ``auth_version``, so every
    other login session of the person ends (docs/security.md "Pages: login sessions"), and revokes their API
    tokens, which were issued on the old password; the audit entry says so and never holds a password.
    Returns the user and the number of tokens revoked; the caller opens the current browser's new session.
    """
    user = get_user(session, actor.id)
    fields = _new_password_fields(current or "", new or "", repeat or "", username=user.username,
                                  full_name=user.full_name)
    if fields:
        raise Invalid(fields)
    try:
        check_credentials(session, user.username, current, policy=policy, action="password_change_failed")
    except Unauthenticated:
        raise Invalid({"current_password": translated(N_("the current password is wrong"))}) from None
    user.password_hash = generate_password_hash(new, method=policy.hash_method)
    user.auth_version += 1
    session.add(user)
    now = utcnow()
    revoked = session.exec(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                  ApiToken.expires_at > now).values(revoked_at=now)).rowcount
    session.exec(update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                 .values(ended_at=now))
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="change_password",
                 new={"password_changed": True, "other_sessions_ended": True, "tokens_revoked": revoked})
    return user, revoked


# --- API tokens ------------------------------------------------------------------------------------

def issue_token(session: Session, user: User, *, policy: Policy, label: str = "") -> tuple[str, ApiToken]:
    """A new bearer token. The caller sees it once; the database keeps only its SHA-256."""
    plain = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=sha256_hex(plain), label=label[:100],
                     expires_at=utcnow() + timedelta(hours=policy.token_ttl_hours))
    session.add(token)
    session.flush()
    trail.record(session, actor=user, record_type="api_token", record_id=token.id, action="issue",
                 new={"user": user.username, "expires_at": token.expires_at})
    return plain, token


# The token with its user and the user's roles, in one Core statement built once (it is only SQL
# with a parameter): every API request starts here, a nurse's bedside check too.
_TOKENS = ApiToken.__table__
_TOKEN_USER = (select(_TOKENS.c.revoked_at, _TOKENS.c.expires_at, *principals.COLUMNS)
               .select_from(principals.with_roles(
                   _TOKENS.join(principals.USERS, principals.USERS.c.id == _TOKENS.c.user_id)))
               .where(_TOKENS.c.token_hash == bindparam("digest")))


def principal_for_token(session: Session, plain: str) -> Principal | None:
    """Who a bearer token speaks for, read live: None once it is revoked or expired, or its account is
    deactivated or locked."""
    rows = session.connection().execute(_TOKEN_USER, {"digest": sha256_hex(plain)}).all()
    if rows and (rows[0].revoked_at is not None or rows[0].expires_at <= utcnow()):
        return None
    return principals.principal_of(rows)


def revoke_token(session: Session, *, actor: Actor, plain: str | None = None, token_id: int | None = None) -> None:
    token = (session.exec(select(ApiToken).where(ApiToken.token_hash == sha256_hex(plain))).first()
             if plain else session.get(ApiToken, token_id))
    if token is None:
        raise NotFound("no such token")
    if token.user_id != actor.id:
        require_role(actor.roles, "admin", action=N_("revoke another person's token"))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        trail.record(session, actor=actor, record_type="api_token", record_id=token.id, action="revoke")


def choose_language(session: Session, *, actor: Actor, language: str) -> User:
    """A person's language for the pages, one the site offers; kept on the account for their next login."""
    if language not in LANGUAGES:
        raise Invalid({"language": Reason("language_not_offered", value=language,
                                          offered=", ".join(sorted(LANGUAGES))).message})
    user = get_user(session, actor.id)
    old = user.language
    user.language = language
    session.add(user)
    trail.record(session, actor=actor, record_type="user", record_id=user.id, action="choose_language",
                 old={"language": old}, new={"language": language})
    return user
