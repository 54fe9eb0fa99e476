"""The audit trail keeps each entry's record type and action as codes and shows them in the reader's language:
every code the application writes has its word, and the word has its Chinese (docs/architecture.md,
"Languages")."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from babel.messages.pofile import read_po
from sqlalchemy import text

from cellchain.audit import trail
from cellchain.core.config import ROOT
from cellchain.core.words.entries import ACTIONS, RECORD_TYPES, action_label, record_type_label
from cellchain.equipment.rules import validity
from cellchain.materials import decisions
from cellchain.quality import deviations, release
from cellchain.ward.rules import custody_states
from tests.factories.qc import db_session

CATALOGUE = ROOT / "cellchain" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
WRITERS = ("trail", "audit")  # the names the audit trail module is imported under where entries are written
FIELDS = ("record_type", "action")


def _login_failures() -> set[str]:
    """The actions ``accounts.check_credentials`` records a wrong password under: its default and every
    ``action=`` a caller gives it."""
    found = set()
    for path in (ROOT / "cellchain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "check_credentials":
                found |= {d.value for d, a in zip(node.args.kw_defaults, node.args.kwonlyargs, strict=True)
                          if a.arg == "action" and isinstance(d, ast.Constant)}
            called = getattr(node.func, "attr", getattr(node.func, "id", "")) if isinstance(node, ast.Call) else ""
            if called == "check_credentials":
                found |= {k.value.value for k in node.keywords
                          if k.arg == "action" and isinstance(k.value, ast.Constant)}
    return found


# Calls whose code is computed: (file, field, the expression as written) -> every value it can take there, read
# from the code's own constants where it has them. A new computed call fails the test until it is listed here.
COMPUTED: dict[tuple[str, str, str], Iterable[str]] = {
    ("cellchain/equipment/instruments.py", "action", "service"): validity.SERVICES,
    ("cellchain/labelling/print_jobs.py", "action", "f'mark_{status}'"):
        [f"mark_{status}" for status in ("applied", "voided", "destroyed")],
    ("cellchain/materials/decisions.py", "action", "decision"): decisions.DECISIONS,
    ("cellchain/people/accounts.py", "action", "action"): _login_failures(),
    ("cellchain/people/accounts.py", "action", "f'{action}_locked'"): [f"{a}_locked" for a in _login_failures()],
    ("cellchain/quality/deviations.py", "action", "how"): ("open", "open_automatic"),
    ("cellchain/quality/deviations.py", "action", "move"): deviations.MOVES,
    ("cellchain/quality/release.py", "action", "f'lot_{status}'"): [f"lot_{s}" for s in release.DECISION_ACTIONS],
    ("cellchain/equipment/usage.py", "record_type", "record_type"): ("batch_step", "vial"),
    ("cellchain/storage/places.py", "record_type", "what"): ("storage_box", "storage_location"),
    ("cellchain/ward/bedside.py", "action", "attempt.purpose"): ("verify", "start"),
    ("cellchain/ward/custody.py", "record_type", "f'{kind}_custody'"):
        [f"{kind}_custody" for kind in custody_states.ITEM_KINDS],
    ("cellchain/ward/custody.py", "action", "handover.event"): custody_states.EVENTS,
}


def _constants(tree: ast.Module) -> dict[str, object]:
    """A module's top-level names bound to a string, or to a dict of strings (``DECISION_ACTIONS``)."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def _values(node: ast.expr, constants: dict[str, object]) -> set[str] | None:
    """What a literal code, a choice between literals or a module constant can be; None when computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        both = _values(node.body, constants), _values(node.orelse, constants)
        return both[0] | both[1] if None not in both else None
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
        return {constants[node.id]}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(
            constants.get(node.value.id), dict):
        return set(constants[node.value.id].values())
    return None


def _written() -> tuple[dict[str, set[str]], set[tuple[str, str, str]], list[str]]:
    """Every record type and action the application writes: from each ``trail.record(...)`` call and from the
    rows a migration appends itself; the computed calls met; the calls neither read nor listed."""
    codes: dict[str, set[str]] = {field: set() for field in FIELDS}
    met, unknown = set(), []
    calls = 0
    for path in sorted([*(ROOT / "cellchain").rglob("*.py"), *(ROOT / "migrations").rglob("*.py")]):
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        constants = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in WRITERS:
                calls += 1
                given = {k.arg: k.value for k in node.keywords}
                for field in FIELDS:
                    values = _values(given[field], constants)
                    key = (where, field, ast.unparse(given[field]))
                    if values is None and key in COMPUTED:
                        values = set(COMPUTED[key])
                        met.add(key)
                    if values is None:
                        unknown.append(f"{where}:{node.lineno} {field}={key[2]}")
                    else:
                        codes[field] |= values
            if isinstance(node, ast.Dict) and path.is_relative_to(ROOT / "migrations"):
                row = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
                if set(FIELDS) <= set(row):
                    for field in FIELDS:
                        codes[field] |= _values(row[field], constants) or set()
    assert calls > 100, "the calls to trail.record were not found"
    return codes, met, unknown


def test_every_record_type_and_action_written_has_a_word_with_its_chinese():
    codes, met, unknown = _written()
    assert unknown == [], "say in COMPUTED which codes these calls write:\n" + "\n".join(unknown)
    assert set(COMPUTED) - met == set(), "listed in COMPUTED but no longer written so"
    assert {"material_lot", "bag_custody", "audit_chain"} <= codes["record_type"]
    assert {"release", "login_failed_locked", "seal_existing"} <= codes["action"]
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="zh")
    unworded = [f"{field} {code}" for field, words in (("record_type", RECORD_TYPES), ("action", ACTIONS))
                for code in sorted(codes[field]) if code not in words]
    assert unworded == [], "add their words to cellchain/core/words/entries.py"
    untranslated = [message for field, words in (("record_type", RECORD_TYPES), ("action", ACTIONS))
                    for message in sorted({words[code] for code in codes[field]})
                    if catalogue.get(message) is None or not catalogue.get(message).string]
    assert untranslated == [], "add their Chinese to the catalogue"


def _row(page: str, record_id: str) -> list[str]:
    """The cells of the trail's row for ``record_id``, as text."""
    rows = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r'<tr data-seq="\d+">(.*?)</tr>', page, re.S)]
    (found,) = [cells for cells in rows if cells[3].endswith(f" {record_id}")]
    return found


def test_a_chinese_auditor_reads_record_types_and_actions_in_chinese_and_the_trail_keeps_the_codes(app, client,
                                                                                                  auth):
    with db_session(app) as session:
        trail.record(session, actor=None, record_type="material_lot", record_id="ML-000042", action="release")
        trail.record(session, actor=None, record_type="bag_custody", record_id="4242", action="received_at_ward")
    auth.login("auditor")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = client.get("/audit/").get_data(as_text=True)
    assert _row(page, "ML-000042")[3:5] == ["物料批 ML-000042", "已放行"]
    assert _row(page, "4242")[3:5] == ["细胞袋监管链 4242", "病区已接收"]
    assert '<option value="material_lot">物料批</option>' in page  # the filter offers words, sends the code
    filtered = client.get("/audit/", query_string={"record_type": "material_lot"}).get_data(as_text=True)
    assert '<option value="material_lot" selected>物料批</option>' in filtered and "ML-000042" in filtered
    assert "4242" not in filtered
    panel = client.get("/").get_data(as_text=True)
    assert 'href="/audit/?record_type=bag_custody">细胞袋监管链</a>' in panel
    with db_session(app) as session:
        stored = session.execute(text("SELECT record_type, action FROM audit_entries WHERE record_id = 'ML-000042'"))
        assert stored.all() == [("material_lot", "release")]


def test_an_english_auditor_reads_the_same_entries_in_english(app, client, auth):
    with db_session(app) as session:
        trail.record(session, actor=None, record_type="material_lot", record_id="ML-000042", action="release")
        trail.record(session, actor=None, record_type="user", record_id="4242", action="login_failed_locked")
    auth.login("auditor")
    page = client.get("/audit/").get_data(as_text=True)
    assert _row(page, "ML-000042")[3:5] == ["material lot ML-000042", "released"]
    assert _row(page, "4242")[3:5] == ["user account 4242", "login refused: account locked"]
    assert "物料批" not in page


def test_a_code_without_a_word_still_reads_as_words():
    assert record_type_label("script_run") == "script run" and action_label("noted_twice") == "noted twice"
    assert record_type_label(None) == "" and action_label("lot_released") == "released with its lot"


def test_a_chinese_auditor_reads_the_names_of_an_entrys_values_in_chinese_and_the_values_as_stored(app, client,
                                                                                                   auth):
    with db_session(app) as session:
        trail.record(session, actor=None, record_type="bag", record_id="4343", action="release",
                     old={"quality_status": "quarantine", "expires_at": "2027-01-01T10:00:00+00:00"},
                     new={"quality_status": "released", "odd_field": "A-1"})
    auth.login("auditor")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = client.get("/audit/").get_data(as_text=True)
    old, new = _row(page, "4343")[5:7]
    assert "质量状态" in old and "有效期至2027-01-01T10:00:00+00:00" in old
    assert "质量状态" in new and "odd fieldA-1" in new  # a name without a word reads as stored
    assert "quality status" not in page.lower()
    auth.post("/auth/language", {"language": "en"})
    old = _row(client.get("/audit/").get_data(as_text=True), "4343")[5]
    assert "Quality status" in old and "Expires2027-01-01T10:00:00+00:00" in old
