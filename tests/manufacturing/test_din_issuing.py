"""DINs are issued per facility and year without gaps or repeats, also when requests race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cellchain.core import db
from cellchain.identifiers import isbt128
from cellchain.manufacturing.din import issue_din

SITE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _issue(app, when=NOW, *, commit: bool = True) -> str:
    with app.app_context():
        din = issue_din(db.session(), fin="A9999", when=when, tz=SITE)
        if commit:
            db.commit()
        else:
            db.rollback()
    return din


def test_dins_count_up_with_a_valid_check_character(app):
    first, second = _issue(app), _issue(app)
    assert (first, second) == ("A999926000001", "A999926000002")
    assert isbt128.parse_keyed_din(second + isbt128.check_character(second)).text == second


def test_a_refused_request_leaves_no_gap(app):
    assert _issue(app, commit=False) == "A999926000001"
    assert _issue(app) == "A999926000001"
    assert _issue(app) == "A999926000002"


def test_each_year_in_the_site_zone_starts_its_own_sequence(app):
    assert _issue(app) == "A999926000001"
    new_year_in_beijing = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 01:00 on 1 January 2027 there
    assert _issue(app, new_year_in_beijing) == "A999927000001"
    assert _issue(app) == "A999926000002"


def test_racing_requests_get_distinct_consecutive_dins(app):
    issued: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            din = _issue(app)
            with lock:
                issued.append(din)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == [isbt128.format_din("A9999", 26, n) for n in range(1, 41)]
