"""The pure safety rules: the 24-hour SAE clock, an assessment that contradicts itself, what a confirmation
needs, and the summary by arm."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cellchain.core.errors import Invalid
from cellchain.safety.rules import assessment, clock
from cellchain.safety.rules.summary import Counted, by_arm

AWARE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_a_serious_event_is_due_within_24_hours_of_awareness_and_overdue_one_minute_after():
    assert clock.due_at(AWARE) == AWARE + timedelta(hours=24)
    assert clock.state(aware_at=AWARE, sent_at=None, now=AWARE + timedelta(hours=24)) == "due"
    assert clock.state(aware_at=AWARE, sent_at=None, now=AWARE + timedelta(hours=24, minutes=1)) == "overdue"
    assert clock.state(aware_at=AWARE, sent_at=AWARE + timedelta(hours=6), now=NOW) == "sent"
    assert clock.state(aware_at=AWARE, sent_at=AWARE + timedelta(hours=30), now=NOW) == "sent_late"
    assert clock.describe(clock.left(aware_at=AWARE, now=AWARE + timedelta(hours=26))) == "overdue by 2 h 00 min"
    assert clock.describe(clock.left(aware_at=AWARE, now=AWARE + timedelta(hours=1))) == "due in 23 h 00 min"


def _read(**values):
    return assessment.read({"term": "fever", "category": "infection", **values}, now=NOW)


def test_every_unreadable_field_is_named_at_once():
    with pytest.raises(Invalid) as refused:
        assessment.read({"term": "", "category": "rash", "grade": 6, "seriousness": ["bad"], "causality": "maybe",
                         "onset_on": "20/11/2026", "aware_at": "2026-11-20T08:00"}, now=NOW)
    assert set(refused.value.fields) == {"term", "category", "grade", "seriousness", "causality", "onset_on",
                                         "aware_at"}


def test_grade_5_without_a_fatal_outcome_and_the_death_criterion_is_refused_by_name():
    codes = [r.code for r in assessment.conflicts(_read(grade=5, outcome="recovering"), now=NOW,
                                                  site_today=NOW.date())]
    assert codes == ["fatal_event_inconsistent"]
    fatal = _read(grade=5, outcome="fatal", seriousness=["death"], onset_on="2026-11-19")
    assert assessment.conflicts(fatal, now=NOW, site_today=NOW.date()) == []
    assert fatal.serious


def test_a_resolved_outcome_needs_its_date_and_the_date_cannot_precede_onset():
    def codes(**values):
        return [r.code for r in assessment.conflicts(_read(**values), now=NOW, site_today=NOW.date())]

    assert codes(outcome="recovered", onset_on="2026-11-10") == ["resolution_outcome_mismatch"]
    assert codes(outcome="recovered", onset_on="2026-11-10", resolved_on="2026-11-09") == ["resolution_before_onset"]
    assert codes(outcome="not_recovered", onset_on="2026-11-10", resolved_on="2026-11-12") == [
        "resolution_outcome_mismatch"]
    assert codes(onset_on="2026-12-01") == ["onset_in_future"]
    assert codes(onset_on="2026-11-10", resolved_on="2026-12-01", outcome="recovered") == ["resolution_in_future"]
    assert codes(aware_at="2026-11-26T08:00:00Z") == ["awareness_in_future"]


def test_acute_rejection_is_of_special_interest_and_needs_biopsy_and_treatment_before_confirmation():
    draft = _read(category="acute_rejection", grade=3, onset_on="2026-11-19", causality="unlikely",
                  expectedness="expected", action_taken="not_changed", outcome="recovering")
    assert draft.special_interest
    assert assessment.missing_for_confirmation(draft) == ["biopsy_proven", "rejection_treatment"]
    proven = assessment.read({"biopsy_proven": False, "rejection_treatment": "none"}, base=draft, now=NOW)
    assert assessment.missing_for_confirmation(proven) == []


def test_the_summary_counts_each_arm_by_grade_seriousness_and_relatedness():
    arms = by_arm([Counted("A", 1, 3, True, "possible", True), Counted("A", 1, 1, False, "unlikely", False),
                   Counted("B", 2, 2, False, "probable", False)])
    a, b = arms
    assert (a.arm, a.events, a.subjects_with_event, a.serious, a.related, a.special_interest) == ("A", 2, 1, 1, 1, 1)
    assert a.grade_map == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0}
    assert (b.events, b.related, b.causality_map["probable"]) == (1, 1, 1)


def test_an_awareness_before_the_first_utc_day_is_named_not_a_crash():
    with pytest.raises(Invalid) as refused:
        assessment.read({"term": "fever", "category": "other", "aware_at": "0001-01-01T00:00:00+14:00"}, now=NOW)
    assert set(refused.value.fields) == {"aware_at"}


def test_dates_are_read_only_as_iso_dates():
    assert _read(onset_on="2026-11-19").onset_on == date(2026, 11, 19)
