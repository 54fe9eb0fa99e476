"""The words a coordinator reads for an allocated bag that can no longer be given, one reason per cause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from cellchain.trial.rules import allocated_bag
from cellchain.trial.rules.allocated_bag import InDateUntil

PLANNED = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
BEIJING = ZoneInfo("Asia/Shanghai")
UNTIL = InDateUntil(PLANNED, 4, PLANNED.astimezone(BEIJING), date(2026, 12, 10))


def reasons(**changes) -> list[str]:
    facts = {"bag_code": "BAG-1", "custody_state": "in_storage", "quality_status": "released",
             "expires_at": PLANNED + timedelta(hours=10), "must_last_until": UNTIL, "hold_messages": ()}
    return [r.code for r in allocated_bag.problems(**{**facts, **changes})]


def test_a_fit_allocated_bag_raises_no_flag():
    assert reasons() == []


def test_a_discarded_or_rejected_allocated_bag_is_flagged():
    assert reasons(custody_state="discarded") == [allocated_bag.BAG_DISCARDED]
    assert reasons(quality_status="rejected") == [allocated_bag.BAG_REJECTED]


def test_a_bag_expiring_before_the_planned_infusion_is_flagged_in_words():
    found = allocated_bag.problems(bag_code="BAG-1", custody_state="at_ward", quality_status="released",
                                   expires_at=PLANNED - timedelta(minutes=1), must_last_until=UNTIL)
    assert [r.code for r in found] == [allocated_bag.BAG_EXPIRES]
    assert found[0].message == "BAG-1 expires before the week 4 infusion planned for 2026-12-07 09:00 UTC+08:00"
    assert found[0].as_dict()["params"] == {"bag_code": "BAG-1", "week": 4, "planned_at": "2026-12-07T09:00:00+08:00"}
    assert reasons(expires_at=PLANNED) == []  # in date at the planned minute is still in date


def test_a_bag_expiring_before_an_unplanned_visits_window_closes_names_the_windows_last_day():
    closes = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # midnight after 2026-12-10 in Beijing
    found = allocated_bag.problems(bag_code="BAG-1", custody_state="at_ward", quality_status="released",
                                   expires_at=closes - timedelta(hours=1),
                                   must_last_until=InDateUntil(closes, 4, None, date(2026, 12, 10)))
    assert found[0].message == "BAG-1 expires before the week 4 window closes at the end of 2026-12-10"
    assert found[0].as_dict()["params"] == {"bag_code": "BAG-1", "week": 4, "window_end": "2026-12-10"}


def test_each_hold_on_the_bags_lot_is_a_flag_of_its_own():
    assert reasons(hold_messages=("lot L1 is on hold (hold 3)",)) == [allocated_bag.BAG_ON_HOLD]
