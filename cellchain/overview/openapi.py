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
    ("POST", "/collections"): Fallback("Register a cord collection; assigns its DIN and decides donor eligibility",
                                        "collections", r.CollectionIn, r.CollectionOut, 201),
    ("GET", "/collections/{}"): Fallback("A collection by DIN", "collections", None, r.CollectionOut),
    ("GET", "/collections/{}/custody"): Fallback("A collection's custody chain", "custody", None,
                                                  r.ItemCustodyOut),
    ("POST", "/custody"): Fallback("Record a hand-over of a collection or bag", "custody", r.CustodyIn,
                                    r.CustodyOut, 201),
    ("GET", "/excursions"): Fallback("Temperature excursions (?status=open|accepted|rejected)", "custody", None,
                                      None, 200),
    ("POST", "/excursions/{}/decide"): Fallback("QA accepts or rejects an excursion with an e-signature", "custody",
                                                 None, None, 200),
    ("POST", "/lots"): Fallback("Start a lot from an eligible, received collection", "lots", r.LotIn, r.LotOut, 201),
    ("GET", "/lots/{}"): Fallback("A lot with passages, QC results and bags", "lots", None, r.LotOut),
    ("POST", "/lots/{}/harvest"): Fallback("Record the harvest", "lots", r.HarvestIn, r.LotOut, 201),
    ("POST", "/lots/{}/formulation"): Fallback("Record the formulation", "lots", r.FormulationIn, r.LotOut, 201),
    ("POST", "/lots/{}/batch-steps"): Fallback("Record a batch-record step", "lots", r.BatchStepIn, r.BatchStepOut,
                                                201),
    ("POST", "/lots/{}/batch-steps/{}/verify"): Fallback("A second person verifies a step (e-signature)", "lots",
                                                          r.VerifyStepIn, r.VerifyStepOut, 201),
    ("GET", "/lots/{}/batch-record.pdf"): Fallback("The batch record", "lots", produces=PDF),
    ("POST", "/lots/{}/passages"): Fallback("Record a passage", "lots", r.PassageIn, r.PassageOut, 201),
    ("POST", "/lots/{}/bags"): Fallback("Fill bags from a formulated lot", "bags", r.FillIn, r.BagsOut, 201),
    ("POST", "/placebo-bags"): Fallback("Fill placebo bags of 0.9% saline", "bags", r.PlaceboIn, r.BagsOut, 201),
    ("GET", "/bags"): Fallback("List bags (?status=&lot_id=)", "bags", None, r.BagsOut),
    ("GET", "/bags/{}"): Fallback("A bag", "bags", None, r.BagOut),
    ("GET", "/bags/{}/custody"): Fallback("The bag's custody chain", "custody", None, r.ItemCustodyOut),
    ("GET", "/bags/{}/chain-of-custody.pdf"): Fallback("The bag's chain-of-custody report", "custody",
                                                        produces=PDF),
    ("POST", "/scans"): Fallback("Say what a scan is", "scans", r.ScanIn, r.ScanOut),
    ("POST", "/subjects"): Fallback("Register and screen a subject", "trial", r.SubjectIn, r.SubjectOut, 201),
    ("GET", "/subjects"): Fallback("List subjects", "trial", None, r.SubjectsOut),
    ("POST", "/visits/{}/done"): Fallback("Record a follow-up visit as done", "trial", r.VisitDoneIn, r.VisitOut, 200),
    ("GET", "/randomization-list"): Fallback("The allocation list's recorded hash and how much is used", "trial",
                                              None, r.RandomizationListOut),
    ("POST", "/randomization-list/extend"): Fallback("Add blocks to the allocation list", "trial", r.ExtendListIn,
                                                      r.RandomizationListOut, 200),
    ("GET", "/subjects/{}"): Fallback("A subject", "trial", None, r.SubjectOut),
    ("POST", "/subjects/{}/randomize"): Fallback("Randomize an eligible subject (once)", "trial", None,
                                                  r.RandomizeOut, 200),
    ("GET", "/subjects/{}/visits"): Fallback("A subject's visits with windows", "trial", None, r.VisitsOut),
    ("POST", "/visits/{}/allocation"): Fallback("Allocate a bag to an infusion visit", "trial", r.AllocationIn,
                                                 r.AllocationOut, 201),
    ("POST", "/infusions/verify"): Fallback("Bedside check: every check by name (writes only the attempt)",
                                             "infusions", r.BedsideIn, r.BedsideOut, 200),
    ("POST", "/infusions"): Fallback("Start an infusion with a second person's e-signature", "infusions",
                                      r.InfusionIn, r.InfusionOut, 201),
    ("POST", "/infusions/{}/complete"): Fallback("Finish an infusion", "infusions", r.InfusionCompleteIn,
                                                  r.InfusionOut, 200),
    ("GET", "/infusions/{}"): Fallback("An infusion", "infusions"),
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
