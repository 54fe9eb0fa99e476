"""Page forms: the base every area's form extends, the fields all pages share (a time typed as the
site's wall clock, a number, a repeated input), and the one way a post is recorded once and its refusal
shown again.

A form parses and type-checks what was typed; the operation it feeds keeps the rules (``Invalid`` with
field names, ``Refused`` with reasons). Either refusal shows the same page again with the reasons, what
the person typed still in the fields (never a password), and nothing written.

Every rendered form carries a one-time submission id (the ``csrf()`` macro of templates/macros.html puts
it beside the CSRF token, which lasts the whole session). ``submit`` claims it in the write's own
transaction: a second post of the same form (a double tap, the back button, a re-sent request) writes
nothing and goes to the page the first one led to. A post that succeeds answers 303 See Other with the
page that shows its result (post/redirect/get), so going back or reloading never posts again
(docs/architecture.md, "How a request flows").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, flash, g, redirect, request
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.widgets import HiddenInput, TextInput

from cellchain.core import db
from cellchain.core.errors import DomainError, Forbidden, Invalid, NotFound, Reason, Refused, Unauthenticated
from cellchain.core.fields import number_as_typed
from cellchain.core.submissions import ledger
from cellchain.core.words import N_, translated
from cellchain.core.words.moments import site_clock
from cellchain.core.words.notes import note

# Pages show site time as YYYY-MM-DD HH:MM; inputs show and take the same (a browser's own date picker
# follows its locale, e.g. mm/dd/yyyy, so time inputs are text with this pattern).
SITE_TIME_FORMAT = "%Y-%m-%d %H:%M"
SITE_TIME_INPUT = {"inputmode": "numeric", "placeholder": "YYYY-MM-DD HH:MM",
                   "pattern": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", "title": "YYYY-MM-DD HH:MM (site time)"}
SUBMISSION_FIELD = "submission_id"  # the hidden input the csrf() macro renders
# Framework inputs, not the person's: never handed to an operation.
_NOT_INPUT = ("csrf_token", SUBMISSION_FIELD)


def site_zone() -> ZoneInfo:
    """The site's time zone (``SITE_TIMEZONE``): what a clock on the ward or in the lab shows."""
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


class _ReadField(Field):
    """An optional typed input: empty is None, anything else must read as ``read`` says (``message`` if not);
    what was typed is shown back as typed, a stored value as ``show`` writes it."""

    default_message = N_("not readable")

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
            raise ValueError(translated(self.message)) from None

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
    default_message = N_("give the date and time as YYYY-MM-DD HH:MM (site time)")

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
    default_message = N_("a number")

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
        return {f.name: f.data for f in self if f.name not in _NOT_INPUT}

    def field_errors(self) -> dict[str, str]:
        return {name: "; ".join(str(m) for m in messages) for name, messages in self.errors.items()
                if name not in _NOT_INPUT}

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


def new_submission_id() -> str:
    """The one-time id of a form being rendered (a template global, used by the csrf() macro)."""
    return ledger.new_id()


def _claim() -> ledger.FormSubmission | ledger.Earlier:
    text = request.form.get(SUBMISSION_FIELD, "")
    if not ledger.ID_PATTERN.fullmatch(text):
        raise Invalid({SUBMISSION_FIELD: translated(N_(
            "this form carries no valid submission id: open the page again and send the form from there"))})
    return ledger.claim(db.session(), submission_id=text, user_id=g.user.id, endpoint=request.endpoint or "")


def _already_recorded(earlier: ledger.Earlier) -> Response:
    when = site_clock(earlier.submitted_at, site_zone())
    flash(note("already_recorded", when=when), "info")
    return redirect(earlier.location, code=303)


def _see_other(result: Any) -> Any:
    """A success's redirect as 303: the browser then GETs the result page, and back or reload never re-posts."""
    if isinstance(result, Response) and result.status_code in (301, 302, 307):
        result.status_code = 303
    return result


def submit(form: PageForm | None, action: Callable[[], Any], again: Callable[[Refusal], Any], *,
           refusals: tuple[type[DomainError], ...] = PAGE_REFUSALS, result_page: str | None = None) -> Any:
    """Check the form, claim its submission id, run the operation; on a refusal roll back and show the page again.

    ``action`` writes and answers with a redirect to the page that shows what it recorded (sent as 303). A
    second post of the same submission id writes nothing and is sent to where the first post led, with a
    note that it was already recorded. An action that answers with a download instead names the page a
    repeated post goes to, ``result_page``; an action that answers with a page of its own wrote nothing (a
    preview, a question back) and leaves the id unused.

    ``again`` renders the page the form is on with the refusal; the status is the refusal's: 400 for
    input that cannot be read, 409 for a rule, 401 for a wrong signature password. A form on a list (a
    label's status among the item's labels) shows the list's page again with that row's form refilled.
    """
    try:
        if form is not None:
            form.check()
        claimed = _claim()
        if isinstance(claimed, ledger.Earlier):
            return _already_recorded(claimed)
        result = action()
        location = result.location if isinstance(result, Response) and result.status_code in (301, 302, 303, 307) \
            else result_page
        if location:
            ledger.settle(db.session(), claimed, location)
        else:
            ledger.release(db.session(), claimed)
        return _see_other(result)
    except refusals as error:
        if isinstance(error, ledger.SubmissionRefused):
            raise  # not about what was typed: the error page (409) says why, whatever page the form is on
        db.rollback()
        refusal = Refusal.of(error)
        page = again(refusal)
        if isinstance(page, Response) and page.status_code in (302, 303):
            return page  # a form whose refusal is a note on another page (flashed there), nothing written
        return page, refusal.status
