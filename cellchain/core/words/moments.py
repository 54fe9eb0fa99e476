"""Times as people at the site read them: the site's clock with its offset from UTC.

An offset ("UTC+08:00") says the same thing in every country; a zone abbreviation does not ("CST" is China
Standard Time in Beijing and Central Standard Time in Chicago), so none is ever written
(docs/architecture.md, "Languages").
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def utc_offset(moment: datetime, tz: ZoneInfo, *, compact: bool = False) -> str:
    """The zone's offset at that moment: ``UTC+08:00``, or ``UTC+8`` where a label has room for no more."""
    offset = moment.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    if compact:
        return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def site_clock(moment: datetime, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M", *, compact: bool = False) -> str:
    """``2026-11-26 12:00 UTC+08:00``: the site's clock and its offset."""
    return f"{moment.astimezone(tz).strftime(fmt)} {utc_offset(moment, tz, compact=compact)}"
