"""The UC-MSC release specification (docs/rules.md, "Quality: QC results") and the software's judging of each result."""

from __future__ import annotations

import json

import pytest

from cellchain.core.errors import Invalid
from cellchain.quality.rules.spec_limits import (
    DEFAULT_SPEC,
    Limit,
    Specification,
    SpecTest,
    judge,
    release_gaps,
    spec_from_dict,
    spec_to_dict,
)

REQUIRED = (
    "cd73",
    "cd90",
    "cd105",
    "cd34",
    "cd45",
    "cd14",
    "cd19",
    "hla_dr",
    "viability",
    "sterility",
    "mycoplasma",
    "endotoxin",
    "karyotype",
    "cell_count",
)


def judged(code, value):
    return judge(DEFAULT_SPEC.find(code), value)


def test_default_spec_is_version_ucmsc_1_with_the_standards_table():
    assert DEFAULT_SPEC.version == "UCMSC-1"
    assert tuple(t.code for t in DEFAULT_SPEC.tests if t.required) == REQUIRED
    optional = {t.code for t in DEFAULT_SPEC.tests if not t.required}
    assert optional == {"plastic_adherence", "trilineage"}


# --- every limit boundary ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["cd73", "cd90", "cd105"])
@pytest.mark.parametrize(
    ("value", "ok"), [(95, True), ("95.0", True), (94.99, False), (100, True), (0, False)]
)
def test_identity_markers_need_at_least_95_percent(code, value, ok):
    assert judged(code, value).within_spec is ok


@pytest.mark.parametrize("code", ["cd34", "cd45", "cd14", "cd19", "hla_dr"])
@pytest.mark.parametrize(("value", "ok"), [(2, True), ("2.0", True), (2.01, False), (0, True), (100, False)])
def test_purity_markers_allow_at_most_2_percent(code, value, ok):
    assert judged(code, value).within_spec is ok


@pytest.mark.parametrize(("value", "ok"), [(70, True), (69.99, False), (100, True)])
def test_viability_needs_at_least_70_percent(value, ok):
    assert judged("viability", value).within_spec is ok


@pytest.mark.parametrize(("value", "ok"), [(5, True), ("5", True), (5.001, False), (0, True)])
def test_endotoxin_allows_at_most_5_eu_per_kg(value, ok):
    result = judged("endotoxin", value)
    assert result.within_spec is ok
    assert DEFAULT_SPEC.find("endotoxin").unit == "EU/kg"


@pytest.mark.parametrize(
    ("value", "ok"), [(90, True), (89.99, False), (110, True), (110.01, False), (100, True)]
)
def test_cell_count_must_be_within_10_percent_of_labelled_total(value, ok):
    assert judged("cell_count", value).within_spec is ok


@pytest.mark.parametrize(
    ("code", "passing", "failing"),
    [
        ("sterility", "negative", "positive"),
        ("mycoplasma", "negative", "positive"),
        ("karyotype", "normal", "abnormal"),
        ("plastic_adherence", "positive", "negative"),
        ("trilineage", "positive", "negative"),
    ],
)
def test_qualitative_tests_pass_only_on_their_expected_word(code, passing, failing):
    assert judged(code, passing).within_spec is True
    assert judged(code, passing.upper()).normalized_value == passing
    assert judged(code, failing).within_spec is False


# --- strict reading of values -----------------------------------------------------------------


def test_numeric_values_are_normalized_to_float():
    result = judged("cd73", " 97.5 ")
    assert result.normalized_value == 97.5
    assert "within specification" in result.message


def test_out_of_spec_message_says_so_and_gives_the_limit():
    message = judged("viability", 50).message
    assert "OUT OF SPECIFICATION" in message
    assert ">= 70 %" in message


@pytest.mark.parametrize(
    "value", ["95%", "ninety", "", " ", "1_000", "nan", "inf", "1e400", True, None, [95], float("nan")]
)
def test_non_numbers_for_numeric_tests_are_invalid(value):
    with pytest.raises(Invalid) as raised:
        judged("cd73", value)
    assert "value" in raised.value.fields


@pytest.mark.parametrize(
    ("code", "value"), [("cd73", 100.5), ("cd34", -1), ("viability", 101), ("endotoxin", -0.1)]
)
def test_physically_impossible_values_are_invalid(code, value):
    with pytest.raises(Invalid) as raised:
        judged(code, value)
    assert "value" in raised.value.fields


@pytest.mark.parametrize("value", ["no growth", "neg", 0, None, "normal"])
def test_words_outside_the_allowed_set_are_invalid_for_sterility(value):
    with pytest.raises(Invalid) as raised:
        judged("sterility", value)
    assert "value" in raised.value.fields


def test_unknown_test_code_is_invalid():
    with pytest.raises(Invalid) as raised:
        DEFAULT_SPEC.find("cd200")
    assert "test" in raised.value.fields


# --- limits and specifications as data --------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "between"},
        {"kind": "min"},
        {"kind": "max", "high": float("inf")},
        {"kind": "range", "low": 5, "high": 1},
        {"kind": "equals", "expected": "negative", "allowed": ("positive",)},
        {"kind": "min", "low": True},
    ],
)
def test_malformed_limits_are_refused(kwargs):
    with pytest.raises(Invalid):
        Limit(**kwargs)


def test_duplicate_test_codes_are_refused():
    test = SpecTest("x", "X", "m", "%", Limit.at_least(1))
    with pytest.raises(Invalid):
        Specification("V1", (test, test))


def test_spec_round_trips_through_json():
    stored = json.dumps(spec_to_dict(DEFAULT_SPEC))
    assert spec_from_dict(json.loads(stored)) == DEFAULT_SPEC


def test_a_new_spec_version_can_be_stored_with_a_changed_limit():
    data = spec_to_dict(DEFAULT_SPEC)
    data["version"] = "UCMSC-2"
    data["tests"][0]["limit"]["low"] = 90
    spec = spec_from_dict(data)
    assert spec.version == "UCMSC-2"
    assert judge(spec.find("cd73"), 91).within_spec is True
    assert judge(DEFAULT_SPEC.find("cd73"), 91).within_spec is False


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(version=""), "version"),
        (lambda d: d.update(tests=[]), "tests"),
        (lambda d: d["tests"][1].update(code=""), "tests[1].code"),
        (lambda d: d["tests"][2].update(required="yes"), "tests[2].required"),
        (lambda d: d["tests"][3]["limit"].update(kind="atleast"), "tests[3].limit"),
        (lambda d: d["tests"][0].update(bounds=[0]), "tests[0].bounds"),
    ],
)
def test_spec_from_dict_names_the_bad_field(mutate, field):
    data = spec_to_dict(DEFAULT_SPEC)
    mutate(data)
    with pytest.raises(Invalid) as raised:
        spec_from_dict(data)
    assert field in raised.value.fields


def test_spec_from_dict_refuses_non_objects():
    with pytest.raises(Invalid):
        spec_from_dict([])


# --- release gaps ------------------------------------------------------------------------------


def all_pass():
    return dict.fromkeys(REQUIRED, True)


def test_no_gaps_when_every_required_test_passed():
    assert release_gaps(DEFAULT_SPEC, all_pass(), set()) == []


@pytest.mark.parametrize("code", REQUIRED)
def test_each_missing_required_test_blocks_release(code):
    results = all_pass()
    del results[code]
    gaps = release_gaps(DEFAULT_SPEC, results, set())
    assert [g.code for g in gaps] == ["qc_missing"]
    assert gaps[0].params["test"] == code  # the test's code is a value; its message names the test in words


@pytest.mark.parametrize("code", REQUIRED)
def test_each_out_of_spec_required_test_blocks_release(code):
    gaps = release_gaps(DEFAULT_SPEC, {**all_pass(), code: False}, set())
    assert [g.code for g in gaps] == ["qc_out_of_spec"]
    assert gaps[0].params["test"] == code


def test_out_of_spec_with_accepted_deviation_does_not_block_release():
    assert release_gaps(DEFAULT_SPEC, {**all_pass(), "viability": False}, {"viability"}) == []


def test_accepted_deviation_does_not_stand_in_for_a_missing_result():
    results = all_pass()
    del results["sterility"]
    assert [g.code for g in release_gaps(DEFAULT_SPEC, results, {"sterility"})] == ["qc_missing"]


def test_optional_characterization_tests_never_block_release():
    results = {**all_pass(), "trilineage": False}
    assert release_gaps(DEFAULT_SPEC, results, set()) == []


def test_every_gap_is_listed():
    gaps = release_gaps(DEFAULT_SPEC, {"cd73": False}, set())
    assert len(gaps) == len(REQUIRED)
    assert gaps[0].code == "qc_out_of_spec"
