"""The ways a rule can say no.

Every refusal carries machine-readable codes and human sentences, because a nurse at the bedside and a
scanner station both need to know *which* rule refused, not merely that something failed. The web layer
maps each kind to one HTTP status in one place (``cellchain.core.error_handlers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cellchain.core.words.reasons import worded

# A parameter is a plain value a translator's template can place: text, a number, a date, or nothing.
Param = str | int | float | bool | None


class Reason:
    """One named reason a rule refused: ``code`` for machines, ``params`` its values, ``message`` for people.

    The words are not written where the rule refuses: they come from one catalogue of templates keyed by
    code (``cellchain.core.words.reasons``), so a later translation replaces the catalogue and nothing
    else. ``variant`` picks another template of the same code where one code covers two situations
    (the catalogue key is ``code:variant``); machines still read ``code`` alone.
    """

    __slots__ = ("code", "params", "variant")

    def __init__(self, code: str, /, variant: str = "", **params: Any) -> None:
        self.code = code
        self.variant = variant
        self.params: Mapping[str, Any] = dict(params)
        worded(self.key, self.params)  # a code without its words, or a missing value, fails where it is raised

    @property
    def key(self) -> str:
        return f"{self.code}:{self.variant}" if self.variant else self.code

    @property
    def message(self) -> str:
        return worded(self.key, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message,
                "params": {k: plain_param(v) for k, v in self.params.items()}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reason) and (self.key, dict(self.params)) == (other.key, dict(other.params))

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Reason({self.key!r}, {dict(self.params)!r})"


def plain_param(value: Any) -> Param:
    """A parameter as JSON carries it: dates and times as ISO text, anything else unusual as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class DomainError(Exception):
    """Base of every refusal raised by domain rules and services."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """Input that cannot be interpreted at all (HTTP 400), with a message per field."""

    status = 400

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        self.fields = dict(fields)
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class Refused(DomainError):
    """Well-formed input that a rule of the product refuses (HTTP 409), listing every reason."""

    status = 409

    def __init__(self, reasons: list[Reason] | Reason, message: str | None = None) -> None:
        self.reasons = [reasons] if isinstance(reasons, Reason) else list(reasons)
        super().__init__(message or "; ".join(r.message for r in self.reasons))


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    """The actor's role or part in the record does not allow the action (HTTP 403)."""

    status = 403


class Unauthenticated(DomainError):
    """Credentials did not check out, e.g. a wrong password at signing (HTTP 401); ``fields`` names the
    input that did not match where there is one (a signature's password)."""

    status = 401

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class Throttled(DomainError):
    """Too many failed attempts from one place in a short time (HTTP 429); try again after ``retry_after`` s."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
