"""The OpenAPI document: complete for every API route, valid, and readable as a page."""

from __future__ import annotations

from cellchain.overview.openapi import OPERATIONS, api_rules, rule_key


def test_every_api_route_is_in_the_openapi_document(app):
    undocumented = [f"{method} {rule.rule}" for method, rule in api_rules(app)
                    if rule_key(method, rule.rule) not in OPERATIONS]
    assert undocumented == []


def test_the_document_describes_no_route_that_does_not_exist(app):
    routes = {rule_key(method, rule.rule) for method, rule in api_rules(app)}
    assert [key for key in OPERATIONS if key not in routes] == []


def test_openapi_json_names_the_design_operations_with_their_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    verify = spec["paths"]["/infusions/verify"]["post"]
    assert verify["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BedsideIn")
    bedside = spec["components"]["schemas"]["BedsideIn"]
    assert set(bedside["required"]) == {"wristband", "bag"}
    checks = spec["components"]["schemas"]["BedsideOut"]["properties"]["checks"]
    assert checks["type"] == "array"
    assert "409" in spec["paths"]["/lots/{lot_id}/release"]["post"]["responses"]
    visits = spec["paths"]["/subjects/{subject_code}/visits"]["get"]
    assert visits["parameters"][0]["name"] == "subject_code"
    assert spec["paths"]["/visits/{visit_id}/allocation"]["post"]["parameters"][0]["schema"]["type"] == "integer"


def test_every_operation_but_login_and_the_document_needs_a_bearer_token(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    open_paths = {(path, method) for path, ops in spec["paths"].items() for method, op in ops.items()
                  if "security" not in op}
    assert open_paths == {("/auth/token", "post"), ("/openapi.json", "get")}


def test_api_page_is_readable_by_a_logged_in_person(client, auth):
    auth.login("lab")
    page = client.get("/api-docs")
    assert page.status_code == 200
    assert b"/api/v1/infusions/verify" in page.data and b"BedsideOut" in page.data
