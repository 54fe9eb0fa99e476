"""The home page shows each role its own panels, with real data, a bounded number of SQL statements,
and small server-drawn SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from cellchain.audit import trail
from cellchain.audit.models import Signature
from cellchain.core import db
from cellchain.core.config import DEFAULTS
from cellchain.core.types import utcnow
from cellchain.manufacturing.models import Lot, Passage
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS
from cellchain.overview import charts, dashboards
from cellchain.quality import qc, release, release_gaps
from cellchain.quality.models import Deviation
from cellchain.trial import visits
from cellchain.ward.models import BedsideCheck, Infusion
from tests.factories import lab as lab_rows
from tests.factories import qc as qc_rows
from tests.factories import ward as ward_rows
from tests.factories.qc import db_session

SVG = "{http://www.w3.org/2000/svg}"
ZONE = DEFAULTS["SITE_TIMEZONE"]


def _after(page: str, marker: str, end: str) -> str:
    """The markup from ``marker`` to the first ``end`` after it ('' if the marker is absent)."""
    start = page.find(marker)
    return "" if start < 0 else page[start:page.index(end, start)]


def _part(page: str, testid: str, end: str = "</section>") -> str:
    """The element with this ``data-testid`` (up to the first ``end``: panels are sections, lists uls)."""
    return _after(page, f'data-testid="{testid}"', end)


def _home(client, auth, username: str) -> str:
    auth.login(username)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _deviation(session, lot: Lot, number: str, status: str = "open") -> Deviation:
    row = Deviation(number=number, lot_id=lot.id, kind="procedural", description="Label reconciliation gap",
                    status=status)
    session.add(row)
    session.flush()
    return row


# --- lab ------------------------------------------------------------------------------------------------

def test_lab_technician_sees_lots_in_process_passages_due_cords_waiting_and_quarantined_bags(app, client, auth):
    with lab_rows.in_db(app) as session:
        overdue = lab_rows.make_lot(session, passages=[(1_000_000, 8_000_000)])  # harvested ~18 days ago
        recent = lab_rows.make_collection(session, collected_at=lab_rows.days_ago(3))
        fresh = lab_rows.make_lot(session, collection=recent, passages=[(1_000_000, 8_000_000)])  # ~18 h ago
        waiting = lab_rows.make_collection(session)
        filled = lab_rows.formulated_lot(session, status="awaiting_release")
        bag = lab_rows.make_bag(session, filled, "A0")
        overdue_number, fresh_number = overdue.lot_number, fresh.lot_number
        waiting_din, bag_code = waiting.din, bag.bag_code
    page = _home(client, auth, "lab")
    panel = _part(page, "panel-lab")
    assert f'data-lot="{overdue_number}" data-passage-due="yes"' in panel
    assert f'data-lot="{fresh_number}" data-passage-due="no"' in panel
    assert "Passage due" in panel and "Last passage <strong>P0</strong>" in panel
    assert f'src="/lab/lots/{overdue_number}/growth.svg"' in panel
    assert f'href="/lab/collections/{waiting_din}"' in _part(panel, "lab-awaiting-lot", "</ul>")
    assert f'href="/lab/bags/{bag_code}"' in _part(panel, "lab-quarantine", "</ul>")
    assert 'href="/lab/"' in panel
    growth = client.get(f"/lab/lots/{overdue_number}/growth.svg")
    assert growth.status_code == 200 and growth.mimetype == "image/svg+xml"
    ET.fromstring(growth.data)


def test_passage_interval_comes_from_configuration(app, client, auth):
    with lab_rows.in_db(app) as session:
        number = lab_rows.make_lot(session, passages=[(1_000_000, 8_000_000)]).lot_number
    app.config["PASSAGE_INTERVAL_DAYS"] = 60
    panel = _part(_home(client, auth, "lab"), "panel-lab")
    assert f'data-lot="{number}" data-passage-due="no"' in panel


def test_next_passage_is_expected_until_the_harvest_or_the_passage_limit():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    lot = Lot(lot_number="X", din="X", collection_id=1, spec_version="UCMSC-1", created_by=1, created_at=start)
    last = Passage(lot_id=1, number=2, seeded_cells=1, harvested_cells=2, viability_pct=90, seeded_at=start,
                   harvested_at=start + timedelta(days=4), population_doublings=1, cumulative_doublings=3,
                   recorded_by=1)
    assert dashboards.next_passage_by(lot, None, interval_days=3, limit=5) == start + timedelta(days=3)
    assert dashboards.next_passage_by(lot, last, interval_days=3, limit=5) == start + timedelta(days=7)
    assert dashboards.next_passage_by(lot, last, interval_days=3, limit=2) is None
    lot.harvested_cells = 10**8
    assert dashboards.next_passage_by(lot, last, interval_days=3, limit=5) is None


def _count_statements(app, client) -> int:
    engine = app.extensions[db.EXTENSION]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_lab_home_page_issues_the_same_number_of_statements_for_1_or_20_lots(app, client, auth):
    def add_lots(count: int) -> None:
        with lab_rows.in_db(app) as session:
            for _ in range(count):
                lot = lab_rows.make_lot(session, passages=[(1_000_000, 8_000_000), (2_000_000, 9_000_000)])
                lab_rows.make_bag(session, lot, "A0")
                lab_rows.make_collection(session)

    add_lots(1)
    auth.login("lab")
    client.get("/")  # warm: the first request of a connection may differ in set-up statements
    one = _count_statements(app, client)
    add_lots(19)
    twenty = _count_statements(app, client)
    page = client.get("/").get_data(as_text=True)
    assert _part(page, "lab-lots", "</ul>").count("data-lot=") == 20
    assert twenty == one


# --- QA and QC ------------------------------------------------------------------------------------------

def test_qa_reviewer_sees_lots_to_review_with_their_gaps_open_deviations_and_excursions(app, client, auth):
    with db_session(app) as session:
        lot = qc_rows.make_lot(session, n=610001)
        qc_rows.add_results(session, lot, skip=("sterility",))
        deviation = _deviation(session, lot, "DEV-2026-0901")
        _deviation(session, lot, "DEV-2026-0902", status="closed")
        bag = release.bags_of(session, lot)[0]
        excursion = qc_rows.add_excursion(session, item_type="bag", item_id=bag.id)
        expected = release_gaps.of_lot(session, lot, qc_rows.user(session, "qa"))
        number, bag_code, excursion_id = lot.lot_number, bag.bag_code, excursion.id
    assert sorted(g.code for g in expected) == ["deviation_open", "excursion_open", "qc_missing"]
    panel = _part(_home(client, auth, "qa"), "panel-qa")
    assert f'data-lot="{number}" data-gaps="3"' in panel
    assert "deviation open, temperature excursion open, QC result missing" in panel
    assert f'href="/qa/lots/{number}"' in panel
    deviations_part = _part(panel, "qa-deviations", "</ul>")
    assert deviation.number in deviations_part and "DEV-2026-0902" not in deviations_part
    excursions_part = _part(panel, "qa-excursions", "</ul>")
    assert f'data-excursion="{excursion_id}"' in excursions_part and bag_code in excursions_part
    assert 'href="/reports/excursions"' in panel


def test_release_gaps_of_many_lots_read_together_match_each_lot_read_alone(app):
    with db_session(app) as session:
        failing = qc_rows.make_lot(session, n=620001, eligibility="ineligible", skip_steps=("wash",),
                                   unverified_steps=("fill",))
        qc_rows.add_results(session, failing, values={"viability": 50.0}, skip=("karyotype",))
        _deviation(session, failing, "DEV-2026-0911")
        qc_rows.add_excursion(session, item_type="collection", item_id=failing.collection_id)
        clean = qc_rows.make_lot(session, n=620002)
        qc_rows.add_results(session, clean, by="qc2")
        codes = {}
        for reviewer in ("qa", "lab", "qc", "qc2"):
            person = qc_rows.user(session, reviewer, roles=("qc",))
            bulk = release_gaps.gaps_of(session, [failing, clean], person, DEFAULT_STEPS)
            for lot in (failing, clean):
                one_by_one = release_gaps.of_lot(session, lot, person)
                assert sorted(g.code for g in bulk[lot.id]) == sorted(g.code for g in one_by_one), reviewer
                codes[reviewer, lot.id] = sorted(g.code for g in bulk[lot.id])
    assert codes["qa", failing.id] == ["batch_record_incomplete", "batch_record_incomplete", "deviation_open",
                                       "donor_not_eligible", "excursion_open", "qc_missing", "qc_out_of_spec"]
    assert codes["qa", clean.id] == [] and codes["lab", clean.id] == ["reviewer_made_lot"]
    assert codes["qc2", clean.id] == ["reviewer_tested_lot"]


def test_qc_analyst_sees_lots_awaiting_results_with_the_missing_tests(app, client, auth):
    with db_session(app) as session:
        waiting = qc_rows.make_lot(session, n=630001)
        qc_rows.add_results(session, waiting, skip=("mycoplasma", "endotoxin"))
        done = qc_rows.make_lot(session, n=630002)
        qc_rows.add_results(session, done)
        expected = dict((lot.lot_number, missing) for lot, missing in qc.work_list(session))
        waiting_number, done_number = waiting.lot_number, done.lot_number
    panel = _part(_home(client, auth, "qc"), "panel-qc")
    assert expected[waiting_number] == ["mycoplasma", "endotoxin"] and expected[done_number] == []
    assert f'data-lot="{waiting_number}"' in panel and "2: <span class=\"mono\">mycoplasma, endotoxin</span>" in panel
    assert done_number not in panel
    assert f'href="/qc/lots/{waiting_number}"' in panel and 'href="/qc/"' in panel


# --- trial and ward -------------------------------------------------------------------------------------

def test_coordinator_sees_subjects_visits_due_bags_needed_and_arm_balance(app, client, auth):
    with db_session(app) as session:
        needs_bag = ward_rows.subject(session, arm="A")
        needs_visit = ward_rows.infusion_visit(session, needs_bag)
        soon = ward_rows.infusion_visit(session, needs_bag, week=4, days_from_today=9)  # opens in 6 days
        far = ward_rows.infusion_visit(session, needs_bag, week=8, days_from_today=40)
        ready = ward_rows.bedside_ready(session, kind="placebo", arm="B")
        unrandomized = ward_rows.subject(session, arm=None)
        ward_rows.infusion_visit(session, unrandomized)
        ids = {"needs": needs_visit.id, "soon": soon.id, "far": far.id, "ready": ready.visit.id}
        code = needs_bag.subject_code
    panel = _part(_home(client, auth, "coordinator"), "panel-coordinator")
    due = _part(panel, "visits-due", "</table>")
    assert f'data-visit="{ids["needs"]}"' in due and f'data-visit="{ids["ready"]}"' in due
    assert f'data-visit="{ids["far"]}"' not in due
    needed = _part(panel, "allocations-needed", "</ul>")
    assert f'data-visit="{ids["needs"]}"' in needed and f'data-visit="{ids["soon"]}"' in needed
    assert f'data-visit="{ids["ready"]}"' not in needed and f'data-visit="{ids["far"]}"' not in needed
    assert needed.count("data-visit=") == 2  # the unrandomized subject cannot be allocated yet
    assert "A (UC-MSC): <strong>1</strong> · B (placebo): <strong>1</strong>" in panel
    assert "Subjects screened</dt><dd>3" in panel
    assert f'href="/trial/subjects/{code}"' in panel and 'href="/trial/balance"' in panel
    assert 'src="/dashboard/infusions-per-week.svg"' in panel


def test_nurse_sees_todays_infusions_and_bags_on_the_ward_but_no_qa_panel(app, client, auth):
    with db_session(app) as session:
        ready = ward_rows.bedside_ready(session)
        expired = ward_rows.to_ward(session, ward_rows.bag(session, kind="placebo",
                                                           expires_at=utcnow() - timedelta(hours=1)))
        in_lab = ward_rows.bag(session, kind="placebo")
        subject_code, bag_code = ready.subject.subject_code, ready.bag.bag_code
        expired_code, in_lab_code = expired.bag_code, in_lab.bag_code
    page = _home(client, auth, "nurse")
    panel = _part(page, "panel-ward")
    assert f'data-subject="{subject_code}"' in _part(panel, "ward-due", "</table>")
    bags = _part(panel, "ward-bags", "</ul>")
    assert bag_code in bags and expired_code in bags and in_lab_code not in bags
    assert "Expired" in _after(bags, f'data-bag="{expired_code}"', "</li>")
    assert "Expired" not in _after(bags, f'data-bag="{bag_code}"', "</li>")
    assert 'href="/ward/"' in panel and 'src="/dashboard/infusions-per-week.svg"' in panel
    for other in ("panel-qa", "panel-lab", "panel-qc", "panel-coordinator", "panel-auditor", "panel-admin"):
        assert f'data-testid="{other}"' not in page


# --- auditor, administrator, several roles --------------------------------------------------------------

def test_auditor_sees_the_audit_entry_count_per_area_and_a_link_to_verify(app, client, auth):
    with db_session(app) as session:
        for n in range(3):
            trail.record(session, actor=None, record_type="lot", record_id=n, action="test", new={"n": n})
        trail.record(session, actor=None, record_type="subject", record_id="SUBJ-9", action="test")
    page = _home(client, auth, "auditor")
    with db_session(app) as session:
        total = trail.count(session, trail.AuditFilter())
        lots = trail.count(session, trail.AuditFilter(record_type="lot"))
    panel = _part(page, "panel-auditor")
    assert f"{total} entries in the hash chain" in panel
    manufacturing = _after(panel, 'data-area="Manufacturing"', "</tr>")
    assert f'href="/audit/?record_type=lot">lot</a> {lots}' in manufacturing
    assert 'href="/audit/verify"' in panel and 'href="/audit/"' in panel


def test_administrator_sees_locked_accounts(app, client, auth):
    for _ in range(5):
        auth.login("nurse", "wrong-password")
    panel = _part(_home(client, auth, "admin"), "panel-admin")
    assert 'data-user="nurse"' in _part(panel, "locked-accounts", "</ul>")
    assert 'href="/admin/users"' in panel


def test_a_person_with_several_roles_sees_a_panel_for_each(app, client, auth):
    with db_session(app) as session:
        qc_rows.give_role(session, "qa", "coordinator")
    page = _home(client, auth, "qa")
    assert 'data-testid="panel-qa"' in page and 'data-testid="panel-coordinator"' in page
    assert 'data-testid="panel-lab"' not in page and 'data-testid="panel-ward"' not in page


# --- charts ---------------------------------------------------------------------------------------------

def _completed_infusion(session, ended_at: datetime | None, *, status: str = "completed") -> None:
    ready = ward_rows.bedside_ready(session)
    nurse, nurse2 = ward_rows.user(session, "nurse"), ward_rows.user(session, "nurse2")
    check = BedsideCheck(wristband_scan=ready.wristband, bag_scan=ready.bag_scan, subject_id=ready.subject.id,
                         bag_id=ready.bag.id, ok=True, checks=[], purpose="start", checked_by=nurse.id)
    signed = Signature(user_id=nurse2.id, signer_username="nurse2", signer_name=nurse2.full_name, meaning="verified",
                       signed_at=utcnow(), record_type="infusion", record_id="0", record_hash="0" * 64)
    session.add_all([check, signed])
    session.flush()
    started = (ended_at or utcnow()) - timedelta(minutes=40)
    session.add(Infusion(bag_id=ready.bag.id, subject_id=ready.subject.id, visit_id=ready.visit.id,
                         bedside_check_id=check.id, started_at=started, started_by=nurse.id, verifier_id=nurse2.id,
                         verifier_signature_id=signed.id, status=status, ended_at=ended_at))
    session.flush()


def test_infusions_per_week_chart_is_svg_with_one_bar_per_week_for_12_weeks(app, client, auth):
    now = utcnow()
    with db_session(app) as session:
        _completed_infusion(session, now)
        _completed_infusion(session, now)
        _completed_infusion(session, now - timedelta(weeks=3))
        _completed_infusion(session, now - timedelta(weeks=13))  # before the chart's first week
        _completed_infusion(session, None, status="started")  # not completed: not counted
    auth.login("coordinator")
    response = client.get("/dashboard/infusions-per-week.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    today = visits.site_today(ZONE)
    mondays = [dashboards.week_of(today)[0] - timedelta(weeks=11 - i) for i in range(12)]
    expected_keys = ["{}-W{:02d}".format(*m.isocalendar()[:2]) for m in mondays]
    assert [b.get("data-key") for b in bars] == expected_keys
    assert [int(b.get("data-value")) for b in bars] == [0] * 8 + [1, 0, 0, 2]
    assert all(b.find(f"{SVG}title") is not None for b in bars)


def test_infusion_chart_is_not_for_the_lab(client, auth):
    auth.login("lab")
    assert client.get("/dashboard/infusions-per-week.svg").status_code == 403


def test_bar_chart_escapes_its_text_and_draws_a_bar_per_entry():
    bars = [charts.Bar(f"k{i}", f"<W{i}> & co", i, f'"{i}" infusions <done>') for i in range(5)]
    root = ET.fromstring(charts.bar_chart_svg(bars, title="A & B <chart>", caption="x < y"))
    drawn = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert [r.get("data-key") for r in drawn] == [f"k{i}" for i in range(5)]
    assert root.find(f"{SVG}title").text == "A & B <chart>"
    heights = [float(r.get("height")) for r in drawn]
    assert heights == sorted(heights) and heights[0] == 0 and heights[-1] > 0
    assert "style=" not in charts.bar_chart_svg(bars, title="t")
    empty = ET.fromstring(charts.bar_chart_svg([], title="Nothing"))
    assert not [r for r in empty.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_qa_home_page_issues_the_same_number_of_statements_for_1_or_9_lots(app, client, auth):
    with db_session(app) as session:
        first = qc_rows.make_lot(session, n=640001)
        qc_rows.add_results(session, first)
    auth.login("qa")
    client.get("/")
    one = _count_statements(app, client)
    with db_session(app) as session:
        for n in range(640002, 640010):
            lot = qc_rows.make_lot(session, n=n)
            qc_rows.add_results(session, lot, skip=("sterility",))
            qc_rows.add_excursion(session, item_type="collection", item_id=lot.collection_id)
            _deviation(session, lot, f"DEV-2026-{n % 10000:04d}")
    assert _count_statements(app, client) == one
    page = client.get("/").get_data(as_text=True)
    assert _part(page, "qa-awaiting", "</table>").count('data-gaps="3"') == 8
