"""The pure rules of instrument fitness: scans of an instrument label or a plain code, and whether an
instrument was fit at a moment from its service history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.core.errors import Invalid
from cellchain.equipment.rules import validity

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _history(*periods: validity.Period, outages=(), required=("calibration",), findings=()) -> validity.History:
    return validity.History("CF-01", frozenset(required), validity.voided(periods, findings), tuple(outages))


def test_an_instrument_label_and_a_keyed_code_name_the_same_instrument():
    assert validity.scanned_codes(["&gCF-01", "cf-01 ", "BSC-02"], letter="g") == ("CF-01", "BSC-02")
    assert validity.scanned_codes("&gCF-01\nBSC-02\n", letter=None) == ("CF-01", "BSC-02")
    assert validity.scanned_codes(None, letter="e") == ()


def test_a_box_label_or_junk_is_not_an_instrument():
    with pytest.raises(Invalid) as box:
        validity.scanned_codes(["&bBX-0001"], letter="e")
    assert "instruments" in box.value.fields
    with pytest.raises(Invalid):
        validity.scanned_codes(["=A99992600000100"], letter="e")
    with pytest.raises(Invalid):
        validity.scanned_codes([f"I-{n}" for n in range(21)], letter="e")


def test_a_calibration_covers_until_the_end_of_its_due_date_and_not_after():
    history = _history(validity.Period("calibration", None, T0))
    assert validity.problems_at(history, T0) == []
    [late] = validity.problems_at(history, T0 + timedelta(seconds=1))
    assert (late.code, late.variant) == (validity.OVERDUE, "calibration")


def test_an_instrument_not_kept_under_maintenance_is_never_overdue_for_it():
    history = _history(validity.Period("calibration", None, T0 + timedelta(days=30)))
    assert validity.problems_at(history, T0) == []


def test_an_out_of_service_span_refuses_inside_it_and_not_after_the_return():
    outage = validity.OutOfService(T0, T0 + timedelta(hours=5), "rotor")
    history = _history(validity.Period("calibration", None, T0 + timedelta(days=30)), outages=[outage])
    assert [p.code for p in validity.problems_at(history, T0 + timedelta(hours=1))] == [validity.OUT_OF_SERVICE]
    assert validity.problems_at(history, T0 + timedelta(hours=5)) == []
    assert validity.problems_at(history, T0 - timedelta(seconds=1)) == []


def test_an_out_of_tolerance_finding_voids_the_period_before_it_but_not_the_new_calibration():
    finding = T0 + timedelta(days=10)
    history = _history(validity.Period("calibration", None, T0 + timedelta(days=30)),
                       validity.Period("calibration", finding, T0 + timedelta(days=200)), findings=[finding])
    [before] = validity.problems_at(history, T0)
    assert before.variant == "out_of_tolerance"
    assert validity.problems_at(history, finding + timedelta(hours=1)) == []
