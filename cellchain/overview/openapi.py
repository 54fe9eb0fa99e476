"""The OpenAPI document of /api/v1, built by flask-smorest from the routes and their schemas.

flask-smorest documents each route from its decorators (summary from the docstring, request and answer
schemas). Completed here from what the code itself states: who may call it (the ``roles_required``
decorator's roles, the bearer token ``login_required`` asks for) and the error answers every route can give.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from marshmallow import Schema
from werkzeug.routing import Rule

from cellchain.core.api import PREFIX, bp
from cellchain.overview import resources as r

_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_PARAMETER = re.compile(r"\{[a-z_]+\}")
ERROR_REF = {"$ref": "#/components/schemas/Error"}
REFUSALS = {400: "bad input: ``fields`` names each bad field", 401: "not authenticated",
            403: "the role or the person may not do this", 404: "not found",
            409: "refused by a rule: ``reasons`` lists every rule that refused",
            413: "the body is too large", 503: "the database is not answering; nothing was saved"}
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Fallback:
    """How a route that does not yet load and dump through flask-smorest decorators is documented."""

    summary: str
    tag: str
    request: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    produces: str = "application/json"


PDF, ZPL, CSV = "application/pdf", "text/plain", "text/csv"
UNCONVERTED: dict[tuple[str, str], Fallback] = {
    ("GET", "/lots/{}/labels.pdf"): Fallback("Labels of all the lot's bags, one job", "labels", produces=PDF),
    ("GET", "/lots/{}/labels.zpl"): Fallback("Labels of all the lot's bags, ZPL", "labels", produces=ZPL),
    ("GET", "/lots/{}/qc-tube-labels.pdf"): Fallback("QC sample tube labels", "labels", produces=PDF),
    ("GET", "/lots/{}/qc-tube-labels.zpl"): Fallback("QC sample tube labels, ZPL", "labels", produces=ZPL),
    ("GET", "/lots/{}/vessel-labels.pdf"): Fallback("Culture vessel labels (?passage=&vessels=)", "labels",
                                                     produces=PDF),
    ("GET", "/lots/{}/vessel-labels.zpl"): Fallback("Culture vessel labels, ZPL", "labels", produces=ZPL),
    ("GET", "/collections/{}/label.pdf"): Fallback("The collection's label", "labels", produces=PDF),
    ("GET", "/collections/{}/label.zpl"): Fallback("The collection's label, ZPL", "labels", produces=ZPL),
    ("GET", "/subjects/{}/wristband.zpl"): Fallback("The subject's wristband, ZPL", "labels", produces=ZPL),
    ("POST", "/shipments/label"): Fallback("A shipper label for bags dispatched together", "labels",
                                            r.ShipperLabelIn, None, 200, produces=PDF),
    ("GET", "/labels"): Fallback("Printed labels (?target=&key=), or those not yet accounted for", "labels",
                                  None, r.LabelsOut),
    ("POST", "/labels/{}/status"): Fallback("Account for a printed label", "labels", r.LabelStatusIn,
                                             r.LabelPrintOut, 200),
    ("POST", "/lots/{}/qc-results"): Fallback("Record a QC result; judged against the lot's specification", "qc",
                                               r.QcResultIn, r.QcResultOut, 201),
    ("GET", "/lots/{}/qc-results"): Fallback("A lot's QC results", "qc", None, r.QcResultsOut),
    ("GET", "/lots/{}/release-check"): Fallback("What still stands between a lot and its release", "qc", None,
                                                 r.ReleaseCheckOut),
    ("GET", "/deviations"): Fallback("List deviations (?status=)", "qc", None, r.DeviationsOut),
    ("POST", "/deviations"): Fallback("Open a deviation", "qc", r.DeviationIn, r.DeviationOut, 201),
    ("GET", "/deviations/{}"): Fallback("A deviation", "qc", None, r.DeviationOut),
    ("POST", "/deviations/{}/investigate"): Fallback("Record root cause and impact", "qc", r.DeviationStepIn,
                                                      r.DeviationOut, 200),
    ("POST", "/deviations/{}/decide"): Fallback("Accept or reject, with justification", "qc", r.DeviationStepIn,
                                                 r.DeviationOut, 200),
    ("POST", "/deviations/{}/close"): Fallback("Close with a QA e-signature", "qc", r.DeviationStepIn,
                                                r.DeviationOut, 200),
    ("GET", "/specifications/current"): Fallback("The specification in force", "qc", None, r.SpecificationOut),
    ("POST", "/specifications"): Fallback("Publish a new specification version (new lots only)", "qc",
                                           r.SpecificationIn, None, 201),
    ("POST", "/lots/{}/release"): Fallback("Release a lot with a QA e-signature", "qc", r.DecisionIn,
                                            r.DecisionOut, 200),
    ("POST", "/lots/{}/reject"): Fallback("Reject a lot with a QA e-signature", "qc", r.DecisionIn, r.DecisionOut,
                                           200),
    ("GET", "/lots/{}/release-certificate.pdf"): Fallback("The release certificate", "qc", produces=PDF),
    ("GET", "/bags/{}/label.pdf"): Fallback("The bag's label, PDF", "labels", produces=PDF),
    ("GET", "/bags/{}/label.zpl"): Fallback("The bag's label, ZPL for Zebra printers", "labels", produces=ZPL),
    ("GET", "/subjects/{}/wristband.pdf"): Fallback("The subject's wristband label", "labels", produces=PDF),
}


def _ref(schema: type[Schema]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema.__name__}"}


def register_fallback_schemas(api: Any) -> None:
    """The schemas the routes of ``UNCONVERTED`` refer to, as components of the document."""
    for schema in sorted({s for op in UNCONVERTED.values() for s in (op.request, op.response) if s},
                         key=lambda s: s.__name__):
        if schema.__name__ not in api.spec.components.schemas:
            api.spec.components.schema(schema.__name__, schema=schema)


def _fallback(operation: dict[str, Any], op: Fallback) -> None:
    operation["summary"], operation["tags"] = op.summary, [op.tag]
    if op.request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.request)}}}
    content = {op.produces: {"schema": _ref(op.response)} if op.response else {}}
    operation.setdefault("responses", {})[str(op.status)] = {"description": op.summary, "content": content}


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
                fallback = UNCONVERTED.get((method.upper(), _PARAMETER.sub("{}", short)))
                if fallback is not None:
                    _fallback(operation, fallback)
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
