"""Eligibility of a cord's donor (the birth mother) under 21 CFR 1271 subpart C.

A cord donor is under a month old, so the mother's specimen stands in for the donor's
(21 CFR 1271.80(b)); it must be collected within 7 days of the recovery. The tests are those of
21 CFR 1271 subpart C for a cord donor: HIV-1/2, HBV, HCV, syphilis, and, because UC-MSC products are
viable cells, HTLV-I/II and CMV (21 CFR 1271.85(a)-(b)); plus a review of the medical records for
risk (1271.75). Every reason that makes a donor ineligible is listed, not only the first, so the
person documenting the determination (1271.50) sees the whole picture at once.

Screening keys and values are shared with integrations (docs/architecture.md, "The JSON API") and are
matched exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cellchain.core.errors import Invalid, Reason
from cellchain.core.words import N_, translated

SCREENING_TESTS: tuple[str, ...] = ("HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV")
"""The site's required donor tests; keys as integrations send them to the JSON API."""

RESULTS: tuple[str, ...] = ("negative", "positive", "indeterminate")
"""The only screening results accepted; anything else is unreadable input, not a result."""

SPECIMEN_WINDOW = timedelta(days=7)
"""21 CFR 1271.80(b): the specimen is collected at recovery or up to 7 days before or after it."""

CMV = "CMV"

# Reason codes, one per rule, so an integration can act on them without parsing sentences.
TEST_MISSING = "donor_test_missing"
TEST_POSITIVE = "donor_test_positive"
TEST_INDETERMINATE = "donor_test_indeterminate"
NO_CONSENT = "donor_no_consent"
SPECIMEN_OUT_OF_WINDOW = "donor_specimen_out_of_window"
MEDICAL_HISTORY_RISK = "donor_medical_history_risk"
NOT_PENDING = "donor_not_pending"
DETERMINATION_PENDING = "donor_determination_pending"

PENDING = "pending"
ELIGIBILITIES = ("pending", "eligible", "ineligible")
MAX_LABORATORY = 120


@dataclass(frozen=True)
class DonorEligibility:
    """The determination and every reason behind an ``ineligible`` answer."""

    eligible: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """Only results still missing stand against the donor: they may arrive after registration."""
        return bool(self.reasons) and all(r.code == TEST_MISSING for r in self.reasons)

    @property
    def answer(self) -> str:
        """``eligible``, ``pending`` (results still to come) or ``ineligible``: the words the JSON API promises."""
        if self.eligible:
            return "eligible"
        return PENDING if self.pending else "ineligible"


def parse_screening(data: Any) -> dict[str, str]:
    """Read a ``{test: result}`` object strictly, naming every bad key and value.

    Keys must be exactly the shared test names and results one of ``RESULTS`` (surrounding
    blanks and letter case of results are forgiven; keys are matched exactly because they are an
    integration contract). A typo must never be read as "test not done" or "negative".
    """
    if not isinstance(data, Mapping):
        raise Invalid({"screening": translated(N_("must be an object of {test: result}"))})
    errors: dict[str, str] = {}
    parsed: dict[str, str] = {}
    for key, value in data.items():
        if key not in SCREENING_TESTS:
            errors[f"screening.{key}"] = translated(N_(
                "unknown test; expected one of {choices}")).format(choices=', '.join(SCREENING_TESTS))
            continue
        word = value.strip().lower() if isinstance(value, str) else None
        if word not in RESULTS:
            errors[f"screening.{key}"] = translated(N_(
                "result {value!r} is not one of {choices}")).format(value=value, choices=', '.join(RESULTS))
            continue
        parsed[key] = word
    if errors:
        raise Invalid(errors, translated(N_("screening has unreadable entries")))
    return parsed


def guard_tests(
    screening: Mapping[str, str], required: Iterable[str], *, cmv_positive_disqualifies: bool
) -> list[Reason]:
    """One reason per required test that is missing, positive or indeterminate (1271.80, 1271.85).

    CMV is special: 21 CFR 1271.85(b) requires CMV testing for viable leukocyte-rich cells but
    does not make a reactive result disqualifying by itself; the site must have a procedure for
    using the result. This site's default (``cmv_positive_disqualifies=True``) treats it like the
    other markers; with ``False`` a positive or indeterminate CMV is accepted, but a missing CMV
    result still refuses, because the site requires the test to be done.
    """
    reasons: list[Reason] = []
    for test in required:
        result = screening.get(test)
        if result is None:
            reasons.append(Reason(TEST_MISSING, test=test))
        elif test == CMV and not cmv_positive_disqualifies:
            continue
        elif result == "positive":
            reasons.append(Reason(TEST_POSITIVE, test=test))
        elif result == "indeterminate":
            reasons.append(Reason(TEST_INDETERMINATE, test=test))
    return reasons


def guard_consent(consent_obtained: bool) -> list[Reason]:
    """No cord is used without the mother's documented consent."""
    if consent_obtained:
        return []
    return [Reason(NO_CONSENT)]


def guard_specimen_window(specimen_collected_at: datetime | None, collected_at: datetime) -> list[Reason]:
    """The specimen must be within 7 days of the cord's recovery (21 CFR 1271.80(b)).

    ``None`` means the specimen time was not given, so the rule cannot be applied here; the
    missing tests (if any) already make the donor ineligible.
    """
    if specimen_collected_at is None:
        return []
    if (specimen_collected_at.tzinfo is None) != (collected_at.tzinfo is None):
        raise Invalid({"specimen_collected_at": translated(N_("give both times with a time zone, or neither"))})
    gap = abs(specimen_collected_at - collected_at)
    if gap <= SPECIMEN_WINDOW:
        return []
    days = gap.total_seconds() / 86400
    return [
        Reason(SPECIMEN_OUT_OF_WINDOW, days=days)
    ]


def guard_medical_history(medical_history_ok: bool) -> list[Reason]:
    """A risk found in the medical records review makes the donor ineligible (21 CFR 1271.75)."""
    if medical_history_ok:
        return []
    return [Reason(MEDICAL_HISTORY_RISK)]


def assess_donor(
    screening: Mapping[str, Any],
    *,
    consent_obtained: bool,
    specimen_collected_at: datetime | None,
    collected_at: datetime,
    medical_history_ok: bool = True,
    required: Iterable[str] = SCREENING_TESTS,
    cmv_positive_disqualifies: bool = True,
) -> DonorEligibility:
    """Decide eligibility and list every reason against it (21 CFR 1271.45-1271.85).

    The screening is re-read with ``parse_screening`` so that an unreadable result raises
    ``Invalid`` instead of silently counting as absent.
    """
    results = parse_screening(screening)
    reasons = [
        *guard_tests(results, required, cmv_positive_disqualifies=cmv_positive_disqualifies),
        *guard_consent(consent_obtained),
        *guard_specimen_window(specimen_collected_at, collected_at),
        *guard_medical_history(medical_history_ok),
    ]
    return DonorEligibility(eligible=not reasons, reasons=reasons)


@dataclass(frozen=True)
class ResultEntry:
    """One maternal screening result as it arrives from the laboratory."""

    test: str
    result: str
    result_date: date
    laboratory: str


def parse_result_entry(data: Mapping[str, Any], *, today: date) -> ResultEntry:
    """Read a late result, naming every bad field at once: the test, its result, the day the laboratory
    reported it (not in the future) and which laboratory."""
    errors: dict[str, str] = {}
    test = data.get("test")
    if test not in SCREENING_TESTS:
        errors["test"] = translated(N_("one of {choices}")).format(choices=', '.join(SCREENING_TESTS))
    raw = data.get("result")
    result = raw.strip().lower() if isinstance(raw, str) else None
    if result not in RESULTS:
        errors["result"] = translated(N_("one of {choices}")).format(choices=', '.join(RESULTS))
    when = data.get("result_date")
    reported: date | None = None
    if isinstance(when, date) and not isinstance(when, datetime):
        reported = when
    elif isinstance(when, str):
        try:
            reported = date.fromisoformat(when.strip())
        except ValueError:
            reported = None
    if reported is None:
        errors["result_date"] = translated(N_("the day the laboratory reported it, YYYY-MM-DD"))
    elif reported > today:
        errors["result_date"] = translated(N_("a result cannot be reported in the future"))
    lab = data.get("laboratory")
    laboratory = lab.strip() if isinstance(lab, str) else ""
    if not laboratory or len(laboratory) > MAX_LABORATORY:
        errors["laboratory"] = translated(N_(
            "name the laboratory that reported it (up to {max_laboratory} characters)")).format(
                max_laboratory=MAX_LABORATORY)
    if errors:
        raise Invalid(errors, translated(N_("the result has invalid fields")))
    return ResultEntry(str(test), str(result), reported, laboratory)  # type: ignore[arg-type]


WORST_FIRST = ("positive", "indeterminate", "negative")


def merged(screening: Mapping[str, str], test: str, result: str) -> dict[str, str]:
    """The cord's screening with a new result of ``test``: a repeat or follow-up test never clears an earlier
    positive or indeterminate one (the worse of the two stands; each result stays on record)."""
    earlier = screening.get(test)
    if earlier is not None and WORST_FIRST.index(earlier) < WORST_FIRST.index(result):
        return dict(screening)
    return {**screening, test: result}


def after_result(eligibility: str, verdict: DonorEligibility) -> str:
    """The cord's eligibility once a result arrives: anything against the donor makes it ineligible; a pending
    cord whose results are now all in stays pending until the investigator signs; an eligible cord stays so."""
    if verdict.answer == "ineligible" or eligibility == "ineligible":
        return "ineligible"
    return eligibility


def guard_determination(eligibility: str, verdict: DonorEligibility) -> list[Reason]:
    """The investigator signs the determination of a pending cord once every required result is in and
    nothing stands against the donor (21 CFR 1271.50): otherwise the reasons say what is still missing."""
    if eligibility != PENDING:
        return [Reason(NOT_PENDING, eligibility=eligibility)]
    return list(verdict.reasons)
