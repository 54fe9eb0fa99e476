"""The request lifecycle shared by every page and API call: one transaction, security headers, site time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from cellchain.core import db, error_handlers
from cellchain.core.words import labels, numbers


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
    zone = ZoneInfo(current_app.config["SITE_TIMEZONE"])
    return moment.astimezone(zone).strftime(fmt) + " " + moment.astimezone(zone).tzname()


def readable(summary: Mapping[str, Any]) -> dict[str, str]:
    """A record's summary as people read it: names in words, times in the site's zone, nothing as a dash."""
    return {name.replace("_", " "): localtime(value) if isinstance(value, datetime) else
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


def init_app(app: Flask) -> None:
    """Before the areas' own hooks: bounded ids, the proxy's client address, error pages, commit at the edge."""
    app.url_map.converters["int"] = BoundedInt
    if app.config["PROXY_COUNT"]:  # the client's address and scheme as the trusted proxies pass them on
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    error_handlers.init_app(app)
    app.after_request(_security_headers)
    app.after_request(_commit_or_refuse)
    app.add_template_filter(localtime, "localtime")
    # One vocabulary and one way to write numbers on every page (cellchain/core/words/).
    app.add_template_filter(labels.label, "label")
    app.add_template_filter(labels.check_label, "check_label")
    app.add_template_filter(numbers.cells, "cells")
    app.add_template_filter(numbers.count, "count")
    app.add_template_filter(numbers.volume, "volume")
    app.add_template_global(posted, "posted")
