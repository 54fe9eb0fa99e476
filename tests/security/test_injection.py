"""SQL injection and malformed-text probes in every path parameter, query string and JSON field.

Every query is parameterised (SQLAlchemy), so a probe is just an odd string: the answer is a 400, 404
or 409, or a 200 that matched nothing, never a 500, and the tables are all still there afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from cellchain.demo import loader as demo
from cellchain.people.models import User
from tests.conftest import PASSWORD, AuthActions, new_submission_id
from tests.factories.lab import in_db, snapshot
from tests.factories.security import add_prints_and_deviation, load_site, routes

PROBES = (
    "' OR 1=1 --",
    "1; DROP TABLE users",
    "x' UNION SELECT username, password_hash FROM users --",
    '" OR ""="',
    "%' OR '%'='",
    "'); DELETE FROM audit_entries; --",
    "\\' OR 1=1 #",
    "A" * 3000,
    "nul\x00byte",
    "99999999999999999999999",
    "-1",
)
QUERY_NAMES = ("status", "lot_id", "din", "actor", "record_type", "record_id", "since", "until", "target", "key",
               "scan", "bag", "page", "passage", "vessels", "format", "h", "next", "endpoint", "_method",
               "_external", "values")
BODY_NAMES = ("username", "password", "data", "collection_din", "din", "item", "bag_id", "lot_id", "status", "kind",
              "description", "test", "value", "reason", "screening_number", "wristband", "bag", "site", "donor_code",
              "event", "location", "condition", "notes", "step", "decision", "justification", "root_cause", "impact",
              "ship_to", "bags", "anticoagulant", "saline_lot", "anticoagulant_lot", "sex", "birth_date", "day0",
              "collected_at", "occurred_at", "tested_at", "ended_at", "label", "format", "extra")
FORM_NAMES = ("full_name", "roles", "scan", "details", "temperature_c", "volume_ml", "count", "weight_kg",
              "signature_username", "signature_password", "signature_meaning", "active", "accept")
SAFE = {200, 201, 302, 400, 401, 403, 404, 409}


@pytest.fixture
def site(app, client, api):
    # thousands of probes from one address: test the probes, not the throttle
    app.config["LOGIN_THROTTLE_FAILURES"] = app.config["LOGIN_THROTTLE_ADDRESS_FAILURES"] = 0
    return add_prints_and_deviation(client, api, load_site(app))


def _status(client, method: str, url: str, **kwargs) -> int:
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception:
        return 500
    response.close()
    return response.status_code


def _tables_intact(app) -> None:
    with in_db(app) as session:
        counts = snapshot(session)  # counts every table: a dropped one would raise here
        assert set(counts) == {t.name for t in SQLModel.metadata.sorted_tables}
        assert session.exec(select(func.count()).select_from(User)).one() == len(demo.PEOPLE) + 1  # the spare account
    assert AuthActions(client_for(app)).login("lab").status_code == 302


def client_for(app):
    return app.test_client()


def _param_routes(app, *, api: bool):
    return [r for r in routes(app, api=api) if r.method == "GET" and "<" in r.rule]


def test_probes_in_path_parameters_are_never_a_500(app, client, api, site):
    auth = AuthActions(client)
    auth.login("qa")
    wrong = []
    for probe in PROBES:
        values = dict.fromkeys(site, probe)
        for route in _param_routes(app, api=True):
            status = _status(client, "GET", route.url(values), headers=api.headers("auditor"))
            if status not in SAFE:
                wrong.append(f"GET {route.url(values)[:120]}: {status}")
        for route in _param_routes(app, api=False):
            status = _status(client, "GET", route.url(values))
            if status not in SAFE:
                wrong.append(f"GET {route.url(values)[:120]}: {status}")
    assert not wrong, "\n" + "\n".join(wrong)
    _tables_intact(app)


def test_probes_in_query_strings_are_never_a_500(app, client, api, site):
    AuthActions(client).login("auditor")
    wrong = []
    for probe in PROBES:
        query = dict.fromkeys(QUERY_NAMES, probe)
        for route in routes(app, api=True) + routes(app, api=False):
            if route.method != "GET" or route.rule.startswith(("/auth/",)):
                continue
            for as_ in ("auditor", "lab"):
                headers = api.headers(as_) if route.rule.startswith("/api/") else {}
                status = _status(client, "GET", route.url(site), query_string=query, headers=headers)
                if status not in SAFE:
                    wrong.append(f"GET {route.rule}?..={probe[:30]!r} as {as_}: {status}")
    assert not wrong, "\n" + "\n".join(wrong)
    _tables_intact(app)


def _get(client, api, url: str, query: dict[str, str]):
    return client.get(url, query_string=query, headers=api.headers("auditor"))


def test_filters_with_probes_match_nothing(app, client, api, site):
    assert _get(client, api, "/api/v1/bags", {}).get_json()["bags"]  # the site has bags to match
    for probe in PROBES[:7]:
        for name in ("status", "lot_id", "din"):
            response = _get(client, api, "/api/v1/bags", {name: probe})
            assert response.status_code in (400, 404) or response.get_json()["bags"] == [], (name, probe)
        response = _get(client, api, "/api/v1/deviations", {"status": probe})
        assert response.status_code == 400 or response.get_json()["deviations"] == [], probe
        response = _get(client, api, "/api/v1/labels", {"target": "bag", "key": probe})
        assert response.status_code in (400, 404) or response.get_json()["labels"] == [], probe
    AuthActions(client).login("auditor")
    for probe in PROBES[:7]:
        for name in ("actor", "record_type", "record_id"):
            page = client.get("/audit/", query_string={name: probe})
            assert page.status_code == 200 and b"<p>0 entries" in page.data, (name, probe)
    every = client.get("/audit/")
    assert b"<p>0 entries" not in every.data


def test_probes_in_json_fields_are_never_a_500(app, client, api, site):
    wrong = []
    for probe in PROBES:
        body = dict.fromkeys(BODY_NAMES, probe)
        body["signature"] = {"username": probe, "password": probe, "meaning": probe}
        body["verifier"] = body["signature"]
        body["details"] = {probe[:40]: probe[:200]}
        body["reactions"] = [{"description": probe, "severity": probe}]
        for route in routes(app, api=True):
            if route.method != "POST":
                continue
            for as_ in ("lab", "qa", "coordinator", "nurse", "qc", "admin"):
                status = _status(client, "POST", route.url(site), json=body, headers=api.headers(as_))
                if status not in SAFE:
                    wrong.append(f"POST {route.rule} {probe[:30]!r} as {as_}: {status}")
    assert not wrong, "\n" + "\n".join(wrong)
    _tables_intact(app)


def test_probes_in_form_fields_are_never_a_500(app, site):
    wrong = []
    for username in ("lab", "qa", "qc", "coordinator", "nurse", "admin"):
        browser = app.test_client()
        auth = AuthActions(browser)
        auth.login(username)
        for probe in PROBES:
            form = dict.fromkeys((*BODY_NAMES, *FORM_NAMES), probe)
            for route in routes(app, api=False):
                if route.method != "POST" or route.rule.startswith("/auth/"):
                    continue
                status = _status(browser, "POST", route.url(site), data={**form, "csrf_token": auth.csrf(),
                                                                          "submission_id": new_submission_id()})
                if status not in SAFE | {303}:
                    wrong.append(f"POST {route.rule} {probe[:30]!r} as {username}: {status}")
    assert not wrong, "\n" + "\n".join(wrong)
    _tables_intact(app)


def test_probes_at_the_login_are_refused_and_change_no_account(app, client):
    auth = AuthActions(client)
    app.config["LOGIN_THROTTLE_FAILURES"] = app.config["LOGIN_THROTTLE_ADDRESS_FAILURES"] = 0
    for probe in PROBES:
        page = client.post("/auth/login", data={"username": probe, "password": probe, "csrf_token": auth.csrf()})
        assert page.status_code in (400, 401), probe  # 400: a NUL character is refused before any look-up
        token = client.post("/api/v1/auth/token", json={"username": probe, "password": probe})
        assert token.status_code in (400, 401), probe
        token = client.post("/api/v1/auth/token", json={"username": "lab", "password": probe})
        assert token.status_code in (400, 401, 403), probe
    with in_db(app) as session:
        users = session.exec(select(User)).all()
        assert len(users) == len(demo.PEOPLE) and all(u.username.isidentifier() or u.username.isalnum() for u in users)
    assert AuthActions(client).login("qa", PASSWORD).status_code == 302


def test_a_nul_character_anywhere_is_a_400_naming_it(client, api, auth):
    for response, name in ((client.get("/api/v1/bags/A%00B", headers=api.headers("lab")), "path"),
                           (client.get("/api/v1/bags", query_string={"din": "A\x00"}, headers=api.headers("lab")),
                            "din"),
                           (client.post("/api/v1/scans", json={"data": ["x", {"k": "\x00"}]},
                                        headers=api.headers("lab")), "data"),
                           (client.post("/api/v1/scans", json={"da\x00ta": "x"}, headers=api.headers("lab")),
                            "da?ta")):
        assert response.status_code == 400
        assert "NUL" in response.get_json()["fields"][name]
    auth.login("lab")
    page = auth.post("/scan/", {"scan": "=A999926000001\x0000"})
    assert page.status_code == 400 and b"NUL" in page.data


def test_a_body_past_the_size_limit_is_refused_unread(app, client, api):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/scans", data=b"{" + b" " * limit + b"}", content_type="application/json",
                           headers=api.headers("lab"))
    assert response.status_code == 413


def test_a_value_the_database_refuses_is_a_400_not_a_500(new_app):
    """The safety net under every length and range check: a DataError from the driver is the request's fault."""
    from sqlalchemy.exc import DataError

    app, client = new_app, new_app.test_client()

    @app.route("/api/v1/test-data-error")
    def data_error():
        raise DataError("INSERT ...", {}, Exception("value too long for type character varying(120)"))

    response = client.get("/api/v1/test-data-error")
    assert response.status_code == 400 and "Nothing was saved" in response.get_json()["error"]
