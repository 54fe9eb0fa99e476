"""E-mail of notices through the site's SMTP server (``SMTP_HOST`` ...), after the transaction commits.

A notice is mailed only once the transaction that raised it has committed: a hold that was rolled back
never reaches anyone's mailbox. Each send runs through ``db.defer`` (its own transaction, after the
request), records when it was mailed or why it was not (``mail_error``), and a failure is logged but
never fails the request that raised the notice: the inbox item stands either way.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session

from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.notices.models import Notification
from cellchain.people.models import User

log = logging.getLogger(__name__)
PENDING = "cellchain.notices.to_mail"


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


def message(settings: SmtpSettings, notice: Notification, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.sender, to, notice.subject
    link = f"\n\nOpen it in cellchain at {notice.link}" if notice.link else ""
    mail.set_content(f"{notice.body}{link}\n")
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


def _mail_them(settings: SmtpSettings, ids: list[int]) -> Callable[[Session], None]:
    """A deferred write: mail each notice to its recipient's address and record the outcome on it."""
    def write(own: Session) -> None:
        for notice_id in ids:
            notice = own.get(Notification, notice_id)
            recipient = own.get(User, notice.recipient_id) if notice is not None else None
            if notice is None or recipient is None or not recipient.email:
                continue
            try:
                send(settings, [message(settings, notice, recipient.email)])
                notice.mailed_at, notice.mail_error = utcnow(), None
            except (OSError, smtplib.SMTPException) as error:
                log.warning("notice %s could not be mailed to %s: %s", notice_id, recipient.email, error)
                notice.mail_error = f"{type(error).__name__}: {error}"[:2000]
            own.add(notice)
    return write


def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING, [])
    if not ids or not has_app_context():
        return
    settings = SmtpSettings.from_config(current_app.config)
    if settings is not None:
        db.defer(_mail_them(settings, ids))


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)  # a rolled-back notice is never mailed


def mail_after_commit(session: Session, notices: list[Notification]) -> None:
    """Mail ``notices`` once (and only if) this session's transaction commits."""
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    session.info.setdefault(PENDING, []).extend(n.id for n in notices)
