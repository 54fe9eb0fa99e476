"""Issuing Donation Identification Numbers: per facility and year, without gaps or repeats.

The sequence row is locked for the rest of the transaction, so two requests never draw the same
number; a request that is refused rolls its increment back with everything else, so no gap appears.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.identifiers import isbt128
from cellchain.manufacturing.models import DinSequence


def _locked_sequence(session: Session, fin: str, year: int) -> DinSequence:
    statement = (select(DinSequence).where(DinSequence.fin == fin, DinSequence.year == year)
                 .with_for_update().execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is not None:
        return row
    try:  # the first DIN of a year: two requests may both try to open the year's row
        with session.begin_nested():
            session.add(DinSequence(fin=fin, year=year, last_sequence=0))
    except IntegrityError:
        pass
    return session.exec(statement).one()


def issue_din(session: Session, *, fin: str, when: datetime, tz: ZoneInfo) -> str:
    """The next DIN of ``fin`` for the year of ``when`` in the site's zone (the year printed on labels)."""
    year = when.astimezone(tz).year % 100
    row = _locked_sequence(session, fin, year)
    row.last_sequence += 1
    session.add(row)
    session.flush()
    return isbt128.format_din(fin, year, row.last_sequence)
