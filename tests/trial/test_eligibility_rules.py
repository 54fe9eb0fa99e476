"""Subject screening (NCT01690247 inclusion and exclusion criteria): plain rules, no app."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from cellchain.core.errors import Invalid
from cellchain.trial.rules.eligibility import (
    EXCLUSION,
    INCLUSION,
    SubjectAnswers,
    age_on,
    assess_subject,
    parse_answers,
)

DAY0 = date(2026, 6, 15)

ELIGIBLE = SubjectAnswers(
    birth_date=date(1980, 5, 1),
    day0=DAY0,
    sex="female",
    meets_transplant_criteria=True,
    first_transplant=True,
    liver_only=True,
    consent_signed=True,
    willing_to_comply=True,
    pregnancy_test="negative",
    prior_other_organ_transplant=False,
    vital_organ_failure=False,
    investigational_drug_within_30_days=False,
    on_immunosuppressant=False,
    active_infection=False,
    pregnant_or_lactating=False,
)

ELIGIBLE_JSON = {
    "screening_number": "S-001",
    "weight_kg": 70.5,
    "birth_date": "1980-05-01",
    "day0": "2026-06-15",
    "sex": "female",
    "meets_transplant_criteria": True,
    "first_transplant": True,
    "liver_only": True,
    "consent_signed": True,
    "willing_to_comply": True,
    "pregnancy_test": "negative",
    "prior_other_organ_transplant": False,
    "vital_organ_failure": False,
    "investigational_drug_within_30_days": False,
    "on_immunosuppressant": False,
    "active_infection": False,
    "pregnant_or_lactating": False,
}


def codes(answers: SubjectAnswers, **limits: int) -> list[str]:
    return [r.code for r in assess_subject(answers, **limits).reasons]


def test_a_subject_meeting_every_criterion_is_eligible_with_no_reasons():
    result = assess_subject(ELIGIBLE)
    assert result.eligible is True
    assert result.reasons == []


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("meets_transplant_criteria", "transplant_criteria_not_met"),
        ("first_transplant", "not_first_transplant"),
        ("liver_only", "not_liver_only"),
        ("consent_signed", "consent_missing"),
        ("willing_to_comply", "unwilling_to_comply"),
    ],
)
def test_each_inclusion_criterion_alone_makes_a_subject_ineligible(field, code):
    result = assess_subject(replace(ELIGIBLE, **{field: False}))
    assert result.eligible is False
    assert [r.code for r in result.reasons] == [code]
    assert result.reasons[0].message


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("prior_other_organ_transplant", "prior_other_organ_transplant"),
        ("vital_organ_failure", "vital_organ_failure"),
        ("investigational_drug_within_30_days", "recent_investigational_drug"),
        ("on_immunosuppressant", "on_immunosuppressant"),
        ("active_infection", "active_infection"),
        ("pregnant_or_lactating", "pregnant_or_lactating"),
    ],
)
def test_each_exclusion_criterion_alone_makes_a_subject_ineligible(field, code):
    result = assess_subject(replace(ELIGIBLE, **{field: True}))
    assert result.eligible is False
    assert [r.code for r in result.reasons] == [code]


def test_the_criterion_tables_cover_every_boolean_answer_the_api_names():
    assert set(INCLUSION) | set(EXCLUSION) == {
        "meets_transplant_criteria", "first_transplant", "liver_only", "consent_signed",
        "willing_to_comply", "prior_other_organ_transplant", "vital_organ_failure",
        "investigational_drug_within_30_days", "on_immunosuppressant", "active_infection",
        "pregnant_or_lactating",
    }


def test_every_failing_criterion_is_listed_not_only_the_first():
    everything_wrong = replace(
        ELIGIBLE,
        birth_date=date(2010, 1, 1),
        pregnancy_test="positive",
        **{name: False for name in INCLUSION},
        **{name: True for name in EXCLUSION},
    )
    assert codes(everything_wrong) == [
        "age_out_of_range",
        "transplant_criteria_not_met", "not_first_transplant", "not_liver_only", "consent_missing",
        "unwilling_to_comply", "pregnancy_test_positive",
        "prior_other_organ_transplant", "vital_organ_failure", "recent_investigational_drug",
        "on_immunosuppressant", "active_infection", "pregnant_or_lactating",
    ]


def test_a_woman_with_a_positive_pregnancy_test_is_ineligible():
    assert codes(replace(ELIGIBLE, pregnancy_test="positive")) == ["pregnancy_test_positive"]


def test_a_woman_without_a_recorded_pregnancy_test_is_ineligible_until_it_is_done():
    assert codes(replace(ELIGIBLE, pregnancy_test=None)) == ["pregnancy_test_missing"]


def test_a_woman_not_of_child_bearing_potential_may_have_the_test_marked_not_applicable():
    assert assess_subject(replace(ELIGIBLE, pregnancy_test="not_applicable")).eligible


@pytest.mark.parametrize("result", ["negative", "positive", "not_applicable", None])
def test_a_mans_pregnancy_test_answer_does_not_matter(result):
    assert assess_subject(replace(ELIGIBLE, sex="male", pregnancy_test=result)).eligible


@pytest.mark.parametrize(
    ("birth_date", "eligible"),
    [
        (date(2008, 6, 15), True),  # 18th birthday on day 0
        (date(2008, 6, 16), False),  # 18 tomorrow: still 17
        (date(1956, 6, 15), True),  # 70th birthday on day 0
        (date(1955, 6, 16), True),  # 71 tomorrow: still 70
        (date(1955, 6, 15), False),  # 71st birthday on day 0
    ],
)
def test_age_limits_18_and_70_are_inclusive_in_whole_years_at_day0(birth_date, eligible):
    result = assess_subject(replace(ELIGIBLE, birth_date=birth_date))
    assert result.eligible is eligible
    if not eligible:
        assert [r.code for r in result.reasons] == ["age_out_of_range"]


@pytest.mark.parametrize(
    ("day0", "age"),
    [
        (date(2026, 2, 28), 17),  # common year: the birthday has not come yet
        (date(2026, 3, 1), 18),  # ... and counts from 1 March
        (date(2028, 2, 28), 19),
        (date(2028, 2, 29), 20),  # leap year: the birthday itself
    ],
)
def test_a_29_february_birthday_counts_from_1_march_in_common_years(day0, age):
    assert age_on(date(2008, 2, 29), day0) == age


def test_someone_born_on_29_february_becomes_eligible_on_1_march_of_a_common_year():
    leapling = replace(ELIGIBLE, birth_date=date(2008, 2, 29))
    assert codes(replace(leapling, day0=date(2026, 2, 28))) == ["age_out_of_range"]
    assert assess_subject(replace(leapling, day0=date(2026, 3, 1))).eligible


def test_age_limits_are_configuration():
    sixty_five = replace(ELIGIBLE, birth_date=date(1961, 1, 1))
    assert codes(sixty_five, max_age=64) == ["age_out_of_range"]
    assert codes(sixty_five, min_age=65, max_age=65) == []


def test_the_age_reason_states_the_age_and_the_limits():
    (reason,) = assess_subject(replace(ELIGIBLE, birth_date=date(2010, 1, 1))).reasons
    assert "16" in reason.message and "18-70" in reason.message


def test_parsing_api_answers_gives_the_same_answers_and_ignores_extra_fields():
    assert parse_answers(ELIGIBLE_JSON) == ELIGIBLE


def test_parsing_accepts_date_objects_as_well_as_iso_text():
    data = {**ELIGIBLE_JSON, "birth_date": date(1980, 5, 1), "day0": DAY0}
    assert parse_answers(data) == ELIGIBLE


def test_parsing_treats_an_absent_or_null_pregnancy_test_as_not_recorded():
    without = {k: v for k, v in ELIGIBLE_JSON.items() if k != "pregnancy_test"}
    assert parse_answers(without).pregnancy_test is None
    assert parse_answers({**ELIGIBLE_JSON, "pregnancy_test": None}).pregnancy_test is None


@pytest.mark.parametrize("value", ["true", "false", "yes", 1, 0, None])
def test_a_boolean_answer_that_is_not_a_real_boolean_is_refused_by_name(value):
    with pytest.raises(Invalid) as caught:
        parse_answers({**ELIGIBLE_JSON, "consent_signed": value})
    assert set(caught.value.fields) == {"consent_signed"}


def test_every_missing_answer_is_named_at_once():
    with pytest.raises(Invalid) as caught:
        parse_answers({"sex": "male"})
    assert set(caught.value.fields) == {"birth_date", "day0", *INCLUSION, *EXCLUSION}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "F"),
        ("sex", "other"),
        ("pregnancy_test", "neg"),
        ("pregnancy_test", False),
        ("birth_date", "1980-02-30"),
        ("birth_date", "01/05/1980"),
        ("birth_date", "19800501"),
        ("birth_date", 19800501),
        ("day0", datetime(2026, 6, 15, 9, 30)),
    ],
)
def test_a_malformed_answer_is_refused_naming_its_field(field, value):
    with pytest.raises(Invalid) as caught:
        parse_answers({**ELIGIBLE_JSON, field: value})
    assert set(caught.value.fields) == {field}


def test_a_birth_date_after_day0_is_refused_as_bad_input():
    with pytest.raises(Invalid) as caught:
        parse_answers({**ELIGIBLE_JSON, "birth_date": "2026-06-16"})
    assert set(caught.value.fields) == {"birth_date"}
