"""Check a real answer against the OpenAPI document, with schemathesis' own conformance check."""

from __future__ import annotations

from typing import Any

import schemathesis


def load(client) -> Any:
    """The document as the app serves it, ready to check answers against."""
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def assert_documented(document: Any, method: str, path: str, response) -> None:
    """The operation documents this status and content type, and the body matches the schema it states."""
    operation = document[path][method]
    answers = operation.definition.raw["responses"]
    assert str(response.status_code) in answers, f"{method} {path} does not document {response.status_code}"
    assert response.mimetype in answers[str(response.status_code)]["content"], response.mimetype
    operation.validate_response(response)
