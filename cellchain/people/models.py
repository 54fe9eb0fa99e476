"""People, their roles and their API tokens.

No ``from __future__ import annotations`` in model modules: SQLModel reads relationship annotations at
class creation and cannot resolve postponed ones.
"""

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from cellchain.core.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=200)
    # Where notices are mailed when SMTP is configured (docs/security.md, "Notices"); none: inbox only.
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=300)
    # The pages' language the person chose ("en", "zh"); none: the site's default (docs/architecture.md).
    language: str | None = Field(default=None, max_length=8)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Bumped when the password changes or the account is locked, to end sessions signed before.
    auth_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    role_rows: list["UserRole"] = Relationship(
        back_populates="user", sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"})

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class UserRole(SQLModel, table=True):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=32)

    user: Optional["User"] = Relationship(back_populates="role_rows")


class ApiToken(SQLModel, table=True):
    """A bearer token for scanner stations and hospital systems; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    label: str = Field(default="", max_length=100)


class LoginSession(SQLModel, table=True):
    """One login through the pages. Flask's session cookie lives in the browser, so logging out cannot
    delete it: the cookie carries this row's random nonce, and logout ends the row. A copy of the cookie
    taken before the logout (a shared workstation, a stolen backup) then opens nothing. Only the nonce's
    SHA-256 is kept, like an API token's."""

    __tablename__ = "login_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    nonce_hash: str = Field(max_length=64, unique=True, index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LoginAttempt(SQLModel, table=True):
    """A failed login from one client address for one account name. Kept in the database (not in a
    worker's memory) so every worker behind the proxy counts the same failures when it decides to throttle.

    ``account`` is the SHA-256 of the name as typed (lower-cased), never the name itself: people type their
    password into the name field, and this table must not keep it. Failures counted before the account
    was recorded carry an empty ``account`` and count toward the address-wide limit only."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_address_at", "address", "attempted_at"),
                      Index("ix_login_attempts_address_account_at", "address", "account", "attempted_at"))

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64)
    account: str = Field(default="", max_length=64)
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False,
                                                                            index=True))


class RoleGrant(SQLModel, table=True):
    """Roles one administrator asked for an account, in effect only once a second administrator signs them
    (docs/rules.md, "People and access"). ``roles`` is the whole set the account is to hold, comma-separated;
    ``status`` is pending, approved, or superseded (a newer request for the same account replaced it)."""

    __tablename__ = "role_grants"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    roles: str = Field(max_length=300)
    previous_roles: str = Field(default="", max_length=300)
    reason: str = Field(max_length=500)
    status: str = Field(default="pending", max_length=16, index=True)
    requested_by: int = Field(foreign_key="users.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    signature_id: int | None = Field(default=None, foreign_key="signatures.id")

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]
