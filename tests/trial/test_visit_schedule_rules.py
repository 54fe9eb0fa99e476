"""The visit schedule (protocol NCT01690247): infusions weeks 0-12, follow-up to week 48."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cellchain.core.errors import Invalid
from cellchain.trial.rules.schedule import PlannedVisit, in_window, plan_visits, timing_of, visit_status

DAY0 = date(2026, 3, 2)


def test_a_known_day0_gives_the_protocols_visits_with_their_dates_and_windows():
    got = [(v.week, v.kind, v.target_date, v.window_start, v.window_end) for v in plan_visits(DAY0)]
    assert got == [
        (0, "infusion", date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 5)),
        (4, "infusion", date(2026, 3, 30), date(2026, 3, 27), date(2026, 4, 2)),
        (4, "follow_up", date(2026, 3, 30), date(2026, 3, 23), date(2026, 4, 6)),
        (8, "infusion", date(2026, 4, 27), date(2026, 4, 24), date(2026, 4, 30)),
        (8, "follow_up", date(2026, 4, 27), date(2026, 4, 20), date(2026, 5, 4)),
        (12, "infusion", date(2026, 5, 25), date(2026, 5, 22), date(2026, 5, 28)),
        (12, "follow_up", date(2026, 5, 25), date(2026, 5, 18), date(2026, 6, 1)),
        (24, "follow_up", date(2026, 8, 17), date(2026, 8, 10), date(2026, 8, 24)),
        (36, "follow_up", date(2026, 11, 9), date(2026, 11, 2), date(2026, 11, 16)),
        (48, "follow_up", date(2027, 2, 1), date(2027, 1, 25), date(2027, 2, 8)),
    ]


def test_no_window_opens_before_day0():
    assert all(v.window_start >= DAY0 for v in plan_visits(DAY0, follow_up_weeks=(0, 1)))


def test_on_a_shared_week_the_infusion_comes_before_the_follow_up():
    kinds = [v.kind for v in plan_visits(DAY0) if v.week == 4]
    assert kinds == ["infusion", "follow_up"]


def test_weeks_and_windows_are_configuration():
    visits = plan_visits(DAY0, infusion_weeks=(0, 2), follow_up_weeks=(6,), infusion_window_days=1,
                         follow_up_window_days=0)
    assert [(v.week, v.kind) for v in visits] == [(0, "infusion"), (2, "infusion"), (6, "follow_up")]
    assert visits[1].window_start == DAY0 + timedelta(days=13)
    assert visits[2].window_start == visits[2].window_end == DAY0 + timedelta(weeks=6)


WEEK4 = PlannedVisit(4, "infusion", date(2026, 3, 30), date(2026, 3, 27), date(2026, 4, 2))


@pytest.mark.parametrize(
    ("day", "inside", "timing"),
    [
        (date(2026, 3, 26), False, "early"),
        (date(2026, 3, 27), True, "in_window"),
        (date(2026, 3, 30), True, "in_window"),
        (date(2026, 4, 2), True, "in_window"),
        (date(2026, 4, 3), False, "late"),
    ],
)
def test_a_window_includes_both_ends_and_days_outside_are_early_or_late(day, inside, timing):
    assert in_window(WEEK4, day) is inside
    assert timing_of(WEEK4, day) == timing


@pytest.mark.parametrize(
    ("today", "done", "status"),
    [
        (date(2026, 3, 1), False, "planned"),
        (date(2026, 4, 2), False, "planned"),  # last day of the window: still possible
        (date(2026, 4, 3), False, "missed"),
        (date(2026, 4, 3), True, "done"),
        (date(2026, 3, 28), True, "done"),
    ],
)
def test_a_visit_is_planned_until_its_window_closes_then_missed_unless_done(today, done, status):
    assert visit_status(WEEK4, today=today, done=done) == status


@pytest.mark.parametrize(
    "kwargs",
    [
        {"infusion_weeks": (0, -4)},
        {"infusion_weeks": (0, 4, 4)},
        {"follow_up_weeks": (4.0,)},
        {"infusion_window_days": -1},
        {"follow_up_window_days": True},
    ],
)
def test_a_schedule_with_negative_repeated_or_fractional_numbers_is_refused(kwargs):
    with pytest.raises(Invalid):
        plan_visits(DAY0, **kwargs)


def test_a_date_time_is_refused_so_the_caller_chooses_the_sites_local_date():
    with pytest.raises(Invalid):
        plan_visits(datetime(2026, 3, 2, 23, 30))
    with pytest.raises(Invalid):
        visit_status(WEEK4, today=datetime(2026, 4, 3, 0, 1), done=False)
