"""Shapes shared by every resource: errors, reasons, e-signatures, and the field kinds the API schemas use.

A request schema states the body's shape: it refuses a body that is not an object and any field it does
not name (a 400 naming the field). Fields whose meaning a rule checks (a DIN, a time with its offset, a
dose) are ``Checked...``: documented with their JSON type, handed to the operation as sent, so that the
operation names every bad field of a request at once, with the rule's own words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from cellchain.core.canonical import format_utc
from cellchain.core.db import MAX_PAGE_SIZE, PAGE_SIZE
from cellchain.core.words.inputs import marked

# The validators' own message templates, each worded in the reader's language before its values are filled.
_VALIDATOR_MESSAGES = ("error", "message_min", "message_max", "message_all", "message_equal")


def mark_messages(field: fields.Field) -> None:
    """Give ``field``, its validators and the fields inside it (a list's items, a mapping's keys and values,
    a nested schema's fields) the reader's-language twins of marshmallow's messages (``core/words/inputs.py``)."""
    obj_type = getattr(field, "OBJ_TYPE", None)
    field.error_messages = {
        key: marked(message.replace("{obj_type}", obj_type) if obj_type and isinstance(message, str) else message)
        for key, message in field.error_messages.items()}
    for validator in field.validators:
        for name in _VALIDATOR_MESSAGES:
            if isinstance(getattr(validator, name, None), str):
                setattr(validator, name, marked(getattr(validator, name)))
    inner = [getattr(field, "inner", None), getattr(field, "key_field", None), getattr(field, "value_field", None),
             *getattr(field, "tuple_fields", ())]
    for each in inner:
        if isinstance(each, fields.Field):
            mark_messages(each)
    if isinstance(field, fields.Nested) and not isinstance(field, _AsSent):
        mark_schema(field.schema)


def mark_schema(schema: Schema) -> None:
    if getattr(schema, "_messages_marked", False):
        return
    schema._messages_marked = True
    schema.error_messages = {key: marked(message) for key, message in schema.error_messages.items()}
    for field in schema.fields.values():
        mark_messages(field)


class RequestSchema(Schema):
    """Base of every request body: unknown fields are refused, naming them, and every message of a refused
    field is worded in the reader's language (docs/architecture.md, "Languages")."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mark_schema(self)


class _AsSent:
    """Loads the JSON value unchanged: the operation reads it with the rule that gives it meaning."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        return value


class CheckedString(_AsSent, fields.String):
    pass


class CheckedInteger(_AsSent, fields.Integer):
    pass


class CheckedFloat(_AsSent, fields.Float):
    pass


class CheckedBoolean(_AsSent, fields.Boolean):
    pass


class CheckedDate(_AsSent, fields.Date):
    pass


class CheckedDateTime(_AsSent, fields.DateTime):
    """A time with its UTC offset (a time without one is refused: the site's clock is not the server's)."""


class CheckedList(_AsSent, fields.List):
    pass


class CheckedDict(_AsSent, fields.Dict):
    pass


class CheckedNested(_AsSent, fields.Nested):
    pass


class CheckedRaw(_AsSent, fields.Raw):
    pass


class UtcDateTime(fields.DateTime):
    """Answers carry fixed-width UTC text (``2026-11-25T07:23:24.000123Z``), as the audit trail does."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_utc(value)


class ReasonSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable rule name"})
    message = fields.String(required=True, metadata={"description": "what a person reads"})
    params = fields.Dict(keys=fields.String(), metadata={
        "description": "the values the message is worded from (text, numbers, ISO dates), by name; a client "
                       "words the code itself with them"})


class ErrorSchema(Schema):
    """400: ``fields`` names each bad field; 401, 403, 404, 409: ``reasons`` lists every rule that refused."""

    error = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")
    reasons = fields.List(fields.Nested(ReasonSchema))


class SignatureSchema(Schema):
    """An e-signature, checked like a login at the moment of signing (21 CFR 11.200)."""

    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    meaning = fields.String(required=True, validate=validate.OneOf(
        ["performed", "verified", "reviewed", "approved", "released", "rejected", "accepted", "closed", "authored",
         "administered"]))


def signature_field(**kwargs: Any) -> CheckedNested:
    """An e-signature in a request, checked by the signing rules (their messages name ``field.part``)."""
    return CheckedNested(SignatureSchema, **kwargs)


class SortedStrings(fields.List):
    """A set of names (roles), answered in a stable order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[str] | None:
        return None if value is None else sorted(value)


class RowWith:
    """A record as an answer shows it: its own attributes, and beside them the keys the row does not hold.

    A row refers to others by database id (a bag's ``lot_id`` is an integer); answers name them by their
    public key (the lot number). ``RowWith(bag, lot_id="A9999...")`` lets a schema dump the row and the
    keys loaded with it, so the schema, not a hand-built dict, decides the answer's shape.
    """

    def __init__(self, row: Any, **beside: Any) -> None:
        self._row = row
        self.__dict__.update(beside)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_row":
            raise AttributeError(name)
        return getattr(self._row, name)



class PageQuery(RequestSchema):
    """A list's paging: ``limit`` rows (default 50, at most 200), after the ``cursor`` the previous page gave."""

    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                           metadata={"description": f"rows per page, default {PAGE_SIZE}"})
    cursor = fields.String(metadata={"description": "the previous page's ``next``; opaque, bound to the list and "
                                                    "its filters (any other text is a 400 naming ``cursor``)"})


def next_field() -> fields.String:
    """The ``next`` of a list's answer: the cursor of the page after this one, null on the last page."""
    return fields.String(required=True, allow_none=True,
                         metadata={"description": "pass as ?cursor= for the next page; null on the last page"})


FILE_BODY = {"type": "string", "format": "binary"}
"""The body of a download (PDF, ZPL, CSV): ``@bp.response(200, FILE_BODY, content_type=...)`` documents
its real content type (without a schema the document would fall back to JSON)."""
