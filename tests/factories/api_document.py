"""Check a real API answer against what /api/v1/openapi.json says that operation answers.

The document is OpenAPI 3.0: its schemas are turned into JSON Schema (``nullable`` becomes a ``null``
type) and every object that lists its properties is closed, so an answer carrying a field the document
does not name fails as surely as one missing a required field or giving a wrong type.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs


def _as_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("nullable") and "$ref" in out:
        out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def answer_problems(spec: dict[str, Any], method: str, path: str, response) -> list[str]:
    """What is wrong with ``response`` for the documented operation (``[]`` when it conforms)."""
    operation = spec["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return [f"status {response.status_code} is not documented for {method} {path}"]
    content_type = response.mimetype
    if content_type not in documented.get("content", {}):
        return [f"{content_type} is not documented for {method} {path} {response.status_code}"]
    schema = documented["content"][content_type].get("schema")
    if schema is None or content_type != "application/json":
        return []
    root = {"components": _as_json_schema(copy.deepcopy(spec["components"])), **_as_json_schema(schema)}
    validator = jsonschema_rs.Draft4Validator(root)
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(response.get_json())]


def load(client) -> dict[str, Any]:
    """The document as the app serves it."""
    return client.get("/api/v1/openapi.json").get_json()


def assert_documented(spec: dict[str, Any], method: str, path: str, response) -> None:
    """The operation documents this status and content type, and the body matches the schema it states."""
    assert answer_problems(spec, method, path, response) == []
