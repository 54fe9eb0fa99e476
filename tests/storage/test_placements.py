"""Put, take and move (docs/rules.md, "Storage"): each a custody event and an audit entry; one container per
position and one position per container, held by the database as well as by the checks."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core.errors import Forbidden, Invalid, Refused
from cellchain.core.types import utcnow
from cellchain.storage import placements
from cellchain.storage.models import Placement
from cellchain.ward import custody
from cellchain.ward.models import CustodyEvent
from tests.factories import banking, storage
from tests.factories.lab import in_db, make_collection
from tests.factories.ward import RANGES, user


def _audits(session, record_type: str) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.record_type == record_type)
                             .order_by(AuditEntry.seq)))


def _reasons(raised) -> list[str]:
    return [r.code for r in raised.value.reasons]


def test_putting_a_bag_stores_it_with_a_custody_event_and_an_audit_entry(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        placement = storage.put(session, bag, place.box, 2, 3)
        assert bag.custody_state == "in_storage"
        event = session.get(CustodyEvent, placement.put_event_id)
        assert (event.event, event.from_state, event.to_state) == ("stored", "at_lab", "in_storage")
        assert event.location == "LN2-01 > R1 > BX-0001 > B3"
        assert event.recorded_by == user(session, "lab").id
        assert [a.action for a in _audits(session, "placement")] == ["put"]
        assert [a.action for a in _audits(session, "bag_custody")][-1] == "stored"


def test_taking_a_bag_out_brings_it_back_to_the_lab_and_frees_the_position(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 1)
        taken = placements.take(session, actor=user(session, "lab"), item=placements.Item("bag", bag.id),
                                ranges=RANGES, reason="thaw for infusion")
        assert bag.custody_state == "at_lab" and taken.taken_at is not None
        event = session.get(CustodyEvent, taken.take_event_id)
        assert (event.event, event.to_state) == ("taken", "at_lab")
        assert placements.box_map(session, place.box).grid[0][0].placement is None
        assert [a.action for a in _audits(session, "placement")] == ["put", "take"]


def test_moving_a_bag_records_where_from_and_where_to(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        first = storage.put(session, bag, place.box, 1, 1)
        moved = placements.move(session, actor=user(session, "lab"), item=placements.Item("bag", bag.id),
                                box=place.box, row=3, column=4, ranges=RANGES)
        event = session.get(CustodyEvent, moved.put_event_id)
        assert (event.event, event.from_state, event.to_state) == ("moved", "in_storage", "in_storage")
        assert event.handed_over_by.endswith("> A1") and event.location.endswith("> C4")
        assert first.taken_at == moved.placed_at and first.take_event_id == event.id
        found = placements.where_is(session, placements.Item("bag", bag.id))
        assert found.now.where.position == "C4"
        assert [s.where.position for s in found.history] == ["C4", "A1"]


def test_two_bags_cannot_share_a_position(app):
    with in_db(app) as session:
        place = storage.site(session)
        first, second = storage.bag(session), storage.bag(session)
        storage.put(session, first, place.box, 2, 2)
        with pytest.raises(Refused) as raised:
            storage.put(session, second, place.box, 2, 2)
        assert _reasons(raised) == ["storage_position_taken"]
        assert first.bag_code in raised.value.reasons[0].message


def test_a_bag_cannot_be_in_two_places(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 2)
        with pytest.raises(Refused) as raised:
            storage.put(session, bag, place.box, 1, 3)
        assert _reasons(raised) == ["storage_item_already_placed"]
        assert "BX-0001 at A2" in raised.value.reasons[0].message


def test_the_database_refuses_a_second_container_in_an_occupied_position(app):
    """Even a write that skips the checks cannot put two containers in one position, or one in two."""
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        placement = storage.put(session, bag, place.box, 1, 1)
        lab = user(session, "lab")
        for row in (Placement(item_type="bag", item_id=bag.id + 1000, box_id=place.box.id, row=1, column=1,
                              placed_at=utcnow(), placed_by=lab.id, put_event_id=placement.put_event_id),
                    Placement(item_type="bag", item_id=bag.id, box_id=place.box.id, row=2, column=2,
                              placed_at=utcnow(), placed_by=lab.id, put_event_id=placement.put_event_id)):
            with pytest.raises(IntegrityError), session.begin_nested():
                session.add(row)
                session.flush()


def test_a_position_outside_the_box_is_refused_by_name(app):
    with in_db(app) as session:
        place = storage.site(session, rows=3, columns=4)
        with pytest.raises(Invalid) as raised:
            storage.put(session, storage.bag(session), place.box, 4, 1)
        assert "rows A-C and columns 1-4" in raised.value.fields["position"]


def test_a_bag_on_the_ward_cannot_be_put_in_storage(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        from tests.factories import ward
        ward.to_ward(session, bag)
        with pytest.raises(Refused) as raised:
            storage.put(session, bag, place.box, 1, 1)
        assert _reasons(raised) == ["custody_impossible_move"]


def test_a_nurse_cannot_put_a_bag_in_storage(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        with pytest.raises(Forbidden):
            placements.put(session, actor=user(session, "nurse"), item=placements.Item("bag", bag.id), box=place.box,
                           row=1, column=1, ranges=RANGES)


def test_a_bank_vial_is_stored_moved_and_taken_out_before_its_thaw(app):
    with in_db(app) as session:
        place = storage.site(session)
        bank = banking.make_bank(session, banking.bank_lot(session, make_collection(session)))
        row = banking.first_vial(session, bank)
        lab, vial = user(session, "lab"), placements.Item("vial", row.id)
        placements.put(session, actor=lab, item=vial, box=place.box, row=1, column=1, ranges=RANGES)
        placements.move(session, actor=lab, item=vial, box=place.box, row=1, column=2, ranges=RANGES)
        placements.take(session, actor=lab, item=vial, ranges=RANGES)
        events = custody.events_of(session, "vial", row.id)
        assert [(e.event, e.to_state) for e in events] == [("frozen", "at_lab"), ("stored", "in_storage"),
                                                           ("moved", "in_storage"), ("taken", "at_lab")]
        assert custody.current_state(session, "vial", row.id) == "at_lab"
        assert placements.box_map(session, place.box).grid[0][1].placement is None


def test_a_bag_dispatched_while_still_recorded_in_a_box_is_shown_there_to_be_taken_out(app):
    with in_db(app) as session:
        place = storage.site(session)
        bag = storage.bag(session)
        storage.put(session, bag, place.box, 1, 1)
        from tests.factories import ward
        ward.hand_over(session, bag, "dispatched", minutes_ago=0)
        cell = placements.box_map(session, place.box).grid[0][0]
        assert cell.stale and cell.state == "dispatched"
        taken = placements.take(session, actor=user(session, "lab"), item=placements.Item("bag", bag.id),
                                ranges=RANGES)
        assert taken.take_event_id is None and bag.custody_state == "dispatched"
        assert _audits(session, "placement")[-1].action == "take"
