"""E-mail of notices through the site's SMTP server (``SMTP_HOST`` ...), through an outbox.

Each mail is a row of ``mail_outbox`` written in the transaction that raised its notice, so the event and
its mail commit together or not at all: a hold that was rolled back never reaches anyone's mailbox, and
a committed one is never lost. After the commit the new rows are sent in a transaction of their own
(``db.defer``: nothing in the request waits on the mail server); a send that fails marks the row
``failed`` with its error and the time of its next attempt (backing off, ``backoff``), and
``flask send-mail``, run by the site's scheduler, sends every row that is due. QA and the administrators
see queued and failed mails on the outbox page and may send one again at once. docs/rules.md, "Notices".
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy import event, or_
from sqlmodel import Session, select

from cellchain.core import db
from cellchain.core.errors import NotFound
from cellchain.core.types import utcnow
from cellchain.core.words import N_
from cellchain.notices.models import Notification, OutboxMail
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role

log = logging.getLogger(__name__)
PENDING = "cellchain.notices.to_mail"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
OUTBOX_ROLES = ("admin", "qa")
MAX_ERROR = 2000


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    timeout_s: float
    sender: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings | None:
        """The site's SMTP settings, or None when no ``SMTP_HOST`` is configured (inbox only)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), user=config.get("SMTP_USER"),
                   password=config.get("SMTP_PASSWORD"), starttls=bool(config.get("SMTP_STARTTLS")),
                   timeout_s=float(config["SMTP_TIMEOUT_SECONDS"]), sender=config["MAIL_FROM"])


def _configured() -> SmtpSettings | None:
    return SmtpSettings.from_config(current_app.config) if has_app_context() else None


def body_of(notice: Notification, language: str | None = None) -> str:
    """The mail's text: the notice's body and where to open it, in the recipient's ``language``."""
    if not notice.link:
        return f"{notice.body}\n"
    if language is None or not has_app_context():
        return f"{notice.body}\n\nOpen it in cellchain at {notice.link}\n"
    with force_locale(language):
        link = gettext("Open it in cellchain at %(link)s", link=notice.link)
    return f"{notice.body}\n\n{link}\n"


def message(settings: SmtpSettings, row: OutboxMail) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.sender, row.to_address, row.subject
    mail.set_content(row.body)
    return mail


def send(settings: SmtpSettings, mails: list[EmailMessage]) -> None:
    """Send the messages over one SMTP connection (STARTTLS and login when configured)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        for mail in mails:
            smtp.send_message(mail)


def backoff(attempts: int) -> timedelta:
    """How long a mail waits after its ``attempts``-th failed send: one minute, doubling, at most six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def queue(session: Session, notices: Iterable[Notification],
          languages: Mapping[int, str] | None = None) -> list[OutboxMail]:
    """An outbox row per notice whose recipient has an address, in this transaction, when the site mails
    (SMTP configured); the rows are sent once the transaction commits. ``languages`` (by recipient id) is
    what each mail's own words are in."""
    if _configured() is None:
        return []
    notices = list(notices)
    ids = {n.recipient_id for n in notices}
    addresses = dict(session.exec(select(User.id, User.email).where(User.id.in_(list(ids)))).all()) if ids else {}
    rows = [OutboxMail(notification_id=n.id, to_address=addresses[n.recipient_id], subject=n.subject,
                       body=body_of(n, (languages or {}).get(n.recipient_id)))
            for n in notices if addresses.get(n.recipient_id)]
    if rows:
        session.add_all(rows)
        session.flush()
        send_after_commit(session, [r.id for r in rows])
    return rows


def _attempt(own: Session, settings: SmtpSettings, row: OutboxMail, now: datetime) -> bool:
    """Send one row and record the outcome on it and on its notice; True when it went."""
    notice = own.get(Notification, row.notification_id) if row.notification_id is not None else None
    row.attempts += 1
    try:
        send(settings, [message(settings, row)])
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.to_address, row.attempts, error)
        row.status, row.last_error = "failed", f"{type(error).__name__}: {error}"[:MAX_ERROR]
        row.next_attempt_at = now + backoff(row.attempts)
        if notice is not None:
            notice.mail_error = row.last_error
            own.add(notice)
        own.add(row)
        return False
    row.status, row.sent_at, row.last_error = "sent", now, None
    if notice is not None:
        notice.mailed_at, notice.mail_error = now, None
        own.add(notice)
    own.add(row)
    return True


def send_due(session: Session, settings: SmtpSettings, *, ids: Iterable[int] | None = None,
             now: datetime | None = None) -> tuple[int, int]:
    """Send the outbox rows that are due (or exactly ``ids``, if not sent yet): (sent, failed).

    Each row is locked while it is sent (another sender skips it), so two senders never mail it twice.
    """
    now = now or utcnow()
    statement = select(OutboxMail).where(OutboxMail.status != "sent")
    if ids is not None:
        statement = statement.where(OutboxMail.id.in_(list(ids)))
    else:
        statement = statement.where(OutboxMail.next_attempt_at <= now)
    statement = statement.order_by(OutboxMail.id).with_for_update(skip_locked=True)
    sent = failed = 0
    for row in session.exec(statement).all():
        if _attempt(session, settings, row, now):
            sent += 1
        else:
            failed += 1
    session.flush()
    return sent, failed


def _send_them(settings: SmtpSettings, ids: list[int]) -> Callable[[Session], None]:
    def write(own: Session) -> None:
        send_due(own, settings, ids=ids)
    return write


def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING, [])
    settings = _configured()
    if ids and settings is not None:
        db.defer(_send_them(settings, ids))


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)  # a rolled-back mail row is gone with its event


def send_after_commit(session: Session, ids: list[int]) -> None:
    """Send these outbox rows once (and only if) this session's transaction commits."""
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    session.info.setdefault(PENDING, []).extend(ids)


# --- the outbox page ---------------------------------------------------------------------------------

def unsent(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the mails not sent yet, failed and queued, oldest first (keyset on the id)."""
    statement = select(OutboxMail).where(or_(OutboxMail.status == "failed", OutboxMail.status == "queued"))
    return db.keyset(session, statement, (OutboxMail.id,), page)


def retry(session: Session, *, actor: Actor, mail_id: int) -> OutboxMail:
    """Make an unsent mail due now and send it once this transaction commits (QA or an administrator)."""
    require_role(actor.roles, *OUTBOX_ROLES, action=N_("send a mail again"))
    row = session.exec(select(OutboxMail).where(OutboxMail.id == mail_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no mail {mail_id} in the outbox")
    if row.status != "sent":
        row.next_attempt_at = utcnow()
        session.add(row)
        session.flush()
        send_after_commit(session, [row.id])
    return row
