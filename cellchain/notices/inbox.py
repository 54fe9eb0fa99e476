"""The in-app inbox: notices to the people who must act, written in the transaction that raised them.

Areas that raise a notice (``quality.holds`` for a hold on a released lot) call :func:`notify` with the
recipients' roles; every active user holding one of them gets an item, and, when SMTP is configured, an
outbox mail in the same transaction, sent after commit (``notices.mail``). Reading and marking read is
each person's own inbox only.

A notice is worded for each recipient in their language (``users.language``, else the site's
``DEFAULT_LANGUAGE``; docs/architecture.md, "Languages"): the caller passes its subject and body as
functions that word them with ``gettext``, and each is called under ``force_locale`` of the recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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

# A notice's subject or body: a function wording it in the language in force when it is called, or a
# sentence already worded (read the same by every recipient).
Words = str | Callable[[], str]


def language_of(user: User) -> str:
    """The language a notice is worded in for ``user``: their choice, else the site's default."""
    default = current_app.config.get("DEFAULT_LANGUAGE", "en") if has_app_context() else "en"
    return user.language or default


def worded(words: Words, language: str) -> str:
    """``words`` in ``language``."""
    if isinstance(words, str):
        return words
    if not has_app_context():
        return words()
    with force_locale(language):
        return words()


def recipients(session: Session, roles: Iterable[str]) -> list[User]:
    """Every active user holding one of ``roles``, each once, in id order."""
    statement = (select(User).join(UserRole, UserRole.user_id == User.id)
                 .where(UserRole.role.in_(list(roles)), User.active.is_(True)).distinct().order_by(User.id))
    return list(session.exec(statement))


def notify(session: Session, *, roles: Iterable[str], kind: str, subject: Words, body: Words,
           link: str = "") -> list[Notification]:
    """One inbox item per active holder of ``roles``, worded in their language, in this transaction, each with
    its outbox mail."""
    people = recipients(session, roles)
    languages = {user.id: language_of(user) for user in people}
    rows = [Notification(recipient_id=user.id, kind=kind, link=link,
                         subject=worded(subject, languages[user.id])[:MAX_SUBJECT],
                         body=worded(body, languages[user.id]))
            for user in people]
    session.add_all(rows)
    session.flush()
    mail.queue(session, rows, languages=languages)
    return rows


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
