"""The inbox page: each person's own notices, newest first, each marked read with one button; the outbox
page (QA, administrators): the mails not sent yet, failed and queued, each sent again with one button."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.web import page_request
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.notices import inbox, mail
from cellchain.people.security import current_user, login_required, roles_required

bp = Blueprint("notices", __name__, url_prefix="/inbox")


def _inbox_page(problem: Refusal | None = None) -> str:
    session, user = db.session(), current_user()
    page = inbox.inbox(session, actor=user, page=page_request())
    return render_template("notices/inbox.html", page=page, notices=page.rows, problem=problem)


@bp.route("/")
@login_required
def index():
    return _inbox_page()


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int):
    """A notice that is not in one's inbox (another person's, or none) is said on the inbox page (404)."""
    def mark():
        inbox.mark_read(db.session(), actor=current_user(), notice_id=notice_id)
        return redirect(url_for("notices.index"))

    return submit(None, mark, _inbox_page)


@bp.route("/outbox")
@roles_required(*mail.OUTBOX_ROLES, action=N_("see the mail outbox"))
def outbox():
    return _outbox_page()


def _outbox_page(problem: Refusal | None = None) -> str:
    page = mail.unsent(db.session(), page=page_request())
    return render_template("notices/outbox.html", page=page, mails=page.rows, problem=problem,
                           configured=mail.SmtpSettings.from_config(current_app.config) is not None)


@bp.route("/outbox/<int:mail_id>/retry", methods=["POST"])
@roles_required(*mail.OUTBOX_ROLES, action=N_("send a mail again"))
def retry(mail_id: int):
    def again():
        row = mail.retry(db.session(), actor=current_user(), mail_id=mail_id)
        flash(note("mail_sent_again", id=row.id, to_address=row.to_address), "success")
        return redirect(url_for("notices.outbox"))

    return submit(None, again, _outbox_page)
