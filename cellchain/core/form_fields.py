"""Form fields every area's pages share: a time typed as the site's wall clock, a number, a repeated input."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from wtforms import Field
from wtforms.widgets import DateTimeLocalInput, HiddenInput, TextInput

SITE_TIME_FORMAT = "%Y-%m-%dT%H:%M"


def site_zone() -> ZoneInfo:
    """The site's time zone (``SITE_TIMEZONE``): what a clock on the ward or in the lab shows."""
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


class SiteDateTimeField(Field):
    """A ``datetime-local`` input: the browser sends a wall-clock time with no zone, which is the site's.

    ``data`` is an aware datetime (None when left empty, so the operation may default it to now); a stored
    UTC time given as ``default`` or ``data`` is shown back in site time.
    """

    widget = DateTimeLocalInput()

    def __init__(self, label: str | None = None, validators: Any = None,
                 message: str = "give the date and time (site time)", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(self.message) from None
        self.data = moment if moment.tzinfo else moment.replace(tzinfo=site_zone())

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, datetime):
            return self.data.astimezone(site_zone()).strftime(SITE_TIME_FORMAT)
        return ""


class NumberField(Field):
    """An optional decimal number: empty is None, anything else must read as one (``message`` if not)."""

    widget = TextInput()

    def __init__(self, label: str | None = None, validators: Any = None, message: str = "a number",
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = float(text)
        except ValueError:
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


class RepeatedField(Field):
    """Every value posted under one name, in order, blanks dropped (the parts of a bag scanned in two goes)."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [value.strip() for value in valuelist if value.strip()]

    def _value(self) -> str:
        return ""
