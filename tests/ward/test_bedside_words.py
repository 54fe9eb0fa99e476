"""The bedside checks say what they found as a code and values worded from one catalogue, so they can be
translated: the API and the pages show the same sentences, and a stored attempt is worded again."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import select

from cellchain.core import db
from cellchain.core.words import checks, reasons
from cellchain.ward.models import BedsideCheck
from tests.factories import ward

URL = "/api/v1/infusions/verify"
PACKAGE = Path(__file__).resolve().parents[2] / "cellchain"


def _said_in_the_package() -> list[tuple[str, int, str, set[str]]]:
    """(module, line, key, values given) for every ``said("literal key", ...)`` in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "said"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.append((path.name, node.lineno, node.args[0].value, {k.arg for k in node.keywords}))
    return found


def test_every_check_detail_said_has_its_words_in_the_catalogue_with_every_value():
    said = _said_in_the_package()
    assert len(said) > 40
    assert [(m, line, key) for m, line, key, _ in said if key not in checks.DETAILS] == []
    assert [(m, line, key) for m, line, key, given in said
            if None not in given and reasons.placeholders(checks.DETAILS[key]) - given] == []


def test_the_check_catalogue_holds_literal_templates_and_no_refusal_code():
    for key, template in checks.DETAILS.items():
        assert isinstance(template, str) and template.strip() and ":" in key, key
        assert all(name.isidentifier() for name in reasons.placeholders(template)), key
    assert set(checks.DETAILS) & set(reasons.MESSAGES) == set()


def test_no_bedside_check_writes_its_sentence_where_it_judges():
    for module in ("ward/rules/bedside_checks.py", "ward/bedside_scans.py"):
        tree = ast.parse((PACKAGE / module).read_text())
        judged = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "judged"]
        assert judged or module.endswith("scans.py")
        assert [ast.unparse(n) for n in judged if isinstance(n.args[2], ast.JoinedStr | ast.Constant)] == []


def test_every_check_answers_its_code_and_values_and_the_sentence_they_make(app, api):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    body = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan}).get_json()
    by_name = {c["name"]: c for c in body["checks"]}
    assert by_name["right_subject"]["code"] == "right_subject:ok"
    assert by_name["right_subject"]["params"] == {"bag_code": scene.bag.bag_code,
                                                  "subject_code": scene.subject.subject_code}
    assert by_name["right_subject"]["detail"] == (
        f"bag {scene.bag.bag_code} is allocated to {scene.subject.subject_code}")
    assert all(c["detail"] == checks.worded(c["code"], c["params"]) for c in body["checks"])


def test_a_check_that_repeats_a_refusal_answers_the_refusals_code(app, api):
    with app.app_context():
        session = db.session()
        scene = ward.bedside_ready(session)
        allocation = session.get(type(scene.allocation), scene.allocation.id)
        allocation.weight_kg = 90.0
        session.add(allocation)
        db.commit()
    body = api.post(URL, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan}).get_json()
    [dose] = [c for c in body["checks"] if c["name"] == "dose_within_tolerance"]
    assert not dose["ok"] and dose["code"] == "dose_out_of_tolerance"
    assert dose["detail"] == reasons.worded("dose_out_of_tolerance", dose["params"])


def test_a_translated_catalogue_words_the_page_of_a_recorded_attempt(app, auth, monkeypatch):
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    auth.login("nurse")
    posted = auth.post("/ward/bedside/check", {"wristband": scene.wristband, "scan": scene.bag_scan})
    assert posted.status_code == 303
    monkeypatch.setitem(checks.DETAILS, "right_subject:ok", "Beutel {bag_code} ist {subject_code} zugeteilt")
    page = auth._client.get(posted.headers["Location"]).get_data(as_text=True)
    assert f"Beutel {scene.bag.bag_code} ist {scene.subject.subject_code} zugeteilt" in page
    with app.app_context():
        stored = db.session().exec(select(BedsideCheck)).one().checks
    # the attempt keeps the sentence it showed, beside the code and values it was worded from
    right = next(c for c in stored if c["name"] == "right_subject")
    assert right["detail"] == f"bag {scene.bag.bag_code} is allocated to {scene.subject.subject_code}"


def test_an_attempt_stored_before_checks_kept_their_codes_reads_as_it_was_stored():
    assert checks.reworded("", {}, "released by QA") == "released by QA"
    assert checks.reworded("no_such:key", {}, "as stored") == "as stored"
    assert checks.reworded("right_subject:ok", {"bag_code": "B"}, "as stored") == "as stored"
    assert checks.reworded("right_subject:ok", {"bag_code": "B", "subject_code": "S"}, "x") == (
        "bag B is allocated to S")
