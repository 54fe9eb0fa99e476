"""A reader of Chinese reads what is wrong with each field of refused input in Chinese, on the page and in the
API's answer: every field message an ``Invalid`` carries is a catalogue template marked ``N_``, worded in the
reader's language where it is raised and filled with its values after (docs/architecture.md, "Languages")."""

from __future__ import annotations

import ast
import html
import re

from cellchain.core.config import ROOT
from tests.conftest import PASSWORD, signature
from tests.factories.lab import in_db
from tests.materials.scene import material, received

# The refusals whose dict names fields: ``Invalid(fields)``, and ``Unauthenticated(message, fields)``.
CARRIERS = {"Invalid", "Unauthenticated"}


def _called(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _words(text: str) -> bool:
    """Text a person reads, not only a separator or a code's punctuation (``"; "``, ``": "``)."""
    return re.search(r"[A-Za-z]", text) is not None


def _marked(node: ast.expr) -> bool:
    """``translated(N_("..."))``, with its values filled after: ``translated(N_("...")).format(...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _marked(node.func.value)
    # translated(name): a name holding N_ templates (a catalogue's entry, a reader's message)
    return (isinstance(node, ast.Call) and _called(node) == "translated" and len(node.args) == 1
            and (isinstance(node.args[0], ast.Name | ast.Attribute | ast.Subscript)
                 or (isinstance(node.args[0], ast.Call) and _called(node.args[0]) == "N_")))


def _english(node: ast.expr) -> bool:
    """A field message that would reach the reader as written: a literal, an f-string, a literal formatted or
    joined with ``+``/``%`` before translation, or ``N_`` (a mark, not a translation) on its own."""
    if isinstance(node, ast.IfExp):
        return _english(node.body) or _english(node.orelse)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and _words(part.value) for part in node.values)
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return not _marked(node.func.value)
        if _called(node) == "translated":
            return not _marked(node)
        return _called(node) == "N_"
    return False


def _function_of(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    """Each node's innermost enclosing function (the module for top-level code)."""
    owner: dict[ast.AST, ast.AST] = {}

    def visit(node: ast.AST, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            owner[child] = scope
            visit(child, child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else scope)

    visit(tree, tree)
    return owner


def _built(name: str, scope: ast.AST) -> list[ast.expr]:
    """The messages a function puts in the dict it refuses with: ``errors["x"] = ...``, ``errors = {...}``,
    ``errors.update({...})``, ``errors.setdefault("x", ...)``."""
    found: list[ast.expr] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == name:
                    found.append(node.value)
                if isinstance(target, ast.Name) and target.id == name and isinstance(node.value, ast.Dict):
                    found += node.value.values
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and getattr(node.func.value, "id", None) == name:
            if node.func.attr == "setdefault" and len(node.args) == 2:
                found.append(node.args[1])
            if node.func.attr == "update":
                found += [v for arg in node.args if isinstance(arg, ast.Dict) for v in arg.values]
                found += [arg.value for arg in node.args if isinstance(arg, ast.DictComp)]
    return found


def _field_messages(source: str) -> list[tuple[int, ast.expr]]:
    """Every field message (and message) a refusal of bad input is raised with in ``source``."""
    tree = ast.parse(source)
    owner = _function_of(tree)
    found: list[tuple[int, ast.expr]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _called(node) in CARRIERS):
            continue
        for given in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(given, ast.Dict):
                values = list(given.values)
            elif isinstance(given, ast.DictComp):
                values = [given.value]
            elif isinstance(given, ast.Name):
                values = _built(given.id, owner[node])
            else:
                values = [given]
            found += [(getattr(value, "lineno", node.lineno), value) for value in values]
    return found


def _unmarked_in_cellchain() -> tuple[list[str], int]:
    unmarked, seen = [], 0
    for path in sorted((ROOT / "cellchain").rglob("*.py")):
        for line, value in _field_messages(path.read_text(encoding="utf-8")):
            seen += 1
            if _english(value):
                unmarked.append(f"{path.relative_to(ROOT)}:{line}: {ast.unparse(value)}")
    return unmarked, seen


KNOWN = {
    # the code a scanner station matches, then the catalogue's words in the reader's language
    "cellchain/identifiers/gs1.py: f'gs1: {translated(words).format(**values)}'",
}


def test_every_field_message_of_refused_input_is_marked_for_the_catalogue_not_written_in_english():
    # A literal or an f-string reaches a Chinese reader in English; translated(N_(...)).format(...) is looked up in
    # the reader's language first, and test_languages holds every N_ template to a translation.
    unmarked, seen = _unmarked_in_cellchain()
    left = [u for u in unmarked if re.sub(r":\d+:", ":", u) not in KNOWN]
    assert left == []
    assert seen > 300


def test_the_scan_finds_a_field_message_written_in_english():
    source = '''
def check(data, reason, limit):
    if not reason:
        raise Invalid({"reason": "say why"})
    errors = {}
    errors["limit"] = f"up to {limit} characters"
    errors.setdefault("kind", "one of " + ", ".join(KINDS))
    errors["size"] = "at most {n}".format(n=limit)
    errors["code"] = N_("a code")
    errors["fine"] = translated(N_("up to {n} characters")).format(n=limit)
    errors["scan"] = f"{code}: {translated(words)}"
    raise Invalid(errors)
'''
    english = sorted(ast.unparse(value) for _line, value in _field_messages(source) if _english(value))
    assert english == ["'at most {n}'.format(n=limit)", "'one of ' + ', '.join(KINDS)", "'say why'",
                       "N_('a code')", "f'up to {limit} characters'"]


# --- what a reader of Chinese sees ---------------------------------------------------------------------------

def _asks(api, client, url: str, as_: str, language: str, json: dict):
    """An API request of ``as_`` whose Accept-Language names ``language``."""
    return client.post(url, json=json, headers={**api.headers(as_), "Accept-Language": language})


def _quarantined(app) -> str:
    with in_db(app) as session:
        return received(session, material(session, name="Heparin Z"), "HEP-ZH-1", status="quarantine").code


def test_a_qa_reviewer_reading_chinese_is_told_on_the_page_to_say_why_a_material_lot_is_rejected(app, client, auth):
    code = _quarantined(app)
    auth.login("qa")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    response = auth.post(f"/materials/lots/{code}/reject", {"signature_username": "qa", "signature_password": PASSWORD,
                                                            "signature_meaning": "rejected", "reason": ""})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "请说明拒收该批次的原因" in page
    assert "say why the lot is rejected" not in page


def test_a_qa_reviewer_asking_in_chinese_gets_the_material_decisions_field_messages_in_chinese(app, api, client):
    code = _quarantined(app)
    reject, release = f"/api/v1/material-lots/{code}/reject", f"/api/v1/material-lots/{code}/release"
    unsaid = _asks(api, client, reject, "qa", "zh", {"signature": signature("qa", "rejected")})
    assert unsaid.status_code == 400
    assert unsaid.get_json()["fields"] == {"reason": "请说明拒收该批次的原因"}
    long = _asks(api, client, reject, "qa", "zh", {"signature": signature("qa", "rejected"), "reason": "x" * 2001})
    assert long.get_json()["fields"] == {"reason": "不超过 2000 个字符"}
    wrong = _asks(api, client, release, "qa", "zh", {"signature": signature("qa", "rejected")})
    assert wrong.get_json()["fields"] == {"signature.meaning": "此处签名含义必须为 released"}


def test_an_english_reader_is_told_the_material_decisions_field_messages_in_english_as_before(app, api, client):
    code = _quarantined(app)
    response = _asks(api, client, f"/api/v1/material-lots/{code}/reject", "qa", "en",
                     {"signature": signature("qa", "rejected"), "reason": "x" * 2001})
    assert response.get_json()["fields"] == {"reason": "up to 2000 characters"}


def test_a_lab_technician_asking_in_chinese_is_told_a_passage_times_wrong_way_round_in_chinese(app, api, client):
    from tests.factories.lab import days_ago, iso, make_lot
    with in_db(app) as session:
        din = make_lot(session).din
    response = _asks(api, client, f"/api/v1/lots/{din}/passages", "lab", "zh", {
        "number": 0, "seeded_cells": 4_000_000, "harvested_cells": 1_000_000, "viability_pct": 95,
        "seeded_at": iso(days_ago(1)), "harvested_at": iso(days_ago(2))})
    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert fields["harvested_at"] == "须晚于接种时间（seeded_at）"
    assert fields["harvested_cells"] == "1000000 少于接种的 4000000 个细胞"
