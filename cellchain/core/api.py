"""The JSON API under /api/v1: one flask-smorest blueprint; each area's ``api`` module registers its routes on it.

Request bodies are loaded by the area's schemas (``@bp.arguments``) and answers dumped by them
(``@bp.response``); a body the schema refuses is a 400 in the product's own error shape
(``{error, fields: {name: message}}``), never flask-smorest's 422.

Every write (POST, PUT, PATCH, DELETE) takes an optional ``Idempotency-Key`` header, honoured here once for
every route (docs/security.md, "Idempotent API writes"): the first request with a key keeps its answer with
the key, in the transaction of its write; a retry of it is given that answer and writes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, NoReturn

from flask import Flask, Response, current_app, g, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.core.schemas import ErrorSchema
from cellchain.core.submissions import idempotency
from cellchain.core.words import N_, translated
from cellchain.core.words.inputs import worded

PREFIX = "/api/v1"
BODY_MESSAGE = N_("send a JSON object with Content-Type: application/json")
# No request of the API nests deeper than 4 levels (an infusion's reactions); a deeper body is refused by
# name before any schema walks it, and one too deep for Python's parser is a 400, never a 500.
MAX_JSON_DEPTH = 16
DEPTH_MESSAGE = N_("the JSON body is nested deeper than {levels} levels")


def field_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested error messages as ``{"signature.meaning": "..."}``; the body itself is ``body``."""
    if not isinstance(messages, dict):
        # marshmallow's messages in the reader's language (core/words/inputs.py); the rest came worded
        text = " ".join(worded(m) for m in messages) if isinstance(messages, list) else worded(messages)
        return {prefix or "body": text}
    flat: dict[str, str] = {}
    for name, inner in messages.items():
        key = "body" if name == "_schema" and not prefix else (prefix if name == "_schema" else
                                                                f"{prefix}.{name}" if prefix else str(name))
        flat.update(field_messages(inner, key))
    return flat


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays inside ``value`` go more than ``limit`` levels deep (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class RequestParser(FlaskParser):
    """webargs' parser, answering a refused body the way every other bad input is answered."""

    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema: Schema) -> Any:
        try:
            data = req.get_json(silent=True)
        except RecursionError:
            raise Invalid({"body": translated(DEPTH_MESSAGE).format(levels=MAX_JSON_DEPTH)}) from None
        if not isinstance(data, dict):
            raise Invalid({"body": translated(BODY_MESSAGE)})
        if nested_deeper_than(data, MAX_JSON_DEPTH):
            raise Invalid({"body": translated(DEPTH_MESSAGE).format(levels=MAX_JSON_DEPTH)})
        return data

    def handle_error(self, error: ValidationError, req, schema: Schema, *, error_status_code: int | None,
                     error_headers: dict | None) -> NoReturn:
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:
            # webargs files the messages under the location they came from ("json", "query")
            messages = next(iter(messages.values()))
        raise Invalid(field_messages(messages))


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = RequestParser()


class CellchainApi(Api):
    """flask-smorest's Api without its own error handlers: ``cellchain.core.error_handlers`` answers every error."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its own refusals (cellchain.overview.openapi)

    def _register_error_handlers(self) -> None:
        pass


bp = ApiBlueprint("api", __name__, url_prefix=PREFIX)

# --- idempotent writes ----------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def answer_not_kept(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a write whose answer holds a secret (a bearer token): its key is read but its answer never
    stored, so the secret is never kept in the database in the clear. A retry makes a new answer."""
    view.answer_not_kept = True
    return view


def _multipart_body() -> bytes:
    """A multipart body as its parts: each field, and each file's name and SHA-256. A client retrying an upload
    encodes it with a new random boundary, so the raw bytes of the same request differ from one try to the next."""
    files = []
    for name, upload in request.files.items(multi=True):
        content = upload.stream.read()
        upload.stream.seek(0)  # the view reads the file from its start
        files.append((name, upload.filename or "", hashlib.sha256(content).hexdigest()))
    return repr((sorted(request.form.lists()), sorted(files))).encode()


def _request_digest() -> str:
    """HMAC-SHA256, under the site's secret, of what makes two requests the same: method, path, query, body."""
    secret = current_app.config["SECRET_KEY"]
    mac = hmac.new(secret if isinstance(secret, bytes) else str(secret).encode(), digestmod=hashlib.sha256)
    body = _multipart_body() if request.mimetype == "multipart/form-data" else request.get_data(cache=True)
    if not body and request.mimetype == "application/x-www-form-urlencoded":
        body = repr(sorted(request.form.lists())).encode()  # parsed already: its fields stand for the body
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        mac.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: no two splits read the same
    return mac.hexdigest()


def _replay(answer: idempotency.Answer) -> Response:
    response = current_app.response_class(answer.body, status=answer.status, content_type=answer.content_type)
    if answer.location:
        response.headers["Location"] = answer.location
    if answer.content_disposition:
        response.headers["Content-Disposition"] = answer.content_disposition
    response.headers[REPLAYED_HEADER] = "true"
    return response


@bp.before_request
def claim_idempotency_key() -> Response | None:
    """Before an API write's view (after the caller is known): claim its key, or answer a retry at once."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None or request.method not in WRITE_METHODS:
        return None
    if not idempotency.KEY_PATTERN.fullmatch(key):
        raise Invalid({IDEMPOTENCY_HEADER: idempotency.KEY_RULE})
    user = g.get("user")
    view = current_app.view_functions.get(request.endpoint or "")
    if user is None or getattr(view, "answer_not_kept", False):
        return None  # no account to keep it for (the view refuses the call), or an answer that is a secret
    claimed = idempotency.claim(db.session(), user_id=user.id, key=key,
                                request_line=f"{request.method} {request.path}"[:2000], digest=_request_digest(),
                                hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    if isinstance(claimed, idempotency.Answer):
        return _replay(claimed)
    g.idempotency_claim = claimed
    return None


@bp.after_request
def keep_idempotent_answer(response: Response) -> Response:
    """After the view, before the edge commits: keep a successful answer with its key, in the same transaction.

    A refusal (4xx) or a failure is not kept: the edge rolls the claim back with everything else, so the
    client may correct the request and send it again with the same key.
    """
    row = g.pop("idempotency_claim", None)
    if row is None or response.status_code >= 400:
        return response
    session = db.session()
    if response.is_streamed:  # no answer to keep whole: the key is given back rather than left half-used
        session.delete(row)
        session.flush()
        return response
    idempotency.settle(session, row, idempotency.Answer(
        response.status_code, response.content_type, response.get_data(), response.headers.get("Location"),
        response.headers.get("Content-Disposition")))
    return response


def init_app(app: Flask) -> CellchainApi:
    """Register the API blueprint (every area's routes must be on it by now) and build its document."""
    api = CellchainApi(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    return api


def is_api_request() -> bool:
    return request.path.startswith("/api/")
