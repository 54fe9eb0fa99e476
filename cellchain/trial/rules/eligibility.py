"""Subject screening against the protocol's inclusion and exclusion criteria (NCT01690247).

The verdict lists *every* failing criterion with a stable code, not just the first: the
investigator must see all that stands in the way, and the record must show why a subject was
screened out (each refusal carries a named reason; docs/rules.md lists them).

Decisions made here, each for a stated reason:

- Age is counted in whole years at ``day0``, 18 and 70 both inclusive ("between the ages of 18 and
  70 years"): a subject stays 70 until the day before the 71st birthday.
- A person born on 29 February turns a year older on 1 March in common years (the day after
  28 February), the reading used for legal majority in many jurisdictions; it falls out of comparing
  (month, day) pairs, so no special case is needed.
- Pregnancy test: the protocol asks for a negative test from "female patients in fertile age". There is
  no separate child-bearing-potential field in the API, so for a woman ``not_applicable`` is the
  investigator's documented statement that she is not of child-bearing potential and is accepted;
  ``positive`` excludes; a result not yet recorded (``None``) is reported as ``pregnancy_test_missing``
  rather than refused as bad input, because a test still to be done is a screening fact, not a
  malformed request. For men any value, or none, is accepted.
- The protocol's last exclusion ("judged not applicable by investigators") is a human decision that
  the investigator records by not enrolling; it has no field in the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cellchain.core.errors import Invalid, Reason
from cellchain.core.words import N_, translated

SEXES = ("female", "male")
PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")

# Inclusion answers that must be True: field -> the reason's code when False (its words:
# cellchain/core/words/reasons.py).
INCLUSION = {
    "meets_transplant_criteria": "transplant_criteria_not_met",
    "first_transplant": "not_first_transplant",
    "liver_only": "not_liver_only",
    "consent_signed": "consent_missing",
    "willing_to_comply": "unwilling_to_comply",
}

# Exclusion answers that must be False: field -> the reason's code when True.
EXCLUSION = {
    "prior_other_organ_transplant": "prior_other_organ_transplant",
    "vital_organ_failure": "vital_organ_failure",
    "investigational_drug_within_30_days": "recent_investigational_drug",
    "on_immunosuppressant": "on_immunosuppressant",
    "active_infection": "active_infection",
    "pregnant_or_lactating": "pregnant_or_lactating",
}

BOOL_FIELDS = (*INCLUSION, *EXCLUSION)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SubjectAnswers:
    """A subject's screening answers, named as the JSON API names them (integrations rely on them)."""

    birth_date: date
    day0: date
    sex: str
    meets_transplant_criteria: bool
    first_transplant: bool
    liver_only: bool
    consent_signed: bool
    willing_to_comply: bool
    pregnancy_test: str | None
    prior_other_organ_transplant: bool
    vital_organ_failure: bool
    investigational_drug_within_30_days: bool
    on_immunosuppressant: bool
    active_infection: bool
    pregnant_or_lactating: bool


@dataclass(frozen=True)
class EligibilityResult:
    """The verdict and every reason against it; ``eligible`` is True exactly when there are none."""

    eligible: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on ``day``; a 29 February birthday counts from 1 March in common years."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def assess_subject(answers: SubjectAnswers, *, min_age: int = 18, max_age: int = 70) -> EligibilityResult:
    """Apply every inclusion and exclusion criterion of the protocol and list all that fail.

    Age limits are parameters because the protocol's numbers are site configuration (``SUBJECT_MIN_AGE``,
    ``SUBJECT_MAX_AGE``).
    """
    reasons: list[Reason] = []
    age = age_on(answers.birth_date, answers.day0)
    if not min_age <= age <= max_age:
        reasons.append(
            Reason("age_out_of_range", age=age, min_age=min_age, max_age=max_age)
        )
    for name, code in INCLUSION.items():
        if not getattr(answers, name):
            reasons.append(Reason(code))
    pregnancy = _pregnancy_reason(answers.sex, answers.pregnancy_test)
    if pregnancy is not None:
        reasons.append(pregnancy)
    for name, code in EXCLUSION.items():
        if getattr(answers, name):
            reasons.append(Reason(code))
    return EligibilityResult(eligible=not reasons, reasons=reasons)


def _pregnancy_reason(sex: str, result: str | None) -> Reason | None:
    """Inclusion: negative pregnancy test for women of child-bearing potential (see module notes)."""
    if sex != "female":
        return None
    if result == "positive":
        return Reason("pregnancy_test_positive")
    if result is None:
        return Reason("pregnancy_test_missing")
    return None


def parse_answers(data: dict[str, Any]) -> SubjectAnswers:
    """Turn submitted JSON-like data into answers, or raise ``Invalid`` naming every bad field.

    Booleans must be real booleans: ``"false"`` is truthy in Python, and a screening answer read the
    wrong way round would enrol the wrong patient. Extra keys (screening_number, weight_kg) are
    ignored: the JSON API accepts extra fields.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("birth_date", "day0"):
        values[name] = _take(errors, name, data, _parse_date)
    values["sex"] = _take(errors, "sex", data, lambda v: _parse_choice(v, SEXES))
    for name in BOOL_FIELDS:
        values[name] = _take(errors, name, data, _parse_bool)
    values["pregnancy_test"] = _parse_pregnancy(errors, data.get("pregnancy_test"))
    if not errors and values["birth_date"] > values["day0"]:
        errors["birth_date"] = translated(N_("is after day0"))
    if errors:
        raise Invalid(errors)
    return SubjectAnswers(**values)


def _take(errors: dict[str, str], name: str, data: dict[str, Any], parse: Callable[[Any], Any]) -> Any:
    if data.get(name) is None:
        errors[name] = translated(N_("is required"))
        return None
    try:
        return parse(data[name])
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _parse_pregnancy(errors: dict[str, str], value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _parse_choice(value, PREGNANCY_RESULTS)
    except ValueError as exc:
        errors["pregnancy_test"] = str(exc)
        return None


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError(translated(N_("must be a date without a time")))
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(translated(N_("{value!r} is not a real date")).format(value=value)) from None
    raise ValueError(translated(N_("must be an ISO date, YYYY-MM-DD")))


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(translated(N_("must be true or false (a JSON boolean, not a string or number)")))


def _parse_choice(value: Any, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise ValueError(translated(N_("must be one of {choices}")).format(choices=', '.join(choices)))
