"""The layout docs/architecture.md describes, held by reading every module's imports (no app needed).

Layers, bottom to top: the core and identifiers; the areas (each area's models, rules and operations);
the packages that read across areas (scanning, overview, reports); the web layer (every ``views``/``api``
module and the request hooks); the app factory and its commands. Imports point down, never up.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cellchain"
BASE = ("core", "identifiers")
AREAS = ("people", "audit", "notices", "manufacturing", "banking", "quality", "trial", "ward", "labelling", "storage",
         "safety", "materials", "equipment")
ACROSS = ("scanning", "overview", "reports")
PURE_CORE = ("cellchain.core.errors", "cellchain.core.words", "cellchain.core.words.checks",
             "cellchain.core.words.moments",
             "cellchain.core.words.labels", "cellchain.core.words.numbers", "cellchain.core.words.reasons",
             "cellchain.core.words.sentences",
             "cellchain.core.words.entries", "cellchain.core.words.scans", "cellchain.core.words.inputs",
             "cellchain.core.canonical", "cellchain.core.fields", "cellchain.core.timeinput")
WEB_MODULES = ("cellchain.core.web", "cellchain.core.api", "cellchain.core.error_handlers",
               "cellchain.people.security", "cellchain.overview.navigation", "cellchain.overview.openapi")
FRAMEWORKS = ("flask", "werkzeug", "sqlalchemy", "sqlmodel", "flask_smorest", "flask_wtf", "wtforms")


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(path): path for path in PACKAGE.rglob("*.py")}


@cache
def imports(module: str) -> frozenset[str]:
    """Every module this one imports, at the top or inside a function (a late import is still a dependency)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return frozenset(found)


def _internal(module: str) -> set[str]:
    return {name for name in imports(module) if name in MODULES and name != module}


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def _is_web(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module in WEB_MODULES or last in ("views", "api") or last.endswith("_views")


def _is_pure(module: str) -> bool:
    return ".rules." in module or _package(module) == "identifiers" or module in PURE_CORE


def test_rules_import_neither_flask_nor_sqlalchemy_nor_any_module_that_does():
    pure = [module for module in MODULES if _is_pure(module)]
    assert len(pure) >= 15, "the pure-rule modules were not found"
    leaks = {module: sorted(name for name in imports(module)
                            if name.split(".")[0] in FRAMEWORKS or (name in MODULES and not _is_pure(name)))
             for module in pure}
    assert {module: names for module, names in leaks.items() if names} == {}


def test_no_module_imports_itself_through_a_circle():
    graph = {module: _internal(module) for module in MODULES}
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(graph[module]):
            if state.get(name) == "open":
                circles.append([*path[path.index(name):], name] if name in path else [module, name])
            elif name not in state:
                visit(name, [*path, name])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_only_the_web_layer_imports_a_page_or_api_module():
    upward = [f"{module} -> {name}" for module in MODULES if not _is_web(module) and module != "cellchain"
              for name in _internal(module) if _is_web(name)]
    assert upward == []


def test_the_core_and_identifiers_stand_on_no_area():
    upward = [f"{module} -> {name}" for module in MODULES if _package(module) in BASE
              for name in _internal(module) if _package(name) not in BASE]
    assert upward == []


def test_an_area_reads_no_package_that_reads_across_areas_except_its_pages_use_the_scan_resolver():
    upward = [f"{module} -> {name}" for module in MODULES if _package(module) in AREAS
              for name in _internal(module) if _package(name) in (*ACROSS, "demo", "")
              and not (_is_web(module) and _package(name) == "scanning")]
    assert upward == []


def test_no_folder_of_the_package_holds_more_than_15_modules():
    crowded = {str(folder.relative_to(PACKAGE.parent)): count for folder in [PACKAGE, *PACKAGE.rglob("*/")]
               if folder.name != "__pycache__" and (count := len(list(folder.glob("*.py")))) > 15}
    assert crowded == {}
