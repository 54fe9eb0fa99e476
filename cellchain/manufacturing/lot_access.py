"""Finding and locking a lot, shared by the lot, batch-record and fill use cases.

Every use case that decides on a lot's state (a passage, a step, a fill) locks the lot's row first
(docs/rules.md, "Races"): two requests on two servers then decide one after the other, each seeing what the
other wrote, instead of both deciding on the same stale row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.core.errors import Invalid, Reason
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import BatchStep, Lot, Passage
from cellchain.manufacturing.rules.corrections import effective
from cellchain.people.models import User

LOT_NOT_IN_PROCESS = "lot_not_in_process"


def _lot_number(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 20:
        raise Invalid({"lot_id": translated(N_(
            "give the lot id (its cord's DIN, or <DIN>-L<nn> for a lot thawed from a vial)"))})
    return value.strip()


def get_lot(session: Session, lot_number: Any) -> Lot:
    return lookups.lot_by_number(session, _lot_number(lot_number))


def lock_lot(session: Session, lot_number: Any) -> Lot:
    """The lot's row, locked until the transaction ends and re-read so its state is current."""
    return lookups.lot_by_number(session, _lot_number(lot_number), for_update=True)


def not_in_process(lot: Lot, action: str) -> list[Reason]:
    """Manufacturing records are added only while the lot is in process (before it is filled)."""
    if lot.status == "in_process":
        return []
    return [Reason(LOT_NOT_IN_PROCESS, lot_number=lot.lot_number, status=lot.status, action=action)]


def effective_passages(session: Session, lot_id: int) -> list[Passage]:
    """The lot's passages in order; a passage corrected by a later row is replaced by that row."""
    rows = session.exec(select(Passage).where(Passage.lot_id == lot_id).order_by(Passage.id))
    return sorted(effective(rows), key=lambda r: r.number)


def effective_steps(session: Session, lot_id: int) -> list[BatchStep]:
    """The lot's batch steps in the order recorded, without the ones a later row corrects."""
    return effective(session.exec(select(BatchStep).where(BatchStep.lot_id == lot_id).order_by(BatchStep.id)))


def moment(data: Any, name: str, *, default: datetime | None = None) -> datetime:
    """An ISO 8601 time with an offset from ``data[name]`` (``default`` when absent), as every stated time
    must be (core/timeinput.check_stated_times: not in the future, not before 2000)."""
    value = data.get(name) if hasattr(data, "get") else None
    if value in (None, ""):
        if default is None:
            raise Invalid({name: translated(N_("is required"))})
        return default
    when = parse_instant(value, name)
    check_stated_times({name: when}, now=utcnow())
    return when



def optional_moment(data: Any, name: str) -> datetime | None:
    """Like :func:`moment`, but an absent time stays ``None``."""
    value = data.get(name) if hasattr(data, "get") else None
    return None if value in (None, "") else moment(data, name)


def people(session: Session, ids: set[int | None]) -> dict[int, User]:
    """Users by id, for printing names next to what they did."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(User.id.in_(wanted)))}
