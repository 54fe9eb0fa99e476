"""Alerts: what needs each role's attention now, counted from the records, with a count in the top bar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cellchain.core.types import utcnow
from cellchain.overview import alerts
from cellchain.quality.models import Hold, QcResult
from tests.factories import ward as w
from tests.factories.qc import add_excursion, db_session, make_lot
from tests.factories.queries import counting

COUNT = re.compile(r'data-testid="alerts-count">(\d+)<')


def _alert(page: str, code: str) -> str | None:
    found = re.search(rf'data-alert="{code}"><a href="([^"]+)"><strong>(\d+)</strong>', page)
    return f"{found.group(2)} {found.group(1)}" if found else None


def _hold(session, lot_id: int) -> None:
    qc = w.user(session, "qc")
    result = QcResult(lot_id=lot_id, test_code="sterility", value="positive", within_spec=False,
                      limit_text="negative", unit="", method="USP <71>", spec_version="2026.1", recorded_by=qc.id,
                      sample_stage="final_product", sampled_at=utcnow(), after_release=True)
    session.add(result)
    session.flush()
    session.add(Hold(lot_id=lot_id, qc_result_id=result.id, cause="sterility positive", raised_by=qc.id))
    session.flush()


def test_qa_sees_open_excursions_and_lots_waiting_for_release(app, client, auth):
    with db_session(app) as session:
        lot = make_lot(session)
        add_excursion(session, item_type="collection", item_id=lot.collection_id)
    auth.login("qa")
    page = client.get("/alerts").get_data(as_text=True)
    assert _alert(page, "excursions_open") == "1 /reports/excursions"
    assert _alert(page, "lots_awaiting_release") == "1 /qa/"
    assert COUNT.search(page).group(1) == "2"
    assert client.get("/reports/excursions").status_code == 200


def test_lab_and_nurse_are_warned_of_bags_expiring_within_the_configured_hours(app, client, auth):
    with db_session(app) as session:
        soon = w.bag(session, division="A0", expires_at=datetime.now(UTC) + timedelta(hours=5))
        w.bag(session, division="B0", expires_at=datetime.now(UTC) + timedelta(hours=30))
        w.bag(session, division="C0", expires_at=datetime.now(UTC) - timedelta(hours=1))
        soon_code = soon.bag_code
    for who in ("lab", "nurse"):
        auth.login(who)
        page = client.get("/alerts").get_data(as_text=True)
        assert _alert(page, "bags_expiring") == "1 /alerts", who
        assert soon_code in page.split('data-testid="expiring"')[1]
        assert _alert(page, "bags_expired") == "1 /handover/expired", who
        auth.logout()
    app.config["EXPIRY_ALERT_HOURS"] = 48
    auth.login("lab")
    assert _alert(client.get("/alerts").get_data(as_text=True), "bags_expiring") == "2 /alerts"


def test_coordinator_sees_visits_due_without_a_bag_and_allocated_bags_that_cannot_be_given(app, client, auth):
    with db_session(app) as session:
        due = w.subject(session)
        w.infusion_visit(session, due, days_from_today=3)
        w.infusion_visit(session, due, week=4, days_from_today=20)  # beyond the next 7 days
        held, expiring, fine = w.subject(session), w.subject(session), w.subject(session)
        held_bag = w.bag(session, division="A0")
        _hold(session, held_bag.lot_id)
        w.allocate(session, held_bag, w.infusion_visit(session, held, days_from_today=2), held)
        # not planned: must last to the end of its window (3 days after the target)
        short = w.bag(session, division="B0", expires_at=datetime.now(UTC) + timedelta(hours=30))
        w.allocate(session, short, w.infusion_visit(session, expiring, days_from_today=2), expiring)
        w.allocate(session, w.bag(session, division="C0", expires_at=datetime.now(UTC) + timedelta(days=9)),
                   w.infusion_visit(session, fine, days_from_today=2), fine)
    auth.login("coordinator")
    page = client.get("/alerts").get_data(as_text=True)
    assert _alert(page, "visits_due_without_bag") == "1 /trial/"
    assert _alert(page, "allocated_bags_unusable") == "2 /trial/"


def test_the_unusable_count_agrees_with_the_coordinators_flagged_list(app):
    from cellchain.trial import deallocation

    with db_session(app) as session:
        for days, hours in ((1, 20), (2, 200), (5, 100), (0, 2)):
            person = w.subject(session)
            bag = w.bag(session, division="A0", expires_at=datetime.now(UTC) + timedelta(hours=hours))
            w.allocate(session, bag, w.infusion_visit(session, person, days_from_today=days), person)
        zone, today = w.TZ, w.site_today()
        flagged = deallocation.flagged_visits(session, timezone=str(zone), today=today)
        assert alerts.unusable_allocated(session, today=today, zone=zone) == len(flagged) == 3


def test_an_unplanned_visits_bag_must_last_to_the_end_of_its_windows_last_day_at_the_site(app):
    with db_session(app) as session:
        closes = datetime.combine(w.site_today() + timedelta(days=3 + 1), datetime.min.time(), tzinfo=w.TZ)
        for minutes in (-30, 30):
            person = w.subject(session)
            bag = w.bag(session, division="A0", expires_at=closes + timedelta(minutes=minutes))
            w.allocate(session, bag, w.infusion_visit(session, person), person)
        assert alerts.unusable_allocated(session, today=w.site_today(), zone=w.TZ) == 1


def test_the_top_bar_count_is_a_few_statements_however_many_bags(app, client, auth):
    with db_session(app) as session:
        for n in range(12):
            w.bag(session, division=f"{chr(65 + n)}0", expires_at=datetime.now(UTC) + timedelta(hours=3))
    auth.login("lab")
    with counting(app) as statements:
        page = client.get("/inbox/").get_data(as_text=True)
    assert COUNT.search(page).group(1) == "12"
    assert len([s for s in statements if "FROM bags" in s]) <= 2


def test_people_without_alerts_see_no_count_and_cannot_open_the_page(app, client, auth):
    for who in ("auditor", "admin", "qc", "investigator"):
        auth.login(who)
        assert b'data-testid="alerts-link"' not in client.get("/").data
        assert client.get("/alerts").status_code == 403
        auth.logout()
