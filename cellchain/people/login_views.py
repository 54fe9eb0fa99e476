"""Log in and out of the pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Forbidden, Throttled, Unauthenticated
from cellchain.core.page_forms import Refusal, submit
from cellchain.core.words.notes import note, notes
from cellchain.core.words.numbers import count
from cellchain.languages import selection as language
from cellchain.people import accounts
from cellchain.people.forms import LanguageForm, LoginForm, PasswordForm
from cellchain.people.security import current_user, end_session, login_required, login_throttle, policy, start_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect after login is a phishing tool."""
    if not target or urlsplit(target).netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    form = LoginForm()
    username, password, next_page = form.username.data or "", form.password.data or "", form.next.data or ""
    try:
        with login_throttle(username):
            user = accounts.login(db.session(), username, password, policy=policy())
    except (Unauthenticated, Forbidden, Throttled) as refusal:
        headers = {"Retry-After": str(refusal.retry_after)} if isinstance(refusal, Throttled) else {}
        return render_template("auth/login.html", error=refusal.message, username=username,
                               next=next_page), refusal.status, headers
    start_session(user)
    flash(note("welcome", full_name=user.full_name), "success")
    return redirect(_safe_next(next_page))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user()
    trail.record(db.session(), actor=user, record_type="user", record_id=user.id, action="logout")
    end_session()
    flash(note("logged_out"), "info")
    return redirect(url_for("auth.login"))


def _password_page(refusal: Refusal | None = None) -> str:
    return render_template("auth/password.html", fields=refusal.fields if refusal else {},
                           minimum=accounts.MIN_PASSWORD_LENGTH)


@bp.route("/password")
@login_required
def password_page():
    return _password_page()


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    """A wrong current password shows this form again naming it (400), never a bare 401."""
    form = PasswordForm()

    def change():
        user, revoked = accounts.change_password(db.session(), actor=current_user(), policy=policy(),
                                                 current=form.current_password.data or "",
                                                 new=form.new_password.data or "",
                                                 repeat=form.repeat_password.data or "")
        start_session(user)  # this browser goes on; every other session ended with the change
        flash(notes(note("password_changed"),
                    note("tokens_revoked", tokens=count(revoked, "API token")) if revoked else ""), "success")
        return redirect(url_for("home.index"))

    return submit(form, change, _password_page)


def _language_page(refusal: Refusal | None = None) -> str:
    return render_template("auth/language.html", fields=refusal.fields if refusal else {})


@bp.route("/language")
@login_required
def language_page():
    return _language_page()


@bp.route("/language", methods=["POST"])
@login_required
def choose_language():
    """The person's language, for this session at once and for their later logins."""
    form = LanguageForm()

    def choose():
        user = accounts.choose_language(db.session(), actor=current_user(), language=form.language.data or "")
        session[language.SESSION_FIELD] = user.language
        flash(note("language_chosen"), "success")
        return redirect(url_for("home.index"))

    return submit(form, choose, _language_page)
