"""The in-app inbox: notices to the people who must act, written in the transaction that raised them.

Areas that raise a notice (``quality.holds`` for a hold on a released lot) call :func:`notify` with the
recipients' roles; every active user holding one of them gets an item, and, when SMTP is configured, an
outbox mail in the same transaction, sent after commit (``notices.mail``). Reading and marking read is
each person's own inbox only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.core import db
from cellchain.core.errors import NotFound
from cellchain.core.types import utcnow
from cellchain.notices import mail
from cellchain.notices.models import Notification
from cellchain.people.models import User, UserRole
from cellchain.people.rules.roles import Actor

MAX_SUBJECT = 200
# A notice's words: a text, or a function that words it in the language in force when it is called
# (each recipient's own, docs/architecture.md "Languages").
Words = str | Callable[[], str]


def recipients(session: Session, roles: Iterable[str]) -> list[User]:
    """Every active user holding one of ``roles``, each once, in id order."""
    statement = (select(User).join(UserRole, UserRole.user_id == User.id)
                 .where(UserRole.role.in_(list(roles)), User.active.is_(True)).distinct().order_by(User.id))
    return list(session.exec(statement))


def notify(session: Session, *, roles: Iterable[str], kind: str, subject: Words, body: Words,
           link: str = "") -> list[Notification]:
    """One inbox item per active holder of ``roles``, in this transaction, each with its outbox mail; a
    ``subject`` or ``body`` given as a function is worded in each recipient's language."""
    rows = []
    for user in recipients(session, roles):
        with _language_of(user):
            rows.append(Notification(recipient_id=user.id, kind=kind, subject=_said(subject)[:MAX_SUBJECT],
                                     body=_said(body), link=link))
    session.add_all(rows)
    session.flush()
    mail.queue(session, rows)
    return rows


def _language_of(user: User):
    if not has_app_context():
        return nullcontext()
    return force_locale(user.language or current_app.config["DEFAULT_LANGUAGE"])


def _said(words: Words) -> str:
    return words() if callable(words) else words


def inbox(session: Session, *, actor: Actor, unread_only: bool = False,
          page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the actor's own notices, newest first (keyset on the id)."""
    statement = select(Notification).where(Notification.recipient_id == actor.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return db.keyset(session, statement, (Notification.id,), page, descending=True)


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's notices are unread (the number beside "Inbox" in the navigation bar)."""
    statement = select(func.count()).select_from(Notification).where(
        Notification.recipient_id == user_id, Notification.read_at.is_(None))
    return int(session.exec(statement).one())


def mark_read(session: Session, *, actor: Actor, notice_id: int, at: datetime | None = None) -> Notification:
    """Mark one of the actor's own notices read (again: no change); another person's is not found."""
    row = session.get(Notification, notice_id)
    if row is None or row.recipient_id != actor.id:
        raise NotFound(f"no notice {notice_id} in your inbox")
    if row.read_at is None:
        row.read_at = at or utcnow()
        session.add(row)
        session.flush()
    return row
