"""Dose rules (protocol NCT01690247): 1 x 10^6 cells/kg within +/-10%, placebo 50 ml saline."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellchain.core.errors import Invalid
from cellchain.trial.rules.dosing import check_dose, check_placebo_volume, required_cells, validate_weight


@pytest.mark.parametrize(
    ("weight", "per_kg", "cells"),
    [(70, 1e6, 70_000_000), (70.0, 1e6, 70_000_000), (70.3, 1e6, 70_300_000), (55.5, 2e6, 111_000_000)],
)
def test_the_required_dose_is_cells_per_kg_times_weight(weight, per_kg, cells):
    assert required_cells(weight, per_kg) == cells


@pytest.mark.parametrize("total", [63_000_000, 6.3e7, 70_000_000, 77_000_000, 7.7e7])
def test_a_bag_exactly_at_minus_or_plus_10_percent_is_accepted(total):
    check = check_dose(total, 70.0)
    assert check.ok is True and check.reason is None
    assert (check.required, check.low, check.high) == (70_000_000, 63_000_000, 77_000_000)


@pytest.mark.parametrize("total", [62_999_999, 77_000_001])
def test_a_bag_one_cell_outside_10_percent_is_refused_with_a_named_reason(total):
    check = check_dose(total, 70.0)
    assert check.ok is False
    assert check.reason is not None and check.reason.code == "dose_out_of_tolerance"
    assert "6.3000000e7 to 7.7000000e7" in check.reason.message


def test_the_refusal_states_the_numbers_in_scientific_notation():
    check = check_dose(5e7, 70.0)
    assert check.reason is not None
    assert check.reason.message.startswith("bag holds 5.0e7 cells; 70.0 kg needs 7.0e7 ± 10%")
    assert "-28.6%" in check.reason.message


def test_the_deviation_is_reported_in_percent_of_the_required_dose():
    assert check_dose(77_000_000, 70).deviation_pct == pytest.approx(10.0)
    assert check_dose(63_000_000, 70).deviation_pct == pytest.approx(-10.0)
    assert check_dose(70_000_000, 70).deviation_pct == 0.0


def test_dose_per_kg_and_tolerance_are_configuration():
    assert check_dose(70_000_000, 70, tolerance=0.05).ok
    assert not check_dose(66_000_000, 70, tolerance=0.05).ok
    assert check_dose(66_500_000, 70, tolerance=0.05).ok
    assert check_dose(140_000_000, 70, cells_per_kg=2e6).ok


@given(
    weight=st.integers(min_value=200, max_value=3000).map(lambda w: w / 10),
    offset=st.integers(min_value=-20_000_000, max_value=20_000_000),
)
def test_a_dose_is_accepted_exactly_when_it_is_within_10_percent(weight, offset):
    required = required_cells(weight)
    total = required + offset
    if total <= 0:
        return
    within = abs(Fraction(total - required)) <= Fraction(required) / 10
    assert check_dose(total, weight).ok is within


@pytest.mark.parametrize("weight", [20, 20.0, 70.5, 300])
def test_a_plausible_adult_weight_is_accepted(weight):
    assert validate_weight(weight) == float(weight)


@pytest.mark.parametrize(
    "weight", [0, -70, 19.9, 300.1, 700, "70", None, True, float("nan"), float("inf")]
)
def test_an_absent_or_absurd_weight_is_refused_naming_weight_kg(weight):
    with pytest.raises(Invalid) as caught:
        validate_weight(weight)
    assert set(caught.value.fields) == {"weight_kg"}


def test_the_plausible_weight_range_is_configuration():
    assert validate_weight(15, min_kg=10) == 15.0
    with pytest.raises(Invalid):
        validate_weight(250, max_kg=200)


@pytest.mark.parametrize(("total", "weight"), [(0, 70), (-1, 70), (7e7, 0), (7e7, -70), ("7e7", 70)])
def test_a_non_positive_or_non_numeric_count_or_weight_is_refused(total, weight):
    with pytest.raises(Invalid):
        check_dose(total, weight)


@pytest.mark.parametrize(
    ("volume", "ok"), [(50, True), (45, True), (55.0, True), (44.9, False), (55.1, False)]
)
def test_a_placebo_bag_must_hold_50_ml_within_5_ml(volume, ok):
    reason = check_placebo_volume(volume)
    assert (reason is None) is ok
    if not ok:
        assert reason.code == "placebo_volume_out_of_tolerance"
        assert "50 ml" in reason.message
