"""Chain of custody as a state machine held in data (docs/rules.md, "Ward: chain of custody").

Every hand-over of a collection, lot or bag is an event; an impossible move (a bag infused before it
was received on the ward) is refused with ``custody_impossible_move`` and a hint of what to do first.
Keeping the moves in one table (``TRANSITIONS``) means the rules, the tests and the documentation
cannot drift apart. ``infused`` closes a bag's chain and is recorded only by the infusion service,
``thawed`` only by the thaw; ``collected`` and ``filled`` open a collection's and a bag's chain and are
recorded when the item is registered; the custody endpoint records only ``RECORDABLE_EVENTS``.

Temperatures at each hand-over are checked against configurable ranges (21 CFR 1271.260: storage
limits set, temperatures recorded, excursions documented).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.core.words.labels import label

ITEM_KINDS: tuple[str, ...] = ("collection", "lot", "bag", "vial")

STATES: tuple[str, ...] = (
    "collected", "in_transit", "at_lab", "in_storage", "dispatched", "at_ward", "infused", "discarded", "thawed",
)
TERMINAL_STATES = frozenset({"infused", "discarded", "thawed"})

RECORDABLE_EVENTS: tuple[str, ...] = (
    "shipped", "received", "stored", "dispatched", "received_at_ward", "returned", "discarded",
)
"""Events a person records through ``POST /custody`` (docs/architecture.md, "The JSON API")."""
SERVICE_EVENTS: tuple[str, ...] = ("collected", "filled", "infused", "frozen", "thawed")
STORAGE_EVENTS: tuple[str, ...] = ("taken", "moved")
"""Recorded only by storage's put, take and move (``cellchain/storage/placements.py``), which also keep the
position: a hand-over through ``POST /custody`` cannot say which box and position the item left or went to.
Put is the hand-over event ``stored``."""
EVENTS: tuple[str, ...] = RECORDABLE_EVENTS + SERVICE_EVENTS + STORAGE_EVENTS

INITIAL_STATE: dict[str, str | None] = {"collection": None, "lot": "at_lab", "bag": None, "vial": None}
"""State before the first event: ``None`` (nothing recorded yet) or, for a lot, ``at_lab``, because
a lot is started in the lab from a received collection."""

IMPOSSIBLE_MOVE = "custody_impossible_move"
NOT_RECORDABLE = "custody_event_not_recordable"
CHAIN_EMPTY = "custody_chain_empty"
TIME_REVERSED = "custody_time_reversed"
TEMPERATURE_EXCURSION = "custody_temperature_excursion"

_DISCARDABLE = ("collected", "in_transit", "at_lab", "in_storage", "dispatched", "at_ward")

TRANSITIONS: dict[str, dict[tuple[str | None, str], str]] = {
    # A cord: collected at the maternity ward, shipped, received and possibly stored at the lab.
    "collection": {
        (None, "collected"): "collected",
        ("collected", "shipped"): "in_transit",
        ("in_transit", "received"): "at_lab",
        ("at_lab", "stored"): "in_storage",
        ("in_storage", "taken"): "at_lab",
        ("in_storage", "moved"): "in_storage",
        ("at_lab", "shipped"): "in_transit",
        ("in_storage", "shipped"): "in_transit",
        **{(s, "discarded"): "discarded" for s in ("collected", "in_transit", "at_lab", "in_storage")},
    },
    # A lot lives in the lab; it may be stored or moved between sites.
    "lot": {
        ("at_lab", "stored"): "in_storage",
        ("in_storage", "taken"): "at_lab",
        ("in_storage", "moved"): "in_storage",
        ("at_lab", "shipped"): "in_transit",
        ("in_storage", "shipped"): "in_transit",
        ("in_transit", "received"): "at_lab",
        **{(s, "discarded"): "discarded" for s in ("in_transit", "at_lab", "in_storage")},
    },
    # A bag: filled at the lab, stored or sent straight out, received at the ward, infused there.
    # A returned bag comes back to the lab, where QA decides whether it is stored again or discarded.
    "bag": {
        (None, "filled"): "at_lab",
        ("at_lab", "stored"): "in_storage",
        ("in_storage", "taken"): "at_lab",
        ("in_storage", "moved"): "in_storage",
        ("at_lab", "dispatched"): "dispatched",
        ("in_storage", "dispatched"): "dispatched",
        ("dispatched", "received_at_ward"): "at_ward",
        ("dispatched", "returned"): "at_lab",
        ("at_ward", "returned"): "at_lab",
        ("at_ward", "infused"): "infused",
        # A cryopreserved bag is thawed where it is used or prepared (ward or lab); it stays there. The
        # thaw is recorded by its own step (``ward/thaw.py``), which also prints the post-thaw label.
        ("at_ward", "thawed"): "at_ward",
        ("at_lab", "thawed"): "at_lab",
        **{(s, "discarded"): "discarded" for s in ("at_lab", "in_storage", "dispatched", "at_ward")},
    },
    # A cell-bank vial: frozen at the lab (its bank is made), put into, taken from and moved within
    # storage, thawed at the lab once to start a lot (banking/vials.py), or discarded. A thaw needs the
    # vial at the lab, out of storage.
    "vial": {
        (None, "frozen"): "at_lab",
        ("at_lab", "stored"): "in_storage",
        ("in_storage", "taken"): "at_lab",
        ("in_storage", "moved"): "in_storage",
        ("at_lab", "thawed"): "thawed",
        ("at_lab", "discarded"): "discarded",
        ("in_storage", "discarded"): "discarded",
    },
}

DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "collection": (2.0, 25.0),  # cord in transport medium, cold or at room temperature
    "lot": (2.0, 8.0),  # cells moved between sites, like the fresh product
    "bag": (2.0, 8.0),  # fresh (not cryopreserved) UC-MSC product, storage and transport
    # a cryopreserved bag until its thaw: liquid-nitrogen vapour at or below -150 degrees C, well below
    # the glass transition of water (about -135 degrees C), above which stored cells are no longer stable;
    # the same limit its label states (labelling/data.py, FROZEN_STORAGE)
    "frozen_bag": (-196.0, -150.0),
    "vial": (-196.0, -135.0),  # cryopreserved cells, liquid or vapour-phase nitrogen (below the glass transition)
}
"""Default acceptable temperature per item kind in degrees C, inclusive; site configuration."""


def range_key(item_kind: str, *, frozen: bool = False) -> str:
    """Which range judges a hand-over's temperature: a bag still frozen has its own."""
    return "frozen_bag" if item_kind == "bag" and frozen else item_kind

_DO_FIRST = {
    "collected": N_("record its collection"), "filled": N_("record its filling"), "shipped": N_("ship it"),
    "received": N_("receive it"), "stored": N_("store it"), "dispatched": N_("dispatch it"),
    "received_at_ward": N_("receive it at the ward"), "returned": N_("return it"), "infused": N_("infuse it"),
    "frozen": N_("freeze its bank"), "thawed": N_("thaw it"), "taken": N_("take it out of storage"),
    "moved": N_("move it in storage"),
}


def _check_names(item_kind: str, state: str | None, event: str) -> None:
    """Unknown names are unreadable input (400), not an impossible move (409)."""
    errors: dict[str, str] = {}
    if item_kind not in ITEM_KINDS:
        errors["item_kind"] = translated(N_(
            "{item_kind!r} is not one of {choices}")).format(
            item_kind=item_kind, choices=', '.join(ITEM_KINDS))
    if state is not None and state not in STATES:
        errors["state"] = translated(N_("{state!r} is not a custody state")).format(state=state)
    if event not in EVENTS:
        errors["event"] = translated(N_(
            "{event!r} is not one of {choices}")).format(
            event=event, choices=', '.join(RECORDABLE_EVENTS))
    if errors:
        raise Invalid(errors)


def _route(item_kind: str, state: str | None, event: str) -> list[str] | None:
    """The shortest list of events (never a discard) after which ``event`` becomes legal."""
    table = TRANSITIONS[item_kind]
    frontier: list[tuple[str | None, list[str]]] = [(state, [])]
    seen = {state}
    while frontier:
        current, path = frontier.pop(0)
        if path and (current, event) in table:
            return path
        for (source, step), target in table.items():
            if source == current and step != "discarded" and target not in seen:
                seen.add(target)
                frontier.append((target, [*path, step]))
    return None


def _hint(item_kind: str, state: str | None, event: str) -> str:
    """What to do first, e.g. "; dispatch it and receive it at the ward first"; or that the move
    is a repeat (the event leads to the state the item is already in)."""
    if state is not None and state in {t for (_, e), t in TRANSITIONS[item_kind].items() if e == event}:
        return translated(N_("; it is already {state}")).format(state=label(state))
    route = _route(item_kind, state, event)
    if not route:
        return ""
    steps = [translated(_DO_FIRST[step]) for step in route]
    said = steps[0]
    for step in steps[1:-1]:
        said = translated(N_("{steps}, {step}")).format(steps=said, step=step)
    if len(steps) > 1:
        said = translated(N_("{steps} and {step}")).format(steps=said, step=steps[-1])
    return translated(N_("; {steps} first")).format(steps=said)


def impossible_move(item_kind: str, state: str | None, event: str) -> Reason:
    """The named reason for a move the table does not allow, with a hint where one exists."""
    if state in TERMINAL_STATES:
        return Reason(IMPOSSIBLE_MOVE, variant="closed", item_kind=item_kind, event=event, state=state)
    if state is None:
        return Reason(IMPOSSIBLE_MOVE, variant="first", item_kind=item_kind, event=event,
                      hint=_hint(item_kind, state, event))
    return Reason(IMPOSSIBLE_MOVE, item_kind=item_kind, event=event, state=state, hint=_hint(item_kind, state, event))


def apply_event(item_kind: str, state: str | None, event: str) -> str:
    """The state after ``event``, or ``Refused`` (``custody_impossible_move``) for any move not in
    ``TRANSITIONS`` (an impossible move is refused). Terminal states refuse all.
    """
    _check_names(item_kind, state, event)
    new_state = TRANSITIONS[item_kind].get((state, event))
    if new_state is None:
        raise Refused([impossible_move(item_kind, state, event)])
    return new_state


def next_handovers(item_kind: str, state: str | None) -> list[str]:
    """The hand-overs a person may record next for an item in ``state``, in the order of
    ``RECORDABLE_EVENTS``: what a hand-over page offers, so it never offers a move the table refuses."""
    if item_kind not in TRANSITIONS:
        return []
    allowed = {event for (source, event) in TRANSITIONS[item_kind] if source == state}
    return [event for event in RECORDABLE_EVENTS if event in allowed]


DISCARD_NEEDS_REASON = "say why it is discarded"
"""A discard ends the item's chain; why is part of the record (21 CFR 1271.290(b): each HCT/P is tracked
to its final disposition)."""


def guard_recordable_event(event: str) -> None:
    """The custody endpoint records hand-overs only: ``infused`` is written by the infusion service
    after the bedside checks, and ``collected``/``filled`` when the item is registered."""
    if event in SERVICE_EVENTS:
        raise Refused([Reason(NOT_RECORDABLE, event=event)])
    if event in STORAGE_EVENTS:
        raise Refused([Reason(NOT_RECORDABLE, variant="storage", event=event)])
    if event not in RECORDABLE_EVENTS:
        raise Invalid({"event": translated(N_(
            "{event!r} is not one of {choices}")).format(
            event=event, choices=', '.join(RECORDABLE_EVENTS))})


def temperature_excursion(
    temp_c: float, low: float = DEFAULT_RANGES["bag"][0], high: float = DEFAULT_RANGES["bag"][1]
) -> bool:
    """True when ``temp_c`` is outside ``low..high`` (inclusive bounds are acceptable).

    21 CFR 1271.260: temperatures are recorded and excursions documented with corrective action.
    """
    if isinstance(temp_c, bool) or not isinstance(temp_c, int | float) or not math.isfinite(temp_c):
        raise Invalid({"temperature_c": translated(N_(
            "{temp_c!r} is not a temperature in degrees C")).format(
            temp_c=temp_c)})
    return not low <= temp_c <= high


def _event_fields(event: str | Mapping[str, Any]) -> tuple[str, Any, Any]:
    """(event, occurred_at, temperature_c) from an event name or a stored event mapping."""
    if isinstance(event, str):
        return event, None, None
    return event.get("event", ""), event.get("occurred_at"), event.get("temperature_c")


def chain_is_unbroken(
    events: Iterable[str | Mapping[str, Any]], *, item_kind: str = "bag"
) -> tuple[bool, list[Reason]]:
    """Replay an item's events from the first; every impossible move or backwards time is a break.

    Events are names or mappings with ``event`` and optionally ``occurred_at`` (compared when both
    neighbours have one). After a refused move the replay continues from the last good state so that
    every break is reported.
    """
    reasons: list[Reason] = []
    state = INITIAL_STATE[item_kind]
    previous_time = None
    count = 0
    for count, raw in enumerate(events, start=1):
        name, occurred_at, _ = _event_fields(raw)
        if previous_time is not None and occurred_at is not None and occurred_at < previous_time:
            reasons.append(Reason(TIME_REVERSED, variant="chain", count=count, name=name))
        previous_time = occurred_at if occurred_at is not None else previous_time
        try:
            state = apply_event(item_kind, state, name)
        except Refused as refusal:
            # the same refusal, said of the event it stopped at (catalogue key ``code:..._in_chain``)
            reasons.extend(Reason(r.code, f"{r.variant}_in_chain" if r.variant else "in_chain", **r.params,
                                  event_number=count) for r in refusal.reasons)
    if count == 0:
        reasons.append(Reason(CHAIN_EMPTY, item_kind=item_kind))
    return not reasons, reasons


def excursions(
    events: Iterable[Mapping[str, Any]],
    *,
    item_kind: str = "bag",
    ranges: Mapping[str, tuple[float, float]] = DEFAULT_RANGES,
) -> list[Reason]:
    """One ``custody_temperature_excursion`` per event whose recorded temperature is out of range;
    an event without a temperature is not judged here (docs/rules.md, "Ward: chain of custody")."""
    low, high = ranges[item_kind]
    reasons = []
    for count, raw in enumerate(events, start=1):
        name, _, temp = _event_fields(raw)
        if temp is not None and temperature_excursion(temp, low, high):
            reasons.append(Reason(TEMPERATURE_EXCURSION, count=count, event=name, temperature_c=temp, low=low,
                                  high=high))
    return reasons
