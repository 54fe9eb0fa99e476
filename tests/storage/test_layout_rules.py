"""Storage codes, positions and unit ranges as plain rules (docs/rules.md, "Storage"), without an app."""

from __future__ import annotations

import pytest

from cellchain.core.errors import Invalid
from cellchain.storage.rules import layout


@pytest.mark.parametrize(("typed", "expected"), [("B3", (2, 3)), ("b03", (2, 3)), (" A1 ", (1, 1)), ("I9", (9, 9))])
def test_a_position_is_a_row_letter_and_a_column_number(typed, expected):
    assert layout.parse_position(typed, 9, 9) == expected


@pytest.mark.parametrize("typed", ["", "3B", "B", "B0", "BB3", "B-3", None, 3])
def test_an_unreadable_position_is_refused_with_an_example(typed):
    with pytest.raises(Invalid) as raised:
        layout.parse_position(typed, 9, 9)
    assert "e.g. B3" in raised.value.fields["position"]


def test_a_position_outside_the_box_names_the_boxs_rows_and_columns():
    with pytest.raises(Invalid) as raised:
        layout.parse_position("D1", 3, 4)
    assert raised.value.fields["position"] == "the box has rows A-C and columns 1-4"


def test_a_position_code_names_its_box_and_reads_back():
    code = layout.position_code("BX-0001", 2, 10)
    assert code == "BX-0001-B10"
    assert layout.split_position_code(code) == ("BX-0001", "B10")
    assert layout.split_position_code("BX-0001") is None


@pytest.mark.parametrize("code", ["", "-A", "TANK ONE", "A" * 17, "tänk"])
def test_codes_keep_to_what_a_local_data_structure_carries(code):
    with pytest.raises(Invalid):
        layout.check_code(code, "code")


def test_a_code_is_upper_cased():
    assert layout.check_code(" ln2-01 ", "code") == "LN2-01"


def test_a_units_range_defaults_to_its_kinds_and_must_run_upwards():
    assert layout.unit_range("refrigerator", None, None) == (2.0, 8.0)
    assert layout.unit_range("freezer_minus80", "-85", -65) == (-85.0, -65.0)
    with pytest.raises(Invalid) as raised:
        layout.unit_range("room", 25, 15)
    assert list(raised.value.fields) == ["high_c"]
    with pytest.raises(Invalid) as raised:
        layout.unit_range("fridge", None, None)
    assert list(raised.value.fields) == ["kind"]


@pytest.mark.parametrize(("rows", "columns", "bad"), [(0, 9, {"rows"}), (27, 9, {"rows"}), (9, "x", {"columns"}),
                                                      (True, 9, {"rows"}), (9.5, 9, {"rows"})])
def test_a_box_has_1_to_26_rows_and_columns(rows, columns, bad):
    with pytest.raises(Invalid) as raised:
        layout.box_size(rows, columns)
    assert set(raised.value.fields) == bad


def test_only_vials_and_bags_are_kept_in_positions():
    assert layout.check_storable("vial") == "vial"
    with pytest.raises(Invalid):
        layout.check_storable("collection")
