"""Page forms: the base every area's form extends, and the one way a refused post is shown again.

A form parses and type-checks what was typed; the operation it feeds keeps the rules (``Invalid`` with
field names, ``Refused`` with reasons). Either refusal shows the same page again with the reasons, what
the person typed still in the fields (never a password), and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from cellchain.core import db
from cellchain.core.errors import DomainError, Invalid, Reason, Refused, Unauthenticated

# What a page shows on the page itself; anything else (403, 404) is the error page.
PAGE_REFUSALS: tuple[type[DomainError], ...] = (Invalid, Refused, Unauthenticated)


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
        return cls(error.status, error.message, dict(getattr(error, "fields", None) or {}),
                   list(getattr(error, "reasons", None) or []))


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
