"""The OpenAPI document of /api/v1, built by flask-smorest from the routes and their schemas.

flask-smorest documents each route from its decorators (summary from the docstring, request and answer
schemas). Completed here from what the code itself states: who may call it (the ``roles_required``
decorator's roles, the bearer token ``login_required`` asks for) and the error answers every route can give.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app
from werkzeug.routing import Rule

from cellchain.core.api import IDEMPOTENCY_HEADER, PREFIX, REPLAYED_HEADER, WRITE_METHODS, bp
from cellchain.core.submissions.idempotency import KEY_RULE

_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
ERROR_REF = {"$ref": "#/components/schemas/Error"}
REFUSALS = {400: "bad input: ``fields`` names each bad field", 401: "not authenticated",
            403: "the role or the person may not do this", 404: "not found",
            409: "refused by a rule: ``reasons`` lists every rule that refused",
            413: "the body is too large",
            422: f"the {IDEMPOTENCY_HEADER} was first sent with another request (another body, path or method); "
                 "nothing was saved",
            503: "the database is not answering; nothing was saved"}
METHODS = ("get", "post", "put", "patch", "delete")
IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
    "description": (f"Optional; {KEY_RULE}. A retry of this write with the same key, by the same account and with "
                    "the same request, within IDEMPOTENCY_KEY_HOURS, is given the first answer again (with "
                    f"`{REPLAYED_HEADER}: true`) and writes nothing; a refused request (4xx) does not use its key."),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
}


def api_rules(app: Flask) -> Iterator[tuple[str, Rule]]:
    """(method, rule) of every API route the app answers."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule


def document_path(rule: str) -> str:
    """``/api/v1/lots/<lot_id>`` as the document writes it: ``/lots/{lot_id}`` (the server URL holds the prefix)."""
    return _CONVERTER.sub(r"{\1}", rule[len(PREFIX):])


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _complete(operation: dict[str, Any], view: Any, endpoint: str, method: str) -> None:
    roles = getattr(view, "required_roles", ())
    needs_login = getattr(view, "requires_login", False)
    operation["operationId"] = f"{endpoint.replace('.', '_')}_{method}"
    responses = operation.setdefault("responses", {})
    statuses = [400, 404, 409, 503]
    if needs_login:
        operation["security"] = [{"bearer": []}]
        statuses += [401, 403]
    if "requestBody" in operation:
        statuses.append(413)
    if method.upper() in WRITE_METHODS:
        # Every write honours the header at the API's edge (core/api.py), so every write states it.
        parameters = operation.setdefault("parameters", [])
        if IDEMPOTENCY_PARAMETER not in parameters:  # flask-smorest hands out the same dict on every build
            parameters.append(dict(IDEMPOTENCY_PARAMETER))
        statuses.append(422)
    if roles:
        stated = "Roles: " + ", ".join(roles)
        operation["description"] = f"{operation['description']}\n\n{stated}" if operation.get("description") \
            else stated
    for answer in responses.values():
        if "$ref" not in answer:
            answer.setdefault("content", {"application/json": {}})
    for status in sorted(statuses):
        description = REFUSALS[status]
        if status == 403 and roles:
            description = f"the caller holds none of the roles {', '.join(roles)}, or a rule of the record refuses"
        limit = getattr(view, "body_limit", None)
        if status == 413 and limit is not None:
            description = (f"the body is larger than this upload allows (a {limit.field} of up to {limit.limit_mb} MB; "
                           "every other request keeps MAX_CONTENT_LENGTH); ``fields`` names it")
        responses.setdefault(str(status), _error(description))


def build_spec(app: Flask) -> dict[str, Any]:
    """The document as a dict: flask-smorest's, with paths relative to the server URL, security and refusals."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec = api.spec.to_dict()
    views = {(document_path(rule.rule), method.lower()): rule.endpoint for method, rule in api_rules(app)}
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        short = document_path(path) if path.startswith(PREFIX) else path
        for method, operation in item.items():
            if method in METHODS:
                endpoint = views[(short, method)]
                _complete(operation, app.view_functions[endpoint], endpoint, method)
        shared = item.pop("parameters", [])
        for operation in item.values():
            # path parameters stated on each operation: readers that walk operations find them there
            operation["parameters"] = shared + operation.get("parameters", [])
        paths[short] = item
    spec["paths"] = dict(sorted(paths.items()))
    spec["tags"] = sorted({tag for item in paths.values() for op in item.values() if isinstance(op, dict)
                           for tag in op.get("tags", [])})
    spec["tags"] = [{"name": tag} for tag in spec["tags"]]
    return spec


@bp.route("/openapi.json", methods=["GET"], tags=["meta"])
@bp.response(200, description="This document (OpenAPI 3.0)")
def openapi_document() -> dict[str, Any]:
    """This document"""
    return build_spec(current_app)
