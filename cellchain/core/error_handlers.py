"""Every refusal becomes one HTTP answer here: JSON under /api/, a page that says what happened elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cellchain.core import db
from cellchain.core.api import is_api_request
from cellchain.core.errors import DomainError, Invalid, Reason, Refused
from cellchain.core.words import N_, translated

log = logging.getLogger(__name__)

TITLES = {400: N_("The request could not be read"), 401: N_("Not signed in or wrong password"),
          403: N_("Not allowed"), 404: N_("Not found"), 405: N_("Not allowed here"), 409: N_("Refused by a rule"),
          413: N_("Too large"), 429: N_("Too many attempts"), 500: N_("Something went wrong"),
          503: N_("Service unavailable")}


def respond(status: int, message: str, *, fields: dict | None = None, reasons: list[Reason] | None = None):
    db.rollback()
    if is_api_request():
        body: dict = {"error": message}
        if fields:
            body["fields"] = fields
        if reasons:
            body["reasons"] = [r.as_dict() for r in reasons]
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=translated(TITLES.get(status, N_("Error"))),
                           message=message, fields=fields or {}, reasons=reasons or []), status


def _domain(error: DomainError):
    body, status = respond(error.status, error.message, fields=getattr(error, "fields", None),
                           reasons=getattr(error, "reasons", None))
    retry_after = getattr(error, "retry_after", None)
    return (body, status, {"Retry-After": str(retry_after)}) if retry_after else (body, status)


def _http(error: HTTPException):
    return respond(error.code or 500, error.description or translated(TITLES.get(error.code or 500, N_("Error"))))


# --- a view's own body limit, above MAX_CONTENT_LENGTH (an upload): declared on the view, raised on the
# request before its body is read (core/web.py), named in the 413 answer (too_large)

@dataclass(frozen=True)
class BodyLimit:
    """A view's own request body limit, above ``MAX_CONTENT_LENGTH`` (an upload), and what a larger body is told:
    ``message``, marked ``N_`` and formatted with ``mb`` (``limit_mb``), naming the form ``field``."""

    max_bytes: int
    limit_mb: int
    field: str
    message: str


def body_limit(max_bytes: int, *, limit_mb: int, field: str, message: str) -> Callable[[Any], Any]:
    """Let one view take a body of up to ``max_bytes``; every other request keeps ``MAX_CONTENT_LENGTH``
    (docs/security.md, "Every response"). Put it right under the route decorator."""
    def decorator(view: Any) -> Any:
        view.body_limit = BodyLimit(max_bytes, limit_mb, field, message)
        return view
    return decorator


def view_body_limit() -> BodyLimit | None:
    """The body limit the request's view declares, if any (None before routing or for an unknown path)."""
    return getattr(current_app.view_functions.get(request.endpoint or ""), "body_limit", None)


def too_large(error: RequestEntityTooLarge):
    """A body over the limit: a view with its own limit (an upload, :func:`body_limit`) names it and its field."""
    limit = view_body_limit()
    if limit is None:
        return _http(error)
    message = translated(limit.message).format(mb=limit.limit_mb)
    return respond(413, message, fields={limit.field: message})


def integrity_conflict(error: IntegrityError):
    # The database held an invariant the code did not catch first, typically a race between two servers.
    log.warning("integrity error: %s", error.orig)
    reason = Reason("conflict")
    return respond(409, reason.message, reasons=[reason])


def data_refused(error: DataError):
    # A value the database cannot hold (too long for its column, a number out of range) that no check
    # caught first: the request was wrong, not the server, and nothing was saved.
    log.warning("data error: %s", error.orig)
    return respond(400, translated(N_("A value does not fit what the database can store (too long, or a number "
                                      "out of range). Nothing was saved.")))


def database_down(error: DBAPIError):
    log.error("database error: %s", error)
    return respond(503, translated(N_("The database is not answering. Nothing was saved; try again in a moment.")))


def too_deep(error: RecursionError):
    # JSON nested deeper than the parser or a walk through its values can follow: no request of the
    # product looks like that, so it is bad input, not a fault of the server.
    log.warning("input nested too deeply: %s", error)
    return respond(400, translated(N_("The input is nested too deeply to read.")),
                   fields={"body": translated(N_("nested too deeply"))})


def _unexpected(error: Exception):
    if current_app.testing:
        raise error  # a test sees the traceback, not a polite page
    log.exception("unhandled error", exc_info=error)
    return respond(500, translated(N_("An unexpected error occurred. Nothing was saved.")))


def init_app(app: Flask) -> None:
    app.register_error_handler(Invalid, _domain)
    app.register_error_handler(Refused, _domain)
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(IntegrityError, integrity_conflict)
    app.register_error_handler(DataError, data_refused)
    app.register_error_handler(OperationalError, database_down)
    app.register_error_handler(RecursionError, too_deep)
    app.register_error_handler(Exception, _unexpected)
