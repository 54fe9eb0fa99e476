"""The OpenAPI document: complete for every API route, valid, and readable as a page."""

from __future__ import annotations

from cellchain.overview.openapi import api_rules, document_path

SUCCESS = ("200", "201")


def _operations(spec):
    return {(method.upper(), path): op for path, item in spec["paths"].items() for method, op in item.items()
            if method in ("get", "post")}


def test_every_api_route_is_in_the_openapi_document_with_its_answer(app, client):
    operations = _operations(client.get("/api/v1/openapi.json").get_json())
    undocumented = [f"{method} {rule.rule}" for method, rule in api_rules(app)
                    if not any(s in operations.get((method, document_path(rule.rule)), {}).get("responses", {})
                               for s in SUCCESS)]
    assert undocumented == []
    assert all(op.get("summary") and op.get("tags") for op in operations.values())


def test_the_document_describes_no_route_that_does_not_exist(app, client):
    routes = {(method, document_path(rule.rule)) for method, rule in api_rules(app)}
    assert [key for key in _operations(client.get("/api/v1/openapi.json").get_json()) if key not in routes] == []


def test_openapi_json_names_the_design_operations_with_their_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.0")
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
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    open_paths = {(path, method) for path, ops in spec["paths"].items() for method, op in ops.items()
                  if method in ("get", "post") and "security" not in op}
    assert open_paths == {("/auth/token", "post"), ("/openapi.json", "get")}


def test_the_document_states_the_roles_the_route_itself_requires(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    release = spec["paths"]["/lots/{lot_id}/release"]["post"]
    assert "Roles: qa" in release["description"] and "qa" in release["responses"]["403"]["description"]
    audit = spec["paths"]["/audit/verify"]["get"]
    assert "Roles: auditor, qa, admin" in audit["description"]
    assert app.view_functions["api.verify"].required_roles == ("auditor", "qa", "admin")


def test_every_refusal_is_documented_in_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    custody = spec["paths"]["/custody"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "503"):
        assert custody[status]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
    assert "429" in spec["paths"]["/auth/token"]["post"]["responses"]
    pdf = spec["paths"]["/lots/{lot_id}/batch-record.pdf"]["get"]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]


def test_api_page_is_readable_by_a_logged_in_person(client, auth):
    auth.login("lab")
    page = client.get("/api-docs")
    assert page.status_code == 200
    assert b"/api/v1/infusions/verify" in page.data and b"BedsideOut" in page.data
