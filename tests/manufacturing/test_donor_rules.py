"""Donor (birth mother) eligibility for a cord: 21 CFR 1271 subpart C (docs/rules.md, "Manufacturing")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.core.errors import Invalid
from cellchain.manufacturing.rules.donor import SCREENING_TESTS, DonorEligibility, assess_donor, parse_screening

COLLECTED = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ALL_NEGATIVE = dict.fromkeys(SCREENING_TESTS, "negative")


def assess(screening=None, **overrides) -> DonorEligibility:
    kwargs = {
        "consent_obtained": True,
        "specimen_collected_at": COLLECTED - timedelta(days=1),
        "collected_at": COLLECTED,
        **overrides,
    }
    return assess_donor(ALL_NEGATIVE if screening is None else screening, **kwargs)


def codes(result: DonorEligibility) -> list[str]:
    return [r.code for r in result.reasons]


def test_all_negative_with_consent_in_window_is_eligible():
    result = assess()
    assert result.eligible is True
    assert result.reasons == []
    assert result.answer == "eligible"


def test_screening_keys_are_the_shared_integration_names():
    assert SCREENING_TESTS == ("HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV")


@pytest.mark.parametrize("test", SCREENING_TESTS)
def test_each_missing_test_leaves_the_donor_pending(test):
    screening = {k: v for k, v in ALL_NEGATIVE.items() if k != test}
    result = assess(screening)
    assert result.eligible is False
    assert result.answer == "pending"
    assert codes(result) == ["donor_test_missing"]
    assert test in result.reasons[0].message


@pytest.mark.parametrize("test", SCREENING_TESTS)
def test_each_positive_test_makes_donor_ineligible(test):
    result = assess({**ALL_NEGATIVE, test: "positive"})
    assert codes(result) == ["donor_test_positive"]
    assert test in result.reasons[0].message


@pytest.mark.parametrize("test", SCREENING_TESTS)
def test_each_indeterminate_test_makes_donor_ineligible(test):
    result = assess({**ALL_NEGATIVE, test: "indeterminate"})
    assert codes(result) == ["donor_test_indeterminate"]


def test_no_screening_at_all_lists_every_test_as_missing():
    result = assess({})
    assert codes(result) == ["donor_test_missing"] * 6


def test_cmv_positive_disqualifies_by_default():
    assert codes(assess({**ALL_NEGATIVE, "CMV": "positive"})) == ["donor_test_positive"]


def test_cmv_positive_accepted_when_site_chooses_so():
    result = assess({**ALL_NEGATIVE, "CMV": "positive"}, cmv_positive_disqualifies=False)
    assert result.eligible is True
    result = assess({**ALL_NEGATIVE, "CMV": "indeterminate"}, cmv_positive_disqualifies=False)
    assert result.eligible is True


def test_cmv_must_still_be_tested_when_positive_is_accepted():
    screening = {k: v for k, v in ALL_NEGATIVE.items() if k != "CMV"}
    result = assess(screening, cmv_positive_disqualifies=False)
    assert codes(result) == ["donor_test_missing"]


def test_cmv_setting_does_not_relax_other_markers():
    result = assess({**ALL_NEGATIVE, "HIV-1/2": "positive"}, cmv_positive_disqualifies=False)
    assert codes(result) == ["donor_test_positive"]


def test_required_tests_can_be_configured():
    screening = {"HIV-1/2": "negative", "HBV": "negative"}
    assert assess(screening, required=("HIV-1/2", "HBV")).eligible is True


def test_no_consent_makes_donor_ineligible():
    assert codes(assess(consent_obtained=False)) == ["donor_no_consent"]


@pytest.mark.parametrize("offset", [timedelta(days=7), timedelta(days=-7), timedelta(0)])
def test_specimen_within_seven_days_either_side_is_accepted(offset):
    assert assess(specimen_collected_at=COLLECTED + offset).eligible is True


@pytest.mark.parametrize("offset", [timedelta(days=7, seconds=1), timedelta(days=-7, seconds=-1)])
def test_specimen_outside_seven_days_makes_donor_ineligible(offset):
    result = assess(specimen_collected_at=COLLECTED + offset)
    assert codes(result) == ["donor_specimen_out_of_window"]


def test_unknown_specimen_time_is_not_itself_a_reason():
    assert assess(specimen_collected_at=None).eligible is True


def test_specimen_time_without_zone_against_zoned_collection_is_invalid():
    with pytest.raises(Invalid) as raised:
        assess(specimen_collected_at=datetime(2026, 3, 9, 9, 30))
    assert "specimen_collected_at" in raised.value.fields


def test_medical_history_risk_makes_donor_ineligible():
    assert codes(assess(medical_history_ok=False)) == ["donor_medical_history_risk"]


def test_every_reason_is_listed_not_only_the_first():
    screening = {**ALL_NEGATIVE, "HBV": "positive", "HCV": "indeterminate"}
    del screening["CMV"]
    result = assess(
        screening,
        consent_obtained=False,
        specimen_collected_at=COLLECTED - timedelta(days=30),
        medical_history_ok=False,
    )
    assert sorted(codes(result)) == sorted(
        [
            "donor_test_positive",
            "donor_test_indeterminate",
            "donor_test_missing",
            "donor_no_consent",
            "donor_specimen_out_of_window",
            "donor_medical_history_risk",
        ]
    )


def test_parse_screening_normalizes_result_words():
    assert parse_screening({"HBV": " Negative ", "CMV": "POSITIVE"}) == {"HBV": "negative", "CMV": "positive"}


def test_parse_screening_names_every_bad_key_and_value():
    with pytest.raises(Invalid) as raised:
        parse_screening({"HIV": "negative", "HBV": "reactive", "HCV": 0, "CMV": "negative"})
    assert set(raised.value.fields) == {"screening.HIV", "screening.HBV", "screening.HCV"}


def test_parse_screening_keys_are_exact():
    with pytest.raises(Invalid) as raised:
        parse_screening({"hiv-1/2": "negative"})
    assert "screening.hiv-1/2" in raised.value.fields


@pytest.mark.parametrize("data", [None, [], "HBV=negative"])
def test_parse_screening_refuses_non_objects(data):
    with pytest.raises(Invalid) as raised:
        parse_screening(data)
    assert "screening" in raised.value.fields


def test_assess_refuses_unreadable_results_instead_of_counting_them_missing():
    with pytest.raises(Invalid):
        assess({**ALL_NEGATIVE, "HBV": "neg"})
