"""The ways a rule can say no.

Every refusal carries machine-readable codes and human sentences, because a nurse at the bedside and a
scanner station both need to know *which* rule refused, not merely that something failed. The web layer
maps each kind to one HTTP status in one place (``cellchain.core.error_handlers``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One named reason a rule refused: ``code`` for machines, ``message`` for people."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


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
    """Credentials did not check out, e.g. a wrong password at signing (HTTP 401)."""

    status = 401


class Throttled(DomainError):
    """Too many failed attempts from one place in a short time (HTTP 429); try again after ``retry_after`` s."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
