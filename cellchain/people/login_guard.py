"""Login hardening beyond the per-account lock: a per-address throttle and server-side page sessions.

The account lock (``accounts``, 5 wrong passwords) protects one account; it does nothing against one
client trying a few passwords on many accounts. The throttle counts failed logins in a sliding window,
twice: per account name and address together (``failures``), and per address alone (``address_failures``),
and refuses further attempts (HTTP 429 with Retry-After) until the counted failure that set the limit
leaves the window. A ward's nurses share one computer, so one address: one nurse's typos throttle only
their own name there, and the address-wide limit, set high enough for a ward's worth of people, still
stops one client walking through many accounts (docs/security.md). The count lives in the database, so
every worker agrees.

Page sessions are Flask's signed cookies, which live in the browser: logging out cannot delete them.
Each login therefore gets a ``LoginSession`` row whose random nonce the cookie carries; logout ends the
row, and a cookie whose row has ended, or never existed, opens nothing.

Public API (services never commit; the request edge does):

- ``ThrottlePolicy(failures, window_seconds)``
- ``refuse_if_throttled(session, address, account, policy=...)`` raises ``Throttled``
- ``record_failure(session, address, account, policy=...)`` (run it deferred: the refused request rolls back)
- ``open_session(session, user, lifetime_seconds)`` -> the nonce for the cookie
- ``session_principal(session, user_id, nonce, auth_version, lifetime_seconds)`` -> Principal | None
- ``end_session(session, nonce)``
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, select

from cellchain.core.canonical import sha256_hex
from cellchain.core.errors import Throttled
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.people import principals
from cellchain.people.models import LoginAttempt, LoginSession, User
from cellchain.people.rules.roles import Principal

MAX_ADDRESS = 64


@dataclass(frozen=True)
class ThrottlePolicy:
    failures: int = 10  # per account name and address together
    window_seconds: int = 900
    address_failures: int = 100  # per address, whatever the names

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)


def _address(address: str | None) -> str:
    return (address or "unknown")[:MAX_ADDRESS]


def account_key(username: str | None) -> str:
    """What the table keeps of the name typed: its SHA-256 (64 hex characters), the same however it is
    capitalised or padded, so ``Nurse`` and ``nurse `` count as one account name."""
    return sha256_hex((username or "").strip().lower())


def _wait(session: Session, limit: int, window: timedelta, *conditions: Any) -> float | None:
    """Seconds until fewer than ``limit`` failures matching ``conditions`` are in the window, if now at the limit."""
    if limit <= 0:
        return None
    now = utcnow()
    statement = (select(LoginAttempt.attempted_at).where(LoginAttempt.attempted_at > now - window, *conditions)
                 .order_by(LoginAttempt.attempted_at.desc()).offset(limit - 1).limit(1))
    nth_latest = session.exec(statement).first()
    return None if nth_latest is None else (nth_latest + window - now).total_seconds()


def refuse_if_throttled(session: Session, address: str | None, account: str | None, *,
                        policy: ThrottlePolicy) -> None:
    """Refuse when the account name has ``policy.failures`` failures from this address in the window, or
    the address has ``policy.address_failures`` whatever the names.

    The answer waits until the N-th most recent failure leaves the window: from then on fewer than N are
    counted. Checked before the password is hashed, so a flood also costs the server little.
    """
    where = LoginAttempt.address == _address(address)
    for_account = _wait(session, policy.failures, policy.window, where, LoginAttempt.account == account_key(account))
    for_address = _wait(session, policy.address_failures, policy.window, where)
    if for_address is not None:
        wait = int(max(for_address, for_account or 0)) + 1
        raise Throttled(translated(N_("too many failed logins from this address; try again in {seconds} seconds"))
                        .format(seconds=wait), retry_after=wait)
    if for_account is not None:
        wait = int(for_account) + 1
        raise Throttled(translated(N_("too many failed logins for this user name from this address; try again in "
                                      "{seconds} seconds (other people can still log in here)")).format(seconds=wait),
                        retry_after=wait)


def record_failure(session: Session, address: str | None, account: str | None, *, policy: ThrottlePolicy) -> None:
    """Count one failed login for the account name from the address, and forget failures that left the
    window (keeps the table small)."""
    now = utcnow()
    session.exec(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - policy.window))
    session.add(LoginAttempt(address=_address(address), account=account_key(account), attempted_at=now))
    session.flush()


# --- server-side page sessions ---------------------------------------------------------------------------

def open_session(session: Session, user: User, *, lifetime_seconds: int) -> str:
    """A new login session for ``user``; returns the nonce for the cookie (the database keeps its hash).

    Sessions past their lifetime are deleted here, so the table holds only the logins that can still be live.
    """
    now = utcnow()
    session.exec(delete(LoginSession).where(LoginSession.started_at <= now - timedelta(seconds=lifetime_seconds)))
    nonce = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, nonce_hash=sha256_hex(nonce), started_at=now))
    session.flush()
    return nonce


_SESSIONS = LoginSession.__table__
# The user of a login session with their roles: one Core statement built once.
_SESSION_USER = (select(*principals.COLUMNS, principals.USERS.c.auth_version)
                 .select_from(principals.with_roles(
                     _SESSIONS.join(principals.USERS, principals.USERS.c.id == _SESSIONS.c.user_id)))
                 .where(_SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.nonce_hash == bindparam("digest"),
                        _SESSIONS.c.ended_at.is_(None), _SESSIONS.c.started_at > bindparam("since")))


def session_principal(session: Session, user_id: object, nonce: object, auth_version: object, *,
                      lifetime_seconds: int) -> Principal | None:
    """Who a page's login session speaks for: the nonce names an unended session of that user within
    its lifetime, and the account is active, unlocked and unchanged since (its ``auth_version``)."""
    if not isinstance(user_id, int) or not isinstance(nonce, str) or not nonce:
        return None
    rows = session.connection().execute(_SESSION_USER, {
        "user_id": user_id, "digest": sha256_hex(nonce), "since": utcnow() - timedelta(seconds=lifetime_seconds)}).all()
    if rows and rows[0].auth_version != auth_version:
        return None
    return principals.principal_of(rows)


def end_session(session: Session, nonce: object) -> None:
    """End the login session the nonce names (logout, or a new login in the same browser)."""
    if isinstance(nonce, str) and nonce:
        session.exec(update(LoginSession).where(LoginSession.nonce_hash == sha256_hex(nonce),
                                                LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))
