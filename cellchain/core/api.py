"""The JSON API under /api/v1: one flask-smorest blueprint; each area's ``api`` module registers its routes on it.

Request bodies are loaded by the area's schemas (``@bp.arguments``) and answers dumped by them
(``@bp.response``); a body the schema refuses is a 400 in the product's own error shape
(``{error, fields: {name: message}}``), never flask-smorest's 422.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser

from cellchain.core.errors import Invalid
from cellchain.core.schemas import ErrorSchema

PREFIX = "/api/v1"
BODY_MESSAGE = "send a JSON object with Content-Type: application/json"
# No request of the API nests deeper than 4 levels (an infusion's reactions); a deeper body is refused by
# name before any schema walks it, and one too deep for Python's parser is a 400, never a 500.
MAX_JSON_DEPTH = 16
DEPTH_MESSAGE = f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"


def field_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested error messages as ``{"signature.meaning": "..."}``; the body itself is ``body``."""
    if not isinstance(messages, dict):
        text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
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
            raise Invalid({"body": DEPTH_MESSAGE}) from None
        if not isinstance(data, dict):
            raise Invalid({"body": BODY_MESSAGE})
        if nested_deeper_than(data, MAX_JSON_DEPTH):
            raise Invalid({"body": DEPTH_MESSAGE})
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


def init_app(app: Flask) -> CellchainApi:
    """Register the API blueprint (every area's routes must be on it by now) and build its document."""
    api = CellchainApi(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    return api


def is_api_request() -> bool:
    return request.path.startswith("/api/")
