"""The request lifecycle shared by every page and API call: one transaction, security headers, site time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, request, url_for
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from cellchain.core import db, error_handlers, page_forms
from cellchain.core.errors import Invalid
from cellchain.core.words import N_, entries, labels, numbers, scans, translated
from cellchain.core.words.moments import site_clock


def _raise_body_limit() -> None:
    # The first hook of every request: the limit must be set before anything reads the body (the NUL check
    # of people/security.py reads every form), because Werkzeug fixes it when it first parses the body.
    limit = error_handlers.view_body_limit()
    if limit is not None:
        request.max_content_length = limit.max_bytes


def _commit_or_refuse(response: Response) -> Response:
    """One request, one transaction: commit what a successful request did, roll back anything else."""
    if response.status_code >= 400:
        db.rollback()
        return response
    try:
        db.commit()
    except IntegrityError as error:
        return _as_response(error_handlers.integrity_conflict(error))
    except OperationalError as error:
        return _as_response(error_handlers.database_down(error))
    return response


def _as_response(result) -> Response:
    body, status = result
    response = current_app.make_response(body)
    response.status_code = status
    return response


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["HSTS"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def localtime(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time in the site's zone, as people at the site read clocks."""
    if moment is None:
        return ""
    return site_clock(moment, ZoneInfo(current_app.config["SITE_TIMEZONE"]), fmt)


def readable(summary: Mapping[str, Any]) -> dict[str, str]:
    """A record's summary as people read it: times in the site's zone, nothing as a dash; the names stay codes,
    worded by the page (``field_label``)."""
    return {name: localtime(value) if isinstance(value, datetime) else
            ("—" if value is None else str(value)) for name, value in summary.items()}


def posted(name: str, action: str | None = None) -> str:
    """What the last form post sent under ``name`` (a refused form shows it again), if it went to ``action``
    (a page with one form per row refills only the row's form that was sent); never a password."""
    if request.method != "POST" or "password" in name or (action is not None and request.path != action):
        return ""
    return request.form.get(name, "")


class BoundedInt(IntegerConverter):
    """``<int:...>`` in URLs, bounded to what a database integer holds: a 30-digit id is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


# --- the cursor of a list's next page -------------------------------------------------------------------
# The cursor is the last row's ordering key, signed with the site's secret and bound to the list and its
# filters: it cannot be forged, edited, or carried over to another list or other filters (a 400 naming
# ``cursor``); a cursor signed before the secret changed is refused alike.

PAGING_ARGS = ("cursor", "limit", "per_page")
CURSOR_REFUSED = "not a cursor this list gave for these filters; start again from the first page"


def _link_args() -> dict[str, str]:
    """The query's filters and page size as a list's links repeat them. Names ``url_for`` itself takes
    (``endpoint``, ``_external``, ``_method`` ...) are left out: they would break the link or point it
    elsewhere; no list filters on such a name."""
    path = request.view_args or {}  # a query name that repeats a path part would be a second value for it
    return {k: v for k, v in request.args.items() if k != "cursor" and v != "" and k != "endpoint"
            and not k.startswith("_") and k not in path}


def _list_scope() -> str:
    """The list (endpoint and path) and its filters, as the cursor is bound to them."""
    filters = sorted((k, v) for k, v in _link_args().items() if k not in PAGING_ARGS)
    return f"{request.endpoint}|{sorted((request.view_args or {}).items())}|{filters}"


def _cursors() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cellchain.list-cursor")


def _key_to_json(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _key_from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, dict | list):
        raise ValueError("not a key value")
    return value


def page_request(*, size_arg: str = "per_page", default: int = db.PAGE_SIZE) -> db.PageRequest:
    """The page the request asks for: ``?cursor=`` (from a previous page) and its size (``per_page`` on
    pages, ``limit`` in the API): ``default`` (PAGE_SIZE), at most MAX_PAGE_SIZE."""
    size_text = request.args.get(size_arg, "").strip()
    if not size_text:
        size = default
    elif size_text.isdigit() and int(size_text) >= 1:
        size = min(int(size_text), db.MAX_PAGE_SIZE)
    else:
        raise Invalid({size_arg: translated(N_(
            "a whole number from {low} to {high}")).format(low=1, high=db.MAX_PAGE_SIZE)})
    cursor = request.args.get("cursor", "")
    if not cursor:
        return db.PageRequest(size)
    try:
        payload = _cursors().loads(cursor)
        if not isinstance(payload, dict) or payload.get("s") != _list_scope() or not isinstance(payload.get("k"), list):
            raise ValueError("another list")
        return db.PageRequest(size, tuple(_key_from_json(v) for v in payload["k"]))
    except (BadData, ValueError, TypeError):
        raise Invalid({"cursor": CURSOR_REFUSED}) from None


def next_cursor(page: db.Page) -> str | None:
    """The opaque cursor of the page after ``page`` (None on the last page)."""
    if page.next_key is None:
        return None
    return _cursors().dumps({"s": _list_scope(), "k": [_key_to_json(v) for v in page.next_key]})


def next_page_url(page: db.Page) -> str | None:
    """This list's next page, its filters and page size kept (for a page's "Next" link)."""
    cursor = next_cursor(page)
    if cursor is None or request.method != "GET":  # a form's refusal re-shows the list: no link to the POST
        return None
    return url_for(request.endpoint, **{**_link_args(), **(request.view_args or {})}, cursor=cursor)


def first_page_url() -> str | None:
    """This list's first page with its filters, when the request is on a later page."""
    if not request.args.get("cursor") or request.method != "GET":
        return None
    return url_for(request.endpoint, **{**_link_args(), **(request.view_args or {})})


def init_app(app: Flask) -> None:
    """Before the areas' own hooks: bounded ids, the proxy's client address, error pages, commit at the edge."""
    app.url_map.converters["int"] = BoundedInt
    if app.config["PROXY_COUNT"]:  # the client's address and scheme as the trusted proxies pass them on
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    error_handlers.init_app(app)
    app.before_request(_raise_body_limit)
    app.after_request(_security_headers)
    app.after_request(_commit_or_refuse)
    app.add_template_filter(localtime, "localtime")
    # Every page form gets its one-time submission id where it gets its CSRF token (templates/macros.html).
    app.add_template_global(page_forms.new_submission_id, "new_submission_id")
    app.add_template_global(next_page_url, "next_page_url")
    app.add_template_global(first_page_url, "first_page_url")
    # One vocabulary and one way to write numbers on every page (cellchain/core/words/).
    app.add_template_filter(labels.label, "label")
    app.add_template_filter(labels.check_label, "check_label")
    app.add_template_filter(labels.place, "place")
    # An audit entry's record type and action, a scan's kind and fields: codes kept, words shown.
    app.add_template_filter(entries.record_type_label, "record_type_label")
    app.add_template_filter(entries.action_label, "action_label")
    app.add_template_filter(entries.field_label, "field_label")
    app.add_template_filter(scans.scan_kind_label, "scan_kind_label")
    app.add_template_filter(scans.scan_field_label, "scan_field_label")
    app.add_template_filter(scans.scan_value, "scan_value")
    app.add_template_filter(scans.record_field_label, "record_field_label")
    app.add_template_filter(numbers.cells, "cells")
    app.add_template_filter(numbers.count, "count")
    app.add_template_filter(numbers.volume, "volume")
    app.add_template_global(posted, "posted")
    # The one set of attributes a site-time input has, for inputs a template writes by hand.
    app.add_template_global({"type": "text", **page_forms.SITE_TIME_INPUT}, "site_time_input")
