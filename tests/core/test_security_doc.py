"""docs/security.md's tables name the tests that show each requirement; every test they name exists, and every
requirement row names at least one, so the tables cannot go stale."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
REQUIREMENTS_HEADER = "| requirement | how cellchain meets it | tests |"
# `tests/a/b.py::test_x`, `::test_y` (in the file named last before it in the table), or a bare `test_z`
NAMED = re.compile(r"`(tests/[\w/]+\.py)?(::)?(test_\w+)?`")


@cache
def names_in(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"))


@cache
def all_test_names() -> frozenset[str]:
    return frozenset().union(*(names_in(path) for path in (ROOT / "tests").rglob("test_*.py")))


def tables(text: str) -> list[tuple[str, list[str]]]:
    """Each table of the document: its header line and its rows (the separator left out)."""
    found: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        starts = line.startswith("|") and (number == 0 or not lines[number - 1].startswith("|"))
        if starts:
            found.append((line.strip(), []))
        elif line.startswith("|") and not re.fullmatch(r"\|( *-+ *\|)+", line.strip()):
            found[-1][1].append(line)
    return found


def named_tests(rows: list[str]) -> list[tuple[str, str | None, str]]:
    """(row, file or None, test name) for every test named in a table's rows."""
    named, last_file = [], None
    for row in rows:
        for path, continued, name in NAMED.findall(row):
            last_file = path or last_file
            if name:
                named.append((row, (path or last_file) if (path or continued) else None, name))
            elif path:
                named.append((row, path, ""))
    return named


def test_every_test_the_security_tables_name_exists():
    missing = []
    for header, rows in tables(DOC.read_text(encoding="utf-8")):
        if "test" not in header:  # a table of something else (the regulated tables' columns)
            continue
        for row, path, name in named_tests(rows):
            if path is not None and not (ROOT / path).is_file():
                missing.append(f"{path} (no such file): {row[:80]}")
            elif path is not None and name and name not in names_in(ROOT / path):
                missing.append(f"{path}::{name}")
            elif path is None and name not in all_test_names():
                missing.append(name)
    assert missing == []


def test_every_requirement_row_names_a_test():
    requirement_tables = [rows for header, rows in tables(DOC.read_text(encoding="utf-8"))
                          if header == REQUIREMENTS_HEADER]
    assert len(requirement_tables) == 2  # OWASP ASVS level 2, 21 CFR Part 11
    asvs, part11 = requirement_tables
    for rows in requirement_tables:
        without = [row[:80] for row in rows if not any(name for _row, _path, name in named_tests([row]))]
        assert without == []
    ids = [row.split("|")[1].strip() for row in part11]
    for clause in "abcdefghijk":
        assert any(f"§11.10({clause})" in i for i in ids), clause
    for section in ("§11.50", "§11.70", "§11.200", "§11.300"):
        assert any(section in i for i in ids), section
    for chapter in ("V2.", "V3.", "V4.", "V5.", "V7.", "V8.", "V13."):
        assert any(row.split("|")[1].strip().startswith(chapter) for row in asvs), chapter


def test_a_misnamed_test_in_a_table_would_be_found():
    rows = ["| x | y | `tests/core/test_security_doc.py::test_every_test_the_security_tables_name_exists`, "
            "`::test_no_such_test` |"]
    [(_, first_path, first), (_, second_path, second)] = named_tests(rows)
    assert first in names_in(ROOT / first_path)
    assert second_path == first_path and second not in names_in(ROOT / second_path)
