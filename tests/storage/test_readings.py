"""Temperature readings of a storage unit (docs/rules.md, "Storage: temperatures"): entered or imported from a
logger's CSV file, all lines or none; an out-of-range reading opens an excursion, awaiting QA, for every item
in the unit during it, and for none taken out before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from cellchain.core.errors import Invalid, Refused
from cellchain.core.types import utcnow
from cellchain.storage import placements, temperatures
from cellchain.storage.models import Placement, TemperatureReading
from cellchain.storage.rules import readings as rules
from cellchain.ward import bedside_facts, custody
from cellchain.ward.models import Excursion
from tests.factories import banking, storage
from tests.factories.lab import in_db, make_collection
from tests.factories.ward import RANGES, user

UTC_TZ = ZoneInfo("UTC")


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _csv(*lines: str) -> str:
    return "\n".join(("time,temperature_c,logger", *lines)) + "\n"


def _at(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def test_a_logger_file_with_one_bad_line_is_refused_whole_naming_the_line(app):
    with in_db(app) as session:
        place = storage.site(session)
        content = _csv(f"{_at(30)},-180,L1", f"{_at(20)},warm,L1", f"{_at(10)},-181,L1")
        with pytest.raises(Invalid) as raised:
            temperatures.import_file(session, actor=user(session, "lab"), unit=place.unit, content=content,
                                     file_name="tank.csv", tz=UTC_TZ)
        assert list(raised.value.fields) == ["line 3"]
        assert _count(session, TemperatureReading) == 0


def test_a_logger_file_without_the_named_columns_is_refused():
    with pytest.raises(Invalid) as raised:
        rules.parse_csv("when,degrees\n2026-12-01T10:00:00Z,-180\n", UTC_TZ)
    assert "time,temperature_c" in raised.value.fields["file"]


def test_a_logger_time_without_an_offset_is_site_time():
    tz = ZoneInfo("Asia/Shanghai")
    [reading] = rules.parse_csv("time,temperature_c\n2026-12-01T08:00:00,-180\n", tz)
    assert reading.measured_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_importing_the_same_readings_twice_is_refused(app):
    with in_db(app) as session:
        place = storage.site(session)
        content = _csv(f"{_at(30)},-180,L1")
        temperatures.import_file(session, actor=user(session, "lab"), unit=place.unit, content=content,
                                 file_name="a.csv", tz=UTC_TZ)
        with pytest.raises(Refused) as raised:
            temperatures.import_file(session, actor=user(session, "lab"), unit=place.unit, content=content,
                                     file_name="a.csv", tz=UTC_TZ)
        assert raised.value.reasons[0].code == "storage_reading_exists"


def test_an_excursion_reaches_the_items_stored_during_it_and_not_ones_taken_out_before(app):
    with in_db(app) as session:
        place = storage.site(session)
        lab = user(session, "lab")
        stayed, left, moved = storage.bag(session), storage.bag(session), storage.bag(session)
        for number, bag in enumerate((stayed, left, moved), start=1):
            storage.put(session, bag, place.box, 1, number)
        placements.take(session, actor=lab, item=placements.Item("bag", left.id), ranges=RANGES)
        placements.move(session, actor=lab, item=placements.Item("bag", moved.id), box=place.box, row=2, column=1,
                        ranges=RANGES)
        # Back-date the placements so the logger's readings fall before and inside them.
        for row in session.exec(select(Placement)):
            row.placed_at -= timedelta(hours=3)
            if row.taken_at is not None:
                row.taken_at -= timedelta(hours=3) if row.item_id == left.id else timedelta(0)
            session.add(row)
        session.flush()
        content = _csv(f"{_at(150)},-181,L1", f"{_at(60)},-120,L1", f"{_at(50)},-110,L1", f"{_at(40)},-182,L1")
        recorded = temperatures.import_file(session, actor=lab, unit=place.unit, content=content,
                                            file_name="tank.csv", tz=UTC_TZ)
        assert recorded.out_of_range == 2
        reached = sorted((x.item_type, x.item_id) for x in recorded.excursions)
        assert reached == sorted([("bag", stayed.id), ("bag", moved.id)])
        excursion = recorded.excursions[0]
        assert (excursion.status, excursion.temperature_c, excursion.custody_event_id) == ("open", -110.0, None)
        assert (excursion.low_c, excursion.high_c) == (place.unit.low_c, place.unit.high_c)
        assert custody.open_excursions(session, "bag", left.id) == []


def test_open_storage_excursions_reach_the_bedside_check_beside_the_bags_events(app):
    with in_db(app) as session:
        place = storage.site(session, kind="refrigerator", unit_code="FR-01", box_code="FR-BOX")
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 1)
        for temperature in (11.5, 12.5):  # two entries: two excursions
            temperatures.enter(session, actor=user(session, "lab"), unit=place.unit, measured_at=None,
                               temperature_c=temperature)
        facts = bedside_facts.at_bedside(session.connection(), None, bag.bag_code)
        assert [x.temperature_c for x in facts.custody.open_excursions] == [11.5, 12.5]
        assert [e.event for e in facts.custody.events] == ["filled", "stored"]
        assert _count(session, Excursion) == 2


def test_a_reading_in_range_opens_no_excursion(app):
    with in_db(app) as session:
        place = storage.site(session)
        storage.put(session, storage.bag(session), place.box, 1, 1)
        recorded = temperatures.enter(session, actor=user(session, "lab"), unit=place.unit, measured_at=None,
                                      temperature_c=-185)
        assert (recorded.out_of_range, recorded.excursions) == (0, [])


def test_consecutive_out_of_range_readings_are_one_excursion_per_item():
    found = [rules.Reading(utcnow() - timedelta(minutes=m), t) for m, t in ((40, 5), (30, 9), (20, 10), (10, 4),
                                                                              (0, 12))]
    spans = rules.excursion_spans(found, 2.0, 8.0)
    assert [(s.start, s.end, found[s.worst].temperature_c) for s in spans] == [
        (found[1].measured_at, found[2].measured_at, 10), (found[4].measured_at, found[4].measured_at, 12)]


def test_a_bag_that_was_in_a_warm_refrigerator_fails_the_bedside_check_until_qa_accepts(app, api):
    from tests.conftest import signature
    from tests.factories import ward

    with in_db(app) as session:
        place = storage.site(session, kind="refrigerator", unit_code="FR-01", box_code="FR-BOX")
        who = ward.subject(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 1)
        recorded = temperatures.enter(session, actor=user(session, "lab"), unit=place.unit, measured_at=None,
                                      temperature_c=9.5)
        placements.take(session, actor=user(session, "lab"), item=placements.Item("bag", bag.id), ranges=RANGES)
        for event, by in (("dispatched", "lab"), ("received_at_ward", "nurse")):
            custody.record_handover(session, actor=user(session, by), record=bag, ranges=RANGES,
                                    handover=custody.Handover(event=event, location="ward 5", temperature_c=5.0))
        visit = ward.infusion_visit(session, who)
        ward.allocate(session, bag, visit, who)
        wristband, scan, excursion = ward.wristband(who), ward.bag_2d(bag), recorded.excursions[0].id
    checked = api.post("/api/v1/infusions/verify", as_="nurse", json={"wristband": wristband, "bag": scan}).get_json()
    failed = [c["name"] for c in checked["checks"] if not c["ok"]]
    assert failed == ["no_open_excursion"]
    assert api.post(f"/api/v1/excursions/{excursion}/decide", as_="qa", json={
        "accept": True, "reason": "door ajar 10 min; stability data cover 9.5 °C", "signature":
        signature("qa", "accepted")}).status_code == 200
    checked = api.post("/api/v1/infusions/verify", as_="nurse", json={"wristband": wristband, "bag": scan}).get_json()
    assert checked["ok"], [c for c in checked["checks"] if not c["ok"]]


def test_qa_sees_which_units_reading_found_a_storage_excursion_even_for_a_vial(app, client, auth):
    with in_db(app) as session:
        place = storage.site(session)
        bank = banking.make_bank(session, banking.bank_lot(session, make_collection(session)))
        vial = banking.first_vial(session, bank)
        code = vial.vial_code
        placements.put(session, actor=user(session, "lab"), item=placements.Item("vial", vial.id), box=place.box,
                       row=1, column=1, ranges=RANGES)
        temperatures.enter(session, actor=user(session, "lab"), unit=place.unit, measured_at=None,
                           temperature_c=-100)
    auth.login("qa")
    page = client.get("/reports/excursions")
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert code in text and 'href="/storage/units/LN2-01">LN2-01</a>, reading of' in text


@pytest.mark.parametrize("content", [
    "time,temperature_c\n0001-01-01T00:00:00,-180\n",  # a logger clock never set: before UTC's year 1
    "time,temperature_c\n9999-12-31T23:59:59-12:00,-180\n",  # past the last year a time can hold in UTC
    "time,temperature_c\n2026-01-01T00:00:00Z," + "9" * 200_000 + "\n",  # a field past csv's limit
])
def test_a_logger_file_no_reader_could_trust_is_refused_not_a_server_error(content):
    with pytest.raises(Invalid):
        rules.parse_csv(content, ZoneInfo("Asia/Shanghai"))
