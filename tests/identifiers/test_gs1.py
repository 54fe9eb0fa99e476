"""GS1 element strings as suppliers print them (GS1 General Specifications' examples), read by the one scan
parser: GTIN (01) with its check digit, lot (10), expiry (17) with day 00, serial (21), FNC1/GS separators."""

from __future__ import annotations

from datetime import date

import pytest

from cellchain.core.errors import Invalid
from cellchain.identifiers import gs1
from cellchain.identifiers.scans import parse_scan

GS = "\x1d"
GTIN = "09501101530003"  # the GS1 General Specifications' example GTIN


def test_the_example_gtin_carries_its_check_digit_and_a_changed_digit_is_refused():
    assert gs1.gtin_check_digit(GTIN[:13]) == 3 and gs1.gtin_is_valid(GTIN)
    with pytest.raises(Invalid, match="check digit"):
        gs1.parse("]C10109501101530004")


def test_gs1_128_with_the_variable_lot_last_needs_no_separator():
    read = gs1.parse("]C1" + "01" + GTIN + "17140704" + "10AB-123")
    assert (read.gtin, read.expiry, read.lot) == (GTIN, date(2014, 7, 4), "AB-123")
    assert [e.ai for e in read.elements] == ["01", "17", "10"]


def test_a_variable_lot_followed_by_the_expiry_ends_with_fnc1():
    read = gs1.parse("]d2" + "01" + GTIN + "10AB-123" + GS + "17140704" + "21SN0042")
    assert (read.lot, read.expiry, read.fields["serial"]) == ("AB-123", date(2014, 7, 4), "SN0042")


def test_a_variable_lot_run_on_into_the_expiry_without_a_separator_is_refused_not_guessed():
    with pytest.raises(Invalid, match=r"\(10\) ABC12317261231 runs on into what reads as \(17\)"):
        gs1.parse("]C1" + "01" + GTIN + "10ABC12317261231")


def test_day_00_of_an_expiry_is_the_last_day_of_that_month():
    assert gs1.parse("01" + GTIN + "17260200").expiry == date(2026, 2, 28)
    assert gs1.parse("01" + GTIN + "17280200").expiry == date(2028, 2, 29)
    with pytest.raises(Invalid, match=r"\(17\) 261331 is not a date"):
        gs1.parse("01" + GTIN + "17261331")


def test_a_keyboard_wedge_scanner_types_the_configured_substitute_for_gs():
    read = gs1.parse("]C1" + "01" + GTIN + "10HEP-26-11|17261130", substitute="|")
    assert (read.lot, read.expiry) == ("HEP-26-11", date(2026, 11, 30))
    without = "]C1" + "01" + GTIN + "10HEP-26-11|17261130"
    with pytest.raises(Invalid):
        gs1.parse(without)  # without the setting "|" is not GS, and not a character GS1 allows


def test_the_human_readable_form_with_brackets_reads_the_same():
    read = gs1.parse("(01)" + GTIN + "(10)AB-123(17)140704")
    assert (read.gtin, read.lot, read.expiry) == (GTIN, "AB-123", date(2014, 7, 4))


def test_an_unknown_ai_a_short_fixed_field_and_a_repeated_ai_are_refused():
    with pytest.raises(Invalid, match="no application identifier"):
        gs1.parse("]C1" + "01" + GTIN + "8888")
    with pytest.raises(Invalid, match=r"\(17\) needs 6"):
        gs1.parse("]C1" + "01" + GTIN + "171407")
    with pytest.raises(Invalid, match="Lot number given twice"):
        gs1.parse("]C1" + "10A" + GS + "10B")


def test_the_scan_parser_reads_gs1_as_it_reads_isbt_128():
    scan = parse_scan("]d2" + "01" + GTIN + "17261130" + "10HEP2611A" + GS + "21S1\r\n")
    assert scan.kind == "gs1"
    assert scan.fields == {"gtin": GTIN, "expiry": date(2026, 11, 30), "lot": "HEP2611A", "serial": "S1"}
    assert parse_scan("=A99992612345600", ).kind == "din"  # ISBT 128 still reads as before
    assert parse_scan("0109501101530003~10L1", gs_substitute="~").fields["lot"] == "L1"


def test_an_encoded_string_reads_back():
    text = gs1.encode({"01": GTIN, "10": "LOT-7", "17": "270131", "21": "X9"})
    assert gs1.parse(text).fields == {"gtin": GTIN, "lot": "LOT-7", "expiry": date(2027, 1, 31), "serial": "X9"}
