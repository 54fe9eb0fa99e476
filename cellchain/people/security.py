"""Who is asking: the session cookie for pages, a bearer token for the API; CSRF for forms; role gates."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_babel import refresh as refresh_language
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from cellchain.core import db
from cellchain.core.api import is_api_request
from cellchain.core.error_handlers import respond
from cellchain.core.errors import Forbidden, Invalid, Throttled, Unauthenticated
from cellchain.core.words import N_, translated
from cellchain.languages import selection as language
from cellchain.people import accounts, login_guard
from cellchain.people.models import User
from cellchain.people.rules.roles import Principal, require_role

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"  # Flask-WTF's form field and session key
CSRF_REFUSED = N_("The form's security token is missing or out of date. Reload the page and try again.")
NONCE_FIELD = "session_nonce"
log = logging.getLogger(__name__)
csrf = CSRFProtect()


def policy() -> accounts.Policy:
    return accounts.Policy.from_config(current_app.config)


def _session_lifetime() -> int:
    return int(current_app.permanent_session_lifetime.total_seconds())


def _user_from_session() -> Principal | None:
    principal = login_guard.session_principal(db.session(), session.get("user_id"), session.get(NONCE_FIELD),
                                              session.get("auth_version"), lifetime_seconds=_session_lifetime())
    if principal is None and session.get("user_id") is not None:
        session.clear()
    return principal


def _user_from_bearer() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return accounts.principal_for_token(db.session(), header[7:].strip())


def load_user() -> None:
    """Before each request: g.user from a bearer token (API) or the session cookie."""
    g.user = None
    g.via_token = False
    if is_api_request() and request.headers.get("Authorization"):
        g.user = _user_from_bearer()
        g.via_token = g.user is not None
        refresh_language()  # the caller's stored language now counts (languages/selection.py)
        if g.user is None:
            raise Unauthenticated(translated(N_("the bearer token is missing, wrong, expired or revoked")))
        return
    if is_api_request() and request.method not in SAFE_METHODS:
        return  # API writes need a bearer token; a cookie alone would be open to cross-site posts
    g.user = _user_from_session()
    if is_api_request():
        refresh_language()


def start_session(user: User) -> None:
    """A fresh session on login: nothing from before it survives (no session fixation).

    A login session that this browser still held is ended first, so a cookie copied from it dies too.
    """
    login_guard.end_session(db.session(), session.get(NONCE_FIELD))
    nonce = login_guard.open_session(db.session(), user, lifetime_seconds=_session_lifetime())
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["auth_version"] = user.auth_version
    session[NONCE_FIELD] = nonce
    if user.language:
        session[language.SESSION_FIELD] = user.language
    g.pop(CSRF_FIELD, None)  # the token signed for the old session must not be handed out again
    generate_csrf()


def end_session() -> None:
    """Logout: end the login session in the database (replaying the old cookie opens nothing), clear the cookie."""
    login_guard.end_session(db.session(), session.get(NONCE_FIELD))
    session.clear()


def client_address() -> str:
    """The client's address as this server sees it (``PROXY_COUNT`` trusted proxies are unwrapped by ProxyFix)."""
    return request.remote_addr or "unknown"


def throttle_policy() -> login_guard.ThrottlePolicy:
    cfg = current_app.config
    return login_guard.ThrottlePolicy(failures=cfg["LOGIN_THROTTLE_FAILURES"],
                                      window_seconds=cfg["LOGIN_THROTTLE_WINDOW_SECONDS"],
                                      address_failures=cfg["LOGIN_THROTTLE_ADDRESS_FAILURES"])


@contextmanager
def login_throttle(username: str | None) -> Iterator[None]:
    """Wrap a password check: refuse a throttled account name or address first, count a refused login
    after the request.

    Both the login page and the token endpoint go through here, so one name at one address has one budget.
    """
    address, limits = client_address(), throttle_policy()
    try:
        login_guard.refuse_if_throttled(db.session(), address, username, policy=limits)
    except Throttled:
        log.warning("login throttled for %s", address)
        raise
    try:
        yield
    except (Unauthenticated, Forbidden):
        db.defer(lambda s: login_guard.record_failure(s, address, username, policy=limits))
        raise


def csrf_token() -> str:
    """The signed token a page form carries (Flask-WTF's), bound to this session's secret."""
    return generate_csrf()


def check_csrf() -> None:
    """Every form post carries the session's token (field ``csrf_token`` or header ``X-CSRF-Token``).

    The API uses bearer tokens instead and is exempt; a cookie alone never writes through it (load_user).
    """
    if request.method in SAFE_METHODS or is_api_request():
        return
    csrf.protect()


def csrf_refused(error: CSRFError):
    """A page in words, whatever Flask-WTF's reason (missing, expired, not this session's)."""
    log.info("form post refused: %s", error.description)
    return respond(400, translated(CSRF_REFUSED))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_may_hold_nul() -> bool:
    """A JSON body holds a NUL only as the byte or as the escape \\u0000: a body with neither (every
    bedside scan) needs no walk through its values."""
    raw = request.get_data(cache=True)
    return b"\x00" in raw or b"\\u0000" in raw


def _nul_fields() -> list[str]:
    """The names of the inputs that hold a NUL character: path, query and form fields, top-level JSON keys."""
    found = ["path"] if "\x00" in request.path else []
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for source in sources:
        found += [name for name, values in source.lists() if _has_nul(name) or any(_has_nul(v) for v in values)]
    try:
        body = request.get_json(silent=True) if request.is_json and _json_may_hold_nul() else None
    except RecursionError:  # too deep to read: the API's body parser refuses it by name
        body = None
    if isinstance(body, dict):
        found += [str(name).replace("\x00", "?") for name, value in body.items() if _has_nul(name) or _has_nul(value)]
    elif _has_nul(body):
        found.append("body")
    return found


def refuse_nul_characters() -> None:
    """Refuse text with a NUL character anywhere in the path, query, form or JSON body, before any lookup.

    No scanner or keyboard types one; PostgreSQL cannot store or even compare one (the driver raises, and
    the request would end in a 500), and SQLite would store it and cut it off in every C string later.
    """
    fields = _nul_fields()
    if fields:
        raise Invalid(dict.fromkeys(fields, "control_character: text may not contain a NUL character (\\x00)"))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if is_api_request():
                raise Unauthenticated(translated(N_(
                    "log in first: POST /api/v1/auth/token, then send Authorization: Bearer")))
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)
    wrapped.requires_login = True  # read by the API document: the operation needs a bearer token
    return wrapped


def roles_required(*roles: str, action: str = N_("open this page")) -> Callable[..., Any]:
    """Gate a view by role; record-level rules stay in the services. ``action`` is an English phrase marked
    ``N_`` (the refusal words it in the reader's language: docs/architecture.md, "Languages")."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_role(g.user.roles, *roles, action=action)
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the navigation, the role-matrix test and the API document
        wrapped.required_action = action  # read by the test that every refusal's action is translated
        return wrapped
    return decorator


def current_user() -> Principal:
    if g.get("user") is None:
        raise Forbidden("no one is logged in")
    return g.user


def init_app(app: Flask) -> None:
    """Every request: refuse NUL characters, read who is asking, then check a page form's CSRF token."""
    app.before_request(refuse_nul_characters)
    app.before_request(load_user)
    # Flask-WTF's own hook is turned off (WTF_CSRF_CHECK_DEFAULT) so that the check runs here, after the
    # person is known, and skips the whole API by its path rather than blueprint by blueprint.
    csrf.init_app(app)
    app.before_request(check_csrf)
    app.register_error_handler(CSRFError, csrf_refused)
