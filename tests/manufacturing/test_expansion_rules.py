"""Passages, population doublings and the passage limit."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellchain.core.errors import Invalid, Refused
from cellchain.manufacturing.rules.expansion import (
    PassageInput,
    cumulative_doublings,
    guard_next_passage,
    parse_passage,
    population_doublings,
)


def body(**overrides):
    return {
        "number": 0,
        "seeded_cells": 1_000_000,
        "harvested_cells": 8_000_000,
        "viability_pct": 95.5,
        "seeded_at": "2026-03-11T08:00:00+00:00",
        "harvested_at": "2026-03-15T08:00:00+00:00",
        **overrides,
    }


# --- population doublings ---------------------------------------------------------------------


def test_one_million_to_eight_million_is_three_doublings():
    assert population_doublings(1_000_000, 8_000_000) == 3.0


def test_counts_given_as_whole_floats_are_accepted():
    assert population_doublings(1e6, 8e6) == 3.0


def test_equal_seeding_and_harvest_is_zero_doublings():
    assert population_doublings(5_000, 5_000) == 0.0


def test_fractional_doublings():
    assert population_doublings(1_000, 3_000) == pytest.approx(math.log2(3))


def test_harvest_below_seeding_is_invalid():
    with pytest.raises(Invalid) as raised:
        population_doublings(8_000_000, 1_000_000)
    assert "harvested_cells" in raised.value.fields


@pytest.mark.parametrize(
    ("seeded", "harvested", "field"),
    [
        (0, 10, "seeded_cells"),
        (-1, 10, "seeded_cells"),
        (10, 0, "harvested_cells"),
        (10.5, 20, "seeded_cells"),
        (True, 20, "seeded_cells"),
        ("many", 20, "seeded_cells"),
    ],
)
def test_non_positive_or_non_whole_counts_are_invalid(seeded, harvested, field):
    with pytest.raises(Invalid) as raised:
        population_doublings(seeded, harvested)
    assert field in raised.value.fields


def test_cumulative_doublings_are_running_sums():
    passages = [(1_000_000, 8_000_000), (1_000_000, 4_000_000), (2_000_000, 2_000_000), (500, 16_000)]
    assert cumulative_doublings(passages) == [3.0, 5.0, 5.0, 10.0]


def test_cumulative_doublings_accept_passage_inputs():
    first = parse_passage(body())
    second = parse_passage(body(number=1, seeded_cells=2_000_000, harvested_cells=8_000_000))
    assert cumulative_doublings([first, second]) == [3.0, 5.0]


def test_cumulative_doublings_of_no_passages_is_empty():
    assert cumulative_doublings([]) == []


@given(st.integers(1, 10**9), st.integers(0, 20))
def test_doublings_invert_powers_of_two(seeded, doublings):
    assert population_doublings(seeded, seeded * 2**doublings) == pytest.approx(doublings)


# --- passage order and limit ------------------------------------------------------------------


def test_first_passage_is_p0():
    guard_next_passage([], 0)


def test_next_passage_follows_the_highest():
    guard_next_passage([0, 1, 2], 3)


@pytest.mark.parametrize(("existing", "number"), [([], 1), ([0, 1], 1), ([0, 1], 3), ([0], 0)])
def test_passage_out_of_order_is_refused(existing, number):
    with pytest.raises(Refused) as raised:
        guard_next_passage(existing, number)
    assert [r.code for r in raised.value.reasons] == ["passage_out_of_order"]


def test_passage_at_the_limit_is_allowed():
    guard_next_passage([0, 1, 2, 3, 4], 5)


def test_passage_past_the_limit_is_refused():
    with pytest.raises(Refused) as raised:
        guard_next_passage([0, 1, 2, 3, 4, 5], 6)
    assert [r.code for r in raised.value.reasons] == ["passage_limit_exceeded"]


def test_passage_limit_is_configurable():
    guard_next_passage([0, 1, 2, 3, 4, 5], 6, limit=8)
    with pytest.raises(Refused):
        guard_next_passage([0, 1], 2, limit=1)


def test_out_of_order_and_past_limit_are_both_listed():
    with pytest.raises(Refused) as raised:
        guard_next_passage([0], 9)
    assert [r.code for r in raised.value.reasons] == ["passage_out_of_order", "passage_limit_exceeded"]


# --- reading a passage body -------------------------------------------------------------------


def test_parse_passage_reads_a_valid_body():
    passage = PassageInput.from_dict(body())
    assert passage.number == 0
    assert passage.seeded_cells == 1_000_000
    assert passage.viability_pct == 95.5
    assert passage.harvested_at == datetime(2026, 3, 15, 8, tzinfo=UTC)
    assert passage.population_doublings == 3.0


def test_parse_passage_accepts_datetime_objects_and_numeric_strings():
    passage = parse_passage(
        body(seeded_at=datetime(2026, 3, 11), harvested_at=datetime(2026, 3, 12), viability_pct="70")
    )
    assert passage.viability_pct == 70.0


@pytest.mark.parametrize("viability", [-0.1, 100.1, "high", None])
def test_viability_outside_0_to_100_is_invalid(viability):
    with pytest.raises(Invalid) as raised:
        parse_passage(body(viability_pct=viability))
    assert "viability_pct" in raised.value.fields


@pytest.mark.parametrize("viability", [0, 100])
def test_viability_bounds_are_inclusive(viability):
    assert parse_passage(body(viability_pct=viability)).viability_pct == viability


@pytest.mark.parametrize("harvested_at", ["2026-03-11T08:00:00+00:00", "2026-03-10T08:00:00+00:00"])
def test_harvest_not_after_seeding_is_invalid(harvested_at):
    with pytest.raises(Invalid) as raised:
        parse_passage(body(harvested_at=harvested_at))
    assert raised.value.fields == {"harvested_at": "must be after seeded_at"}


def test_mixing_zoned_and_unzoned_times_is_invalid():
    with pytest.raises(Invalid) as raised:
        parse_passage(body(harvested_at="2026-03-15T08:00:00"))
    assert "harvested_at" in raised.value.fields


def test_harvest_below_seeding_in_a_body_is_invalid():
    with pytest.raises(Invalid) as raised:
        parse_passage(body(harvested_cells=10))
    assert "harvested_cells" in raised.value.fields


def test_every_bad_field_is_named_at_once():
    with pytest.raises(Invalid) as raised:
        parse_passage({"number": -1, "seeded_cells": "x", "viability_pct": 200, "seeded_at": "yesterday"})
    assert set(raised.value.fields) == {
        "number",
        "seeded_cells",
        "harvested_cells",
        "viability_pct",
        "seeded_at",
        "harvested_at",
    }


@pytest.mark.parametrize("number", [-1, 1.0, "1", True])
def test_passage_number_must_be_a_non_negative_integer(number):
    with pytest.raises(Invalid) as raised:
        parse_passage(body(number=number))
    assert "number" in raised.value.fields


def test_parse_passage_refuses_non_objects():
    with pytest.raises(Invalid):
        parse_passage([1, 2])
