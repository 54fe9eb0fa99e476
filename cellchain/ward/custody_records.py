"""Custody events and excursions with what their answers name: the item's code, the people's names.

Each list is read with a fixed number of queries (the items' codes, the people) however many rows it
holds, so a long custody history or excursion list costs no more statements than a short one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from cellchain.core.errors import Reason
from cellchain.manufacturing.models import Bag, Collection
from cellchain.people.models import User
from cellchain.people.rules.roles import Principal
from cellchain.ward import custody
from cellchain.ward.models import CustodyEvent, Excursion


@dataclass(frozen=True)
class EventRecord:
    """A hand-over with its item's code (DIN or bag id) and the person who recorded it."""

    event: CustodyEvent
    item_code: str
    recorder: User | Principal | None


@dataclass(frozen=True)
class ExcursionRecord:
    """An excursion with its item's code and the QA person who decided it (None while open)."""

    excursion: Excursion
    item_code: str
    decider: User | None

    @property
    def range(self) -> tuple[float, float]:
        """The item's allowed temperatures when the excursion was recorded, low and high, in °C."""
        return self.excursion.low_c, self.excursion.high_c


@dataclass(frozen=True)
class ItemCustody:
    """An item's chain: its state, whether the chain is unbroken (and why not), events and excursions."""

    item_code: str
    state: str
    unbroken: bool
    breaks: list[Reason]
    events: list[EventRecord]
    excursions: list[ExcursionRecord]


def _users(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(User.id.in_(wanted)))}


def _codes(session: Session, items: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The code of each (kind, id): one query per kind of item, however many items."""
    wanted: dict[str, set[int]] = {}
    for kind, item_id in items:
        wanted.setdefault(kind, set()).add(item_id)
    codes: dict[tuple[str, int], str] = {}
    if wanted.get("bag"):
        for row_id, code in session.exec(select(Bag.id, Bag.bag_code).where(Bag.id.in_(wanted["bag"]))):
            codes["bag", row_id] = code
    if wanted.get("collection"):
        statement = select(Collection.id, Collection.din).where(Collection.id.in_(wanted["collection"]))
        for row_id, code in session.exec(statement):
            codes["collection", row_id] = code
    return codes


def excursion_records(session: Session, rows: Sequence[Excursion]) -> list[ExcursionRecord]:
    """Excursions of any items, with their codes and deciders read in one query each."""
    codes = _codes(session, ((x.item_type, x.item_id) for x in rows))
    deciders = _users(session, (x.decided_by for x in rows))
    return [ExcursionRecord(x, codes.get((x.item_type, x.item_id), f"{x.item_type} {x.item_id}"),
                            deciders.get(x.decided_by)) for x in rows]


def item_custody(session: Session, kind: str, record: Bag | Collection) -> ItemCustody:
    """The whole chain of one collection or bag, as the custody answers show it."""
    code = record.bag_code if kind == "bag" else record.din
    events = custody.events_of(session, kind, record.id)
    unbroken, breaks = custody.chain_status(session, kind, record.id, events=events)
    excursions = custody.excursions_of(session, kind, record.id)
    people = _users(session, [*(e.recorded_by for e in events), *(x.decided_by for x in excursions)])
    return ItemCustody(code, record.custody_state, unbroken, list(breaks),
                       [EventRecord(e, code, people.get(e.recorded_by)) for e in events],
                       [ExcursionRecord(x, code, people.get(x.decided_by)) for x in excursions])
