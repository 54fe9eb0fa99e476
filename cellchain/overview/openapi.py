"""The OpenAPI document of /api/v1, generated with apispec from the marshmallow schemas.

Every API route the app registers is documented from ``OPERATIONS`` (a test fails for a route that is
missing here), so the document cannot fall behind the code that scanner stations depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, jsonify
from marshmallow import Schema
from werkzeug.routing import IntegerConverter

from cellchain.core.api import bp
from cellchain.core.schemas import ErrorSchema
from cellchain.overview import resources as r

PREFIX = "/api/v1"
_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    request: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    roles: tuple[str, ...] = ()
    produces: str = "application/json"
    refusals: tuple[int, ...] = field(default=(400, 401, 403, 404, 409))
    public: bool = False


PDF, ZPL, CSV = "application/pdf", "text/plain", "text/csv"
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/auth/token"): Operation("Exchange a username and password for a bearer token", "auth", r.TokenIn,
                                       r.TokenOut, 201, public=True),
    ("POST", "/auth/revoke"): Operation("Revoke the bearer token of this request", "auth"),
    ("GET", "/auth/me"): Operation("Who the token belongs to", "auth"),
    ("POST", "/collections"): Operation("Register a cord collection; assigns its DIN and decides donor eligibility",
                                        "collections", r.CollectionIn, r.CollectionOut, 201, ("lab",)),
    ("GET", "/collections/{}"): Operation("A collection by DIN", "collections", None, r.CollectionOut),
    ("GET", "/collections/{}/custody"): Operation("A collection's custody chain", "custody", None,
                                                  r.ItemCustodyOut),
    ("POST", "/custody"): Operation("Record a hand-over of a collection or bag", "custody", r.CustodyIn,
                                    r.CustodyOut, 201, ("lab", "nurse", "qa")),
    ("GET", "/excursions"): Operation("Temperature excursions (?status=open|accepted|rejected)", "custody", None,
                                      None, 200, ("qa", "auditor")),
    ("POST", "/excursions/{}/decide"): Operation("QA accepts or rejects an excursion with an e-signature", "custody",
                                                 None, None, 200, ("qa",)),
    ("POST", "/lots"): Operation("Start a lot from an eligible, received collection", "lots", r.LotIn, r.LotOut, 201,
                                 ("lab",)),
    ("GET", "/lots/{}"): Operation("A lot with passages, QC results and bags", "lots", None, r.LotOut),
    ("POST", "/lots/{}/harvest"): Operation("Record the harvest", "lots", r.HarvestIn, r.LotOut, 201, ("lab",)),
    ("POST", "/lots/{}/formulation"): Operation("Record the formulation", "lots", r.FormulationIn, r.LotOut, 201,
                                                ("lab",)),
    ("POST", "/lots/{}/batch-steps"): Operation("Record a batch-record step", "lots", r.BatchStepIn, r.BatchStepOut,
                                                201, ("lab",)),
    ("POST", "/lots/{}/batch-steps/{}/verify"): Operation("A second person verifies a step (e-signature)", "lots",
                                                          r.VerifyStepIn, r.VerifyStepOut, 201, ("lab", "qa")),
    ("GET", "/lots/{}/batch-record.pdf"): Operation("The batch record", "lots", produces=PDF),
    ("GET", "/lots/{}/labels.pdf"): Operation("Labels of all the lot's bags, one job", "labels", produces=PDF),
    ("GET", "/lots/{}/labels.zpl"): Operation("Labels of all the lot's bags, ZPL", "labels", produces=ZPL),
    ("GET", "/lots/{}/qc-tube-labels.pdf"): Operation("QC sample tube labels", "labels", produces=PDF),
    ("GET", "/lots/{}/qc-tube-labels.zpl"): Operation("QC sample tube labels, ZPL", "labels", produces=ZPL),
    ("GET", "/lots/{}/vessel-labels.pdf"): Operation("Culture vessel labels (?passage=&vessels=)", "labels",
                                                     produces=PDF),
    ("GET", "/lots/{}/vessel-labels.zpl"): Operation("Culture vessel labels, ZPL", "labels", produces=ZPL),
    ("GET", "/collections/{}/label.pdf"): Operation("The collection's label", "labels", produces=PDF),
    ("GET", "/collections/{}/label.zpl"): Operation("The collection's label, ZPL", "labels", produces=ZPL),
    ("GET", "/subjects/{}/wristband.zpl"): Operation("The subject's wristband, ZPL", "labels", produces=ZPL),
    ("POST", "/shipments/label"): Operation("A shipper label for bags dispatched together", "labels",
                                            r.ShipperLabelIn, None, 200, ("lab",), produces=PDF),
    ("GET", "/labels"): Operation("Printed labels (?target=&key=), or those not yet accounted for", "labels",
                                  None, r.LabelsOut),
    ("POST", "/labels/{}/status"): Operation("Account for a printed label", "labels", r.LabelStatusIn,
                                             r.LabelPrintOut, 200, ("lab", "qa", "nurse")),
    ("POST", "/lots/{}/passages"): Operation("Record a passage", "lots", r.PassageIn, r.PassageOut, 201, ("lab",)),
    ("POST", "/lots/{}/qc-results"): Operation("Record a QC result; judged against the lot's specification", "qc",
                                               r.QcResultIn, r.QcResultOut, 201, ("qc",)),
    ("GET", "/lots/{}/qc-results"): Operation("A lot's QC results", "qc", None, r.QcResultsOut),
    ("GET", "/lots/{}/release-check"): Operation("What still stands between a lot and its release", "qc", None,
                                                 r.ReleaseCheckOut),
    ("GET", "/deviations"): Operation("List deviations (?status=)", "qc", None, r.DeviationsOut),
    ("POST", "/deviations"): Operation("Open a deviation", "qc", r.DeviationIn, r.DeviationOut, 201, ("qa",)),
    ("GET", "/deviations/{}"): Operation("A deviation", "qc", None, r.DeviationOut),
    ("POST", "/deviations/{}/investigate"): Operation("Record root cause and impact", "qc", r.DeviationStepIn,
                                                      r.DeviationOut, 200, ("qa",)),
    ("POST", "/deviations/{}/decide"): Operation("Accept or reject, with justification", "qc", r.DeviationStepIn,
                                                 r.DeviationOut, 200, ("qa",)),
    ("POST", "/deviations/{}/close"): Operation("Close with a QA e-signature", "qc", r.DeviationStepIn,
                                                r.DeviationOut, 200, ("qa",)),
    ("GET", "/specifications/current"): Operation("The specification in force", "qc", None, r.SpecificationOut),
    ("POST", "/specifications"): Operation("Publish a new specification version (new lots only)", "qc",
                                           r.SpecificationIn, None, 201, ("qa",)),
    ("POST", "/lots/{}/release"): Operation("Release a lot with a QA e-signature", "qc", r.DecisionIn,
                                            r.DecisionOut, 200, ("qa",)),
    ("POST", "/lots/{}/reject"): Operation("Reject a lot with a QA e-signature", "qc", r.DecisionIn, r.DecisionOut,
                                           200, ("qa",)),
    ("GET", "/lots/{}/release-certificate.pdf"): Operation("The release certificate", "qc", produces=PDF),
    ("POST", "/lots/{}/bags"): Operation("Fill bags from a formulated lot", "bags", r.FillIn, r.BagsOut, 201,
                                         ("lab",)),
    ("POST", "/placebo-bags"): Operation("Fill placebo bags of 0.9% saline", "bags", r.PlaceboIn, r.BagsOut, 201,
                                         ("lab",)),
    ("GET", "/bags"): Operation("List bags (?status=&lot_id=)", "bags", None, r.BagsOut),
    ("GET", "/bags/{}"): Operation("A bag", "bags", None, r.BagOut),
    ("GET", "/bags/{}/label.pdf"): Operation("The bag's label, PDF", "labels", produces=PDF),
    ("GET", "/bags/{}/label.zpl"): Operation("The bag's label, ZPL for Zebra printers", "labels", produces=ZPL),
    ("GET", "/bags/{}/custody"): Operation("The bag's custody chain", "custody", None, r.ItemCustodyOut),
    ("GET", "/bags/{}/chain-of-custody.pdf"): Operation("The bag's chain-of-custody report", "custody",
                                                        produces=PDF),
    ("POST", "/scans"): Operation("Say what a scan is", "scans", r.ScanIn, r.ScanOut),
    ("POST", "/subjects"): Operation("Register and screen a subject", "trial", r.SubjectIn, r.SubjectOut, 201,
                                     ("coordinator",)),
    ("GET", "/subjects"): Operation("List subjects", "trial", None, r.SubjectsOut),
    ("POST", "/visits/{}/done"): Operation("Record a follow-up visit as done", "trial", r.VisitDoneIn, r.VisitOut, 200,
                                           ("coordinator",)),
    ("GET", "/randomization-list"): Operation("The allocation list's recorded hash and how much is used", "trial",
                                              None, r.RandomizationListOut),
    ("POST", "/randomization-list/extend"): Operation("Add blocks to the allocation list", "trial", r.ExtendListIn,
                                                      r.RandomizationListOut, 200, ("coordinator", "admin")),
    ("GET", "/subjects/{}"): Operation("A subject", "trial", None, r.SubjectOut),
    ("POST", "/subjects/{}/randomize"): Operation("Randomize an eligible subject (once)", "trial", None,
                                                  r.RandomizeOut, 200, ("coordinator",)),
    ("GET", "/subjects/{}/visits"): Operation("A subject's visits with windows", "trial", None, r.VisitsOut),
    ("GET", "/subjects/{}/wristband.pdf"): Operation("The subject's wristband label", "labels", produces=PDF),
    ("POST", "/visits/{}/allocation"): Operation("Allocate a bag to an infusion visit", "trial", r.AllocationIn,
                                                 r.AllocationOut, 201, ("coordinator",)),
    ("POST", "/infusions/verify"): Operation("Bedside check: every check by name (writes only the attempt)",
                                             "infusions", r.BedsideIn, r.BedsideOut, 200, ("nurse",)),
    ("POST", "/infusions"): Operation("Start an infusion with a second person's e-signature", "infusions",
                                      r.InfusionIn, r.InfusionOut, 201, ("nurse",)),
    ("POST", "/infusions/{}/complete"): Operation("Finish an infusion", "infusions", r.InfusionCompleteIn,
                                                  r.InfusionOut, 200, ("nurse",)),
    ("GET", "/infusions/{}"): Operation("An infusion", "infusions"),
    ("GET", "/audit/verify"): Operation("Check the audit trail's hash chain", "audit", None, r.AuditVerifyOut, 200,
                                        ("auditor", "qa", "admin")),
    ("GET", "/openapi.json"): Operation("This document", "meta", public=True),
}


def rule_key(method: str, rule: str) -> tuple[str, str]:
    """(method, path with any parameter as ``{}``) — the form OPERATIONS is keyed by."""
    return method, _CONVERTER.sub("{}", rule[len(PREFIX):])


def api_rules(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule


def _responses(op: Operation) -> dict:
    content = {op.produces: {"schema": op.response}} if op.response else {op.produces: {}}
    responses = {str(op.status): {"description": op.summary, "content": content}}
    for status in op.refusals if not op.public else (400,):
        responses[str(status)] = {"description": {400: "bad input, fields named", 401: "not authenticated",
                                                  403: "role not allowed", 404: "not found",
                                                  409: "refused by a rule, reasons listed"}[status],
                                  "content": {"application/json": {"schema": ErrorSchema}}}
    return responses


def build_spec(app: Flask) -> dict:
    spec = APISpec(title="cellchain API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "Chain of identity and custody for UC-MSC cell therapy."},
                   servers=[{"url": PREFIX}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for method, rule in api_rules(app):
        op = OPERATIONS.get(rule_key(method, rule.rule))
        if op is None:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule[len(PREFIX):])
        operation = {"summary": op.summary, "tags": [op.tag], "responses": _responses(op),
                     "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower()}
        if op.roles:
            operation["description"] = "Roles: " + ", ".join(op.roles)
        if not op.public:
            operation["security"] = [{"bearer": []}]
        if op.request is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.request}}}
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer" if isinstance(rule._converters.get(name), IntegerConverter)
                              else "string"}} for name in rule.arguments]
        if params:
            operation["parameters"] = sorted(params, key=lambda p: p["name"])
        paths.setdefault(path, {})[method.lower()] = operation
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(build_spec(current_app))
