"""The accounts as the administrator's page lists them."""

from __future__ import annotations

from sqlmodel import Session, select

from cellchain.people.models import User


def all_users(session: Session) -> list[User]:
    """Every account, active or not, by username."""
    return list(session.exec(select(User).order_by(User.username)).all())
