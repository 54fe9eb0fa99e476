"""The custody state machine: legal paths, every impossible move, temperatures, chain replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words.labels import label
from cellchain.ward.rules.custody_states import (
    DEFAULT_RANGES,
    EVENTS,
    INITIAL_STATE,
    ITEM_KINDS,
    RECORDABLE_EVENTS,
    STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    apply_event,
    chain_is_unbroken,
    excursions,
    guard_recordable_event,
    temperature_excursion,
)

BAG_PATH = ["filled", "stored", "dispatched", "received_at_ward", "infused"]


def replay(kind, events):
    state = INITIAL_STATE[kind]
    visited = []
    for event in events:
        state = apply_event(kind, state, event)
        visited.append(state)
    return visited


def refusal(kind, state, event) -> Refused:
    with pytest.raises(Refused) as raised:
        apply_event(kind, state, event)
    return raised.value


def test_event_names_are_the_api_names():
    assert RECORDABLE_EVENTS == (
        "shipped",
        "received",
        "stored",
        "dispatched",
        "received_at_ward",
        "returned",
        "discarded",
    )
    assert set(EVENTS) == {*RECORDABLE_EVENTS, "infused", "collected", "filled", "frozen", "thawed", "taken", "moved"}


def test_storage_takes_and_moves_what_it_stored_and_nothing_else():
    for kind in ("collection", "lot", "bag", "vial"):
        assert TRANSITIONS[kind][("in_storage", "taken")] == "at_lab"
        assert TRANSITIONS[kind][("in_storage", "moved")] == "in_storage"
    assert replay("vial", ["frozen", "stored", "moved", "taken"]) == ["at_lab", "in_storage", "in_storage", "at_lab"]
    assert "it is already at the lab" in refusal("bag", "at_lab", "taken").reasons[0].message
    assert "store it first" in refusal("bag", "at_lab", "moved").reasons[0].message


def test_take_and_move_are_not_recorded_as_hand_overs():
    for event in ("taken", "moved"):
        with pytest.raises(Refused) as raised:
            guard_recordable_event(event)
        assert raised.value.reasons[0].code == "custody_event_not_recordable"


def test_full_legal_path_of_a_bag():
    assert replay("bag", BAG_PATH) == ["at_lab", "in_storage", "dispatched", "at_ward", "infused"]


def test_fresh_bag_may_go_straight_from_lab_to_ward():
    assert replay("bag", ["filled", "dispatched", "received_at_ward", "infused"])[-1] == "infused"


def test_returned_bag_goes_back_to_the_lab_and_can_be_reissued():
    path = [
        "filled",
        "dispatched",
        "received_at_ward",
        "returned",
        "stored",
        "dispatched",
        "received_at_ward",
        "infused",
    ]
    assert replay("bag", path)[3] == "at_lab"
    assert replay("bag", path)[-1] == "infused"


def test_full_legal_path_of_a_collection():
    assert replay("collection", ["collected", "shipped", "received", "stored"]) == [
        "collected",
        "in_transit",
        "at_lab",
        "in_storage",
    ]


def test_lot_starts_at_the_lab_and_may_move_between_sites():
    assert replay("lot", ["stored", "shipped", "received", "discarded"]) == [
        "in_storage",
        "in_transit",
        "at_lab",
        "discarded",
    ]


def test_bag_cannot_be_received_at_ward_before_dispatch():
    reason = refusal("bag", "in_storage", "received_at_ward").reasons[0]
    assert reason.code == "custody_impossible_move"
    assert reason.message == "bag cannot be received on the ward while in storage; dispatch it first"


def test_bag_cannot_be_infused_before_it_is_received_on_the_ward():
    reason = refusal("bag", "dispatched", "infused").reasons[0]
    assert reason.code == "custody_impossible_move"
    assert "receive it at the ward first" in reason.message


def test_bag_chain_must_open_with_filled():
    assert "record its filling" in refusal("bag", None, "stored").reasons[0].message


def test_repeated_event_says_the_item_is_already_there():
    assert "already on the ward" in refusal("bag", "at_ward", "received_at_ward").reasons[0].message


@pytest.mark.parametrize("kind", ITEM_KINDS)
@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@pytest.mark.parametrize("event", EVENTS)
def test_terminal_states_refuse_every_event(kind, state, event):
    reason = refusal(kind, state, event).reasons[0]
    assert reason.code == "custody_impossible_move"
    assert "chain is closed" in reason.message


@pytest.mark.parametrize("kind", ITEM_KINDS)
def test_every_pair_outside_the_table_is_refused(kind):
    table = TRANSITIONS[kind]
    complement = [(s, e) for s in (None, *STATES) for e in EVENTS if (s, e) not in table]
    assert complement
    for state, event in complement:
        reasons = refusal(kind, state, event).reasons
        assert [r.code for r in reasons] == ["custody_impossible_move"], (state, event)
        assert reasons[0].message.startswith(f"{label(kind)} cannot be {label(event)}")


@pytest.mark.parametrize("kind", ITEM_KINDS)
def test_every_pair_in_the_table_is_applied(kind):
    for (state, event), new_state in TRANSITIONS[kind].items():
        assert apply_event(kind, state, event) == new_state


def test_table_uses_only_known_states_and_events():
    for table in TRANSITIONS.values():
        for (state, event), new_state in table.items():
            assert state is None or state in STATES
            assert state not in TERMINAL_STATES
            assert event in EVENTS
            assert new_state in STATES


def test_only_bags_are_infused():
    assert [k for k, t in TRANSITIONS.items() if any(e == "infused" for _, e in t)] == ["bag"]


@pytest.mark.parametrize(
    ("kind", "state", "event", "field"),
    [
        ("pallet", "at_lab", "stored", "item_kind"),
        ("bag", "on_mars", "stored", "state"),
        ("bag", "at_lab", "teleported", "event"),
    ],
)
def test_unknown_names_are_invalid_not_refused(kind, state, event, field):
    with pytest.raises(Invalid) as raised:
        apply_event(kind, state, event)
    assert field in raised.value.fields


@pytest.mark.parametrize("event", ["infused", "collected", "filled"])
def test_service_events_are_not_recordable_as_hand_overs(event):
    with pytest.raises(Refused) as raised:
        guard_recordable_event(event)
    assert raised.value.reasons[0].code == "custody_event_not_recordable"


@pytest.mark.parametrize("event", RECORDABLE_EVENTS)
def test_hand_over_events_are_recordable(event):
    guard_recordable_event(event)


def test_unknown_event_is_invalid_at_the_endpoint():
    with pytest.raises(Invalid):
        guard_recordable_event("lost")


# --- temperatures ------------------------------------------------------------------------------


def test_default_ranges():
    assert DEFAULT_RANGES == {"collection": (2.0, 25.0), "lot": (2.0, 8.0), "bag": (2.0, 8.0),
                              "frozen_bag": (-196.0, -150.0), "vial": (-196.0, -135.0)}


def test_a_vial_is_frozen_then_thawed_once_at_the_lab_and_its_chain_then_closes():
    assert apply_event("vial", None, "frozen") == "at_lab"
    assert apply_event("vial", "at_lab", "thawed") == "thawed"
    with pytest.raises(Refused) as refused:
        apply_event("vial", "thawed", "thawed")
    assert "its chain is closed" in refused.value.reasons[0].message
    with pytest.raises(Refused):
        apply_event("vial", "in_storage", "thawed")


@pytest.mark.parametrize(
    ("temp", "excursion"), [(2, False), (8, False), (5.5, False), (1.9, True), (8.1, True)]
)
def test_bag_temperature_bounds_are_inclusive(temp, excursion):
    assert temperature_excursion(temp) is excursion


@pytest.mark.parametrize(("temp", "excursion"), [(2, False), (25, False), (25.1, True), (-1, True)])
def test_collection_range_is_a_parameter(temp, excursion):
    assert temperature_excursion(temp, *DEFAULT_RANGES["collection"]) is excursion


@pytest.mark.parametrize("temp", ["cold", None, True, float("nan")])
def test_unreadable_temperature_is_invalid(temp):
    with pytest.raises(Invalid):
        temperature_excursion(temp)


def test_excursions_names_each_out_of_range_event():
    events = [
        {"event": "filled", "temperature_c": 4},
        {"event": "dispatched", "temperature_c": 12.5},
        {"event": "received_at_ward"},
    ]
    reasons = excursions(events)
    assert [r.code for r in reasons] == ["custody_temperature_excursion"]
    assert "dispatched" in reasons[0].message


# --- replaying a chain -------------------------------------------------------------------------


def test_chain_of_a_bag_is_unbroken():
    assert chain_is_unbroken(BAG_PATH) == (True, [])


def test_chain_starting_after_the_first_event_is_broken():
    ok, reasons = chain_is_unbroken(BAG_PATH[1:])
    assert ok is False
    assert reasons[0].code == "custody_impossible_move"
    assert reasons[0].message.startswith("event 1:")


def test_chain_skipping_the_ward_reports_the_break_and_goes_on():
    ok, reasons = chain_is_unbroken(["filled", "dispatched", "infused", "received_at_ward", "stored"])
    assert ok is False
    assert [r.message.split(":")[0] for r in reasons] == ["event 3", "event 5"]


def test_empty_chain_is_broken():
    expected = Reason("custody_chain_empty", item_kind="bag")
    assert chain_is_unbroken([]) == (False, [expected])


def test_chain_of_a_collection_replays_from_collected():
    assert chain_is_unbroken(["collected", "shipped", "received"], item_kind="collection")[0] is True
    assert chain_is_unbroken(["shipped", "received"], item_kind="collection")[0] is False


def test_chain_with_time_going_backwards_is_broken():
    start = datetime(2026, 4, 1, 8, tzinfo=UTC)
    events = [{"event": e, "occurred_at": start + timedelta(hours=i)} for i, e in enumerate(BAG_PATH)]
    assert chain_is_unbroken(events)[0] is True
    events[3]["occurred_at"] = start - timedelta(hours=1)
    ok, reasons = chain_is_unbroken(events)
    assert ok is False
    assert [r.code for r in reasons] == ["custody_time_reversed"]
