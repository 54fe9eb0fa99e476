"""Who is asking: the session cookie for pages, a bearer token for the API; CSRF for forms; role gates."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for

from cellchain import db
from cellchain.domain.errors import Forbidden, Unauthenticated
from cellchain.domain.roles import require_role
from cellchain.models.users import User
from cellchain.services import accounts

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def policy() -> accounts.Policy:
    cfg = current_app.config
    return accounts.Policy(hash_method=cfg["PASSWORD_HASH_METHOD"], max_failed_logins=cfg["MAX_FAILED_LOGINS"],
                           token_ttl_hours=cfg["API_TOKEN_TTL_HOURS"])


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _user_from_session() -> User | None:
    user_id, version = session.get("user_id"), session.get("auth_version")
    if user_id is None:
        return None
    user = db.session().get(User, user_id)
    if user is None or not user.active or user.is_locked or user.auth_version != version:
        session.clear()
        return None
    return user


def _user_from_bearer() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return accounts.user_for_token(db.session(), header[7:].strip())


def load_user() -> None:
    """Before each request: g.user from a bearer token (API) or the session cookie."""
    g.user = None
    g.via_token = False
    if is_api_request() and request.headers.get("Authorization"):
        g.user = _user_from_bearer()
        g.via_token = g.user is not None
        if g.user is None:
            raise Unauthenticated("the bearer token is missing, wrong, expired or revoked")
        return
    if is_api_request() and request.method not in SAFE_METHODS:
        return  # API writes need a bearer token; a cookie alone would be open to cross-site posts
    g.user = _user_from_session()


def start_session(user: User) -> None:
    """A fresh session on login: nothing from before it survives (no session fixation)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["auth_version"] = user.auth_version
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Every form post carries the session's token; the API uses bearer tokens instead and is exempt."""
    if request.method in SAFE_METHODS or is_api_request():
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form's security token is missing or out of date. Reload the page and try again.")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if is_api_request():
                raise Unauthenticated("log in first: POST /api/v1/auth/token, then send Authorization: Bearer")
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: str, action: str = "open this page") -> Callable[..., Any]:
    """Gate a view by role; record-level rules stay in the services."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_role(g.user.roles, *roles, action=action)
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the navigation and the role-matrix test
        return wrapped
    return decorator


def current_user() -> User:
    if g.get("user") is None:
        raise Forbidden("no one is logged in")
    return g.user
