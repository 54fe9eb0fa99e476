"""The lot page, the bag page, the custody report and the bedside check send a fixed number of SQL
statements.

A page whose statements grow with what it shows (one more query per bag, per person, per excursion)
is fast in a demo and slow at a site with years of records. Each page is requested for a small record
and for a large one, counting every statement the app's engine sends (a ``before_cursor_execute``
listener); the counts must be equal. bench/bench_growth.py times the same pages with 100 and 10,000
lots.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cellchain.audit import signatures
from cellchain.people.accounts import Policy
from cellchain.ward import bedside, custody
from tests.conftest import FAST_HASH, PASSWORD, signature
from tests.factories import qc, ward
from tests.factories.queries import counting

CEILING = 25  # far above today's counts: the equality below is the rule, this only catches a runaway page


def statements(app, client, url: str) -> list[str]:
    client.get(url)  # once first: the login's own first-request work is not the page's
    with counting(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return seen


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert 0 < len(small) <= CEILING, small
    assert len(small) == len(large), "\n".join(["small:", *small, "", "large:", *large])


# --- the lot page: 2 passages and 2 bags, then 6 passages and 12 bags ----------------------------------

def lots(app) -> tuple[str, str]:
    with qc.db_session(app) as session:
        small = qc.make_lot(session, n=1, passages=2, bags=2)
        qc.add_results(session, small)
        large = qc.make_lot(session, n=2, passages=6, bags=12)
        qc.add_results(session, large, values={"endotoxin": 0.7})
        return small.lot_number, large.lot_number


def test_the_lot_page_reads_as_many_statements_for_12_bags_as_for_2(app, client, auth):
    small, large = lots(app)
    auth.login("auditor")
    assert_same_count(statements(app, client, f"/lab/lots/{small}"), statements(app, client, f"/lab/lots/{large}"))


# --- a bag and its custody report: a short history, then a long one ------------------------------------

def _handover(session, bag, event_name: str, by: str, minutes_ago: int, temperature: float = 5.0) -> None:
    where = ward.WARD if event_name == "received_at_ward" else "Cell processing lab"
    custody.record_handover(session, actor=ward.user(session, by), record=bag, ranges=ward.RANGES,
                            handover=custody.Handover(event=event_name, location=where, temperature_c=temperature,
                                                      occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)))


def _accept_open_excursions(session, bag) -> None:
    qa = ward.user(session, "qa")
    for excursion in custody.open_excursions(session, "bag", bag.id):
        custody.decide_excursion(session, actor=qa, excursion_id=excursion.id, accept=True,
                                 reason="within the product's stability data", ranges=ward.RANGES,
                                 signature=signatures.SignatureInput("qa", PASSWORD, "accepted"),
                                 policy=Policy(hash_method=FAST_HASH))


def long_history(session, trips: int = 3) -> ward.Bedside:
    """A bag that went to the ward and back ``trips`` times, each time received too warm (an excursion
    QA accepted), recorded by five people, then checked at the bedside by both nurses."""
    who = ward.subject(session)
    bag = ward.bag(session)
    minutes = 175
    for _ in range(trips):
        for event_name, by, temperature in (("stored", "lab", 5.0), ("dispatched", "lab2", 5.0),
                                            ("received_at_ward", "nurse2", 12.0), ("returned", "nurse", 6.0)):
            _handover(session, bag, event_name, by, minutes, temperature)
            minutes -= 5
        _accept_open_excursions(session, bag)
    for event_name, by in (("stored", "lab2"), ("dispatched", "lab"), ("received_at_ward", "nurse")):
        _handover(session, bag, event_name, by, minutes)
        minutes -= 5
    visit = ward.infusion_visit(session, who)
    scene = ward.Bedside(who, bag, visit, ward.allocate(session, bag, visit, who))
    for nurse in ("nurse", "nurse2", "nurse", "nurse2"):
        bedside.verify(session, actor=ward.user(session, nurse), wristband=scene.wristband, bag=scene.bag_scan,
                       protocol=bedside.Protocol())
    return scene


def infused_bags(app, api) -> tuple[str, str]:
    """Two infused bags: one with the shortest history, one with a long one."""
    with qc.db_session(app) as session:
        short, long = ward.bedside_ready(session), long_history(session)
    for scene in (short, long):
        body = {"wristband": scene.wristband, "bag": scene.bag_scan, "verifier": signature("nurse2", "verified"),
                "ultrasound_monitored": True}
        response = api.post("/api/v1/infusions", as_="nurse", json=body)
        assert response.status_code == 201, response.get_json()
    return short.bag.bag_code, long.bag.bag_code


def test_the_bag_page_reads_as_many_statements_for_a_long_history_as_for_a_short_one(app, client, auth, api):
    short, long = infused_bags(app, api)
    auth.login("auditor")
    assert_same_count(statements(app, client, f"/lab/bags/{short}"), statements(app, client, f"/lab/bags/{long}"))


def test_the_custody_report_reads_as_many_statements_for_a_long_history_as_for_a_short_one(app, client, auth, api):
    short, long = infused_bags(app, api)
    auth.login("auditor")
    small = statements(app, client, f"/reports/bags/{short}/custody")
    large = statements(app, client, f"/reports/bags/{long}/custody")
    assert_same_count(small, large)
    page = client.get(f"/reports/bags/{long}/custody").get_data(as_text=True)
    assert page.count("accepted") >= 3 and "Zhao Lei" in page  # the long history is really on the page


# --- the bedside check: a nurse waits on it for every bag ----------------------------------------------

def verify_statements(app, api, scene: ward.Bedside) -> tuple[list[str], dict]:
    body = {"wristband": scene.wristband, "bag": scene.bag_scan}
    api.post("/api/v1/infusions/verify", as_="nurse", json=body)  # the token's first use is not the check's
    with counting(app) as seen:
        response = api.post("/api/v1/infusions/verify", as_="nurse", json=body)
    assert response.status_code == 200, response.get_json()
    return seen, response.get_json()


def test_the_bedside_check_sends_five_statements_however_long_the_bags_custody_history(app, api):
    """The token, one read of both scans' records and the bag's custody, the attempt, the locked chain
    head and the audit entry (besides BEGIN, which SQLite gets as a statement, and the commit)."""
    with qc.db_session(app) as session:
        short, long = ward.bedside_ready(session), long_history(session)
    small, answer = verify_statements(app, api, short)
    large, long_answer = verify_statements(app, api, long)
    assert answer["ok"] is True and long_answer["ok"] is True, (answer, long_answer)
    work = [s.split()[0].upper() for s in small if not s.startswith("BEGIN")]
    assert work == ["SELECT", "SELECT", "INSERT", "SELECT", "INSERT"], small
    assert_same_count(small, large)
