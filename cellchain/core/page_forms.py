"""Page forms: the base every area's form extends, the fields all pages share (a time typed as the
site's wall clock, a number, a repeated input), and the one way a refused post is shown again.

A form parses and type-checks what was typed; the operation it feeds keeps the rules (``Invalid`` with
field names, ``Refused`` with reasons). Either refusal shows the same page again with the reasons, what
the person typed still in the fields (never a password), and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.widgets import HiddenInput, TextInput

from cellchain.core import db
from cellchain.core.errors import DomainError, Forbidden, Invalid, NotFound, Reason, Refused, Unauthenticated
from cellchain.core.fields import number_as_typed

# Pages show site time as YYYY-MM-DD HH:MM; inputs show and take the same (a browser's own date picker
# follows its locale, e.g. mm/dd/yyyy, so time inputs are text with this pattern).
SITE_TIME_FORMAT = "%Y-%m-%d %H:%M"
SITE_TIME_INPUT = {"inputmode": "numeric", "placeholder": "YYYY-MM-DD HH:MM",
                   "pattern": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", "title": "YYYY-MM-DD HH:MM (site time)"}


def site_zone() -> ZoneInfo:
    """The site's time zone (``SITE_TIMEZONE``): what a clock on the ward or in the lab shows."""
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


class _ReadField(Field):
    """An optional typed input: empty is None, anything else must read as ``read`` says (``message`` if not);
    what was typed is shown back as typed, a stored value as ``show`` writes it."""

    default_message = "not readable"

    def __init__(self, label: str | None = None, validators: Any = None, message: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.message = message or self.default_message

    def read(self, text: str) -> Any:
        raise NotImplementedError

    def show(self, value: Any) -> str:
        return str(value)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = self.read(text)
        except ValueError:
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.show(self.data)


class SiteDateTimeField(_ReadField):
    """A site-time input (``YYYY-MM-DD HH:MM``, a ``T`` also read): a wall-clock time with no zone, the site's.

    ``data`` is an aware datetime (None when left empty, so the operation may default it to now); a stored
    UTC time given as ``default`` or ``data`` is shown back in site time.
    """

    widget = TextInput()
    default_message = "give the date and time as YYYY-MM-DD HH:MM (site time)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["render_kw"] = {**SITE_TIME_INPUT, **(kwargs.get("render_kw") or {})}
        super().__init__(*args, **kwargs)

    def read(self, text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=site_zone())

    def show(self, value: Any) -> str:
        return value.astimezone(site_zone()).strftime(SITE_TIME_FORMAT) if isinstance(value, datetime) else ""


class NumberField(_ReadField):
    """An optional decimal number."""

    widget = TextInput()
    default_message = "a number"

    def read(self, text: str) -> float:
        value = number_as_typed(text)
        if value is None:
            raise ValueError(text)
        return value

    def show(self, value: Any) -> str:
        return f"{value:g}"


class RepeatedField(Field):
    """Every value posted under one name, in order, blanks dropped (the parts of a bag scanned in two goes)."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [value.strip() for value in valuelist if value.strip()]

    def _value(self) -> str:
        return ""


# What a page shows on the page itself, above the form and with what was typed: every refusal of the post
# (a wrong signature password, a mistyped bag, a record-level "not you"). A page that cannot be shown
# again (its own record does not exist) still ends on the error page.
PAGE_REFUSALS: tuple[type[DomainError], ...] = (Invalid, Refused, Unauthenticated, Forbidden, NotFound)
# The code a refusal without reasons or fields is listed under on the page (cellchain/core/words/reasons.py).
_KIND_CODES = {NotFound: "not_found", Forbidden: "not_allowed", Unauthenticated: "wrong_password"}


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def text_field(label: str = "", **kwargs: Any) -> StringField:
    """A text input, trimmed: a scanner or a paste adds spaces no one means."""
    return StringField(label, filters=[strip], **kwargs)


class PageForm(FlaskForm):
    """A page's form. ``get`` gives back what was typed, so a template refills its inputs after a refusal."""

    def get(self, name: str, default: Any = "") -> Any:
        """What was typed into ``name`` in this post; never a password."""
        if isinstance(self._fields.get(name), PasswordField) or request.method != "POST":
            return default
        return request.form.get(name, default)

    def values(self) -> dict[str, Any]:
        """Every field's parsed value by input name, as an operation that reads a mapping takes it."""
        return {f.name: f.data for f in self if f.name != "csrf_token"}

    def field_errors(self) -> dict[str, str]:
        return {name: "; ".join(str(m) for m in messages) for name, messages in self.errors.items()
                if name != "csrf_token"}

    def check(self) -> None:
        """Parse every field; refuse once (400) naming every field that could not be read."""
        if not self.validate() and self.field_errors():
            raise Invalid(self.field_errors())


@dataclass(frozen=True)
class Refusal:
    """A refusal as a page shows it above the form it came from: the message, each field, each reason."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)

    @classmethod
    def of(cls, error: DomainError) -> Refusal:
        fields, reasons = dict(getattr(error, "fields", None) or {}), list(getattr(error, "reasons", None) or [])
        if not fields and not reasons:  # say it where the page lists reasons, not only in a title
            reasons = [Reason(_KIND_CODES.get(type(error), "not_allowed"), detail=error.message)]
        return cls(error.status, error.message, fields, reasons)


def submit(form: PageForm | None, action: Callable[[], Any], again: Callable[[Refusal], Any], *,
           refusals: tuple[type[DomainError], ...] = PAGE_REFUSALS) -> Any:
    """Check the form, then run the operation; on a refusal roll back and show the page again.

    ``again`` renders the page the form is on with the refusal; the status is the refusal's: 400 for
    input that cannot be read, 409 for a rule, 401 for a wrong signature password.
    """
    try:
        if form is not None:
            form.check()
        return action()
    except refusals as error:
        db.rollback()
        refusal = Refusal.of(error)
        return again(refusal), refusal.status
