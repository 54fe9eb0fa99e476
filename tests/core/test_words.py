"""Refusals are a code plus values, worded from one catalogue; numbers and codes are written for people."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from cellchain.core.errors import Reason
from cellchain.core.words import labels, numbers, reasons

PACKAGE = Path(__file__).resolve().parents[2] / "cellchain"


def _raised_reasons() -> list[tuple[str, int, str, set[str], bool]]:
    """(module file, line, catalogue key, values given, whether more values are spread in) per ``Reason(...)``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        module = None
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Reason"):
                continue
            code_node = node.args[0]
            if isinstance(code_node, ast.Constant):
                code = code_node.value
            elif isinstance(code_node, ast.Name | ast.Attribute):
                name = ast.unparse(code_node)
                module = module or importlib.import_module(
                    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
                try:
                    value = module
                    for part in name.split("."):
                        value = getattr(value, part)
                except AttributeError:
                    continue  # a code chosen at run time (a table's, a check's name): checked below by value
                code = value
            else:
                continue
            given = {k.arg for k in node.keywords if k.arg and k.arg != "variant"}
            variant = next((k.value for k in node.keywords if k.arg == "variant"), None)
            variants = [variant.value] if isinstance(variant, ast.Constant) else [""] if variant is None else None
            if variants is None:
                continue
            spread = any(k.arg is None for k in node.keywords)
            for v in variants:
                found.append((str(path.relative_to(PACKAGE.parent)), node.lineno, f"{code}:{v}" if v else code,
                              given, spread))
    return found


def test_every_refusal_raised_has_its_words_in_the_catalogue_with_every_value_it_needs():
    raised = _raised_reasons()
    assert len(raised) > 150
    missing = [(where, line, key) for where, line, key, _, _ in raised if key not in reasons.MESSAGES]
    assert missing == []
    unfilled = [(where, line, key, sorted(reasons.placeholders(reasons.MESSAGES[key]) - given))
                for where, line, key, given, spread in raised
                if not spread and reasons.placeholders(reasons.MESSAGES[key]) - given]
    assert unfilled == []


def test_codes_chosen_at_run_time_have_their_words_too():
    from cellchain.quality.deviations import MOVES
    from cellchain.trial.rules.eligibility import EXCLUSION, INCLUSION
    from cellchain.ward.rules.bedside_checks import CHECK_NAMES
    codes = {code for _, _, code in MOVES.values()} | set(INCLUSION.values()) | set(EXCLUSION.values())
    assert {*codes, *CHECK_NAMES} - set(reasons.MESSAGES) == set()


def test_the_catalogue_holds_literal_templates_a_translator_can_read():
    for key, template in reasons.MESSAGES.items():
        assert isinstance(template, str) and template.strip(), key
        assert all(name.isidentifier() for name in reasons.placeholders(template)), key


def test_no_message_template_shows_a_raw_code_between_its_values():
    import re
    coded = {key: template for key, template in reasons.MESSAGES.items()
             if re.search(r"\b[a-z]+_[a-z_]+\b", re.sub(r"\{[^}]*\}", "", template))}
    assert coded == {}


def test_a_reason_is_worded_from_the_catalogue_not_where_it_was_raised(monkeypatch):
    reason = Reason("lot_decided", lot_number="L-1", status="awaiting_release")
    assert reason.message == "lot L-1 is already awaiting release"
    assert reason.as_dict() == {"code": "lot_decided", "message": "lot L-1 is already awaiting release",
                                "params": {"lot_number": "L-1", "status": "awaiting_release"}}
    monkeypatch.setitem(reasons.MESSAGES, "lot_decided", "Charge {lot_number}: déjà {status}")
    assert reason.message == "Charge L-1: déjà awaiting release"


def test_a_reason_without_its_words_or_a_value_fails_where_it_is_raised():
    with pytest.raises(KeyError):
        Reason("no_such_code")
    with pytest.raises(KeyError):
        Reason("lot_decided", lot_number="L-1")


@pytest.mark.parametrize(("code", "words"), [
    ("at_lab", "at the lab"), ("ucmsc", "UC-MSC"), ("released", "released"),
    ("received_at_ward", "received on the ward"), ("hla_dr", "HLA-DR"), ("qa", "QA reviewer"),
    ("awaiting_release", "awaiting release"), ("some_new_code", "some new code"),
])
def test_a_person_reads_words_for_every_code(code, words):
    assert labels.label(code) == words


def test_a_placebo_bags_release_check_is_not_called_released_by_qa():
    assert labels.check_label("released", "ucmsc") == "Released by QA"
    assert labels.check_label("right_subject") == "Right subject"
    assert "QA" not in labels.check_label("released", "placebo")


def test_cell_counts_plurals_and_volumes_read_as_people_write_them():
    assert numbers.cells(3.5e8) == "350,000,000" and numbers.cells(None) == ""
    assert [numbers.count(n, "bag") for n in (0, 1, 2)] == ["0 bags", "1 bag", "2 bags"]
    assert numbers.volume(50.0) == "50 ml"


def test_time_inputs_show_and_take_the_site_time_as_pages_write_it(app, client, auth, monkeypatch):
    auth.login("lab")
    page = client.get("/lab/collections/new").get_data(as_text=True)
    assert 'type="datetime-local"' not in page and 'type="date"' not in page
    assert 'placeholder="YYYY-MM-DD HH:MM"' in page
    from datetime import UTC, datetime

    from cellchain.core.page_forms import PageForm, SiteDateTimeField

    class _When(PageForm):
        at = SiteDateTimeField("At")

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    with app.test_request_context(method="POST", data={"at": "2026-11-20 09:30"}):
        form = _When()
        assert form.validate()
        assert form.at.data.astimezone(UTC) == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # Asia/Shanghai
    with app.test_request_context():
        shown = _When(at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC))
        assert 'value="2026-11-20 09:30"' in shown.at() and 'placeholder="YYYY-MM-DD HH:MM"' in shown.at()


def test_cell_counts_are_also_written_with_their_power_of_ten():
    assert numbers.scientific(350_000_000) == "3.5 x 10^8" and numbers.scientific(70_350_000) == "7.04 x 10^7"
    assert numbers.scientific(1e8) == "1 x 10^8" and numbers.scientific(None) == ""
    assert numbers.cells_and_power(350_000_000) == "350,000,000 (3.5 x 10^8)" and numbers.cells_and_power(None) == ""
