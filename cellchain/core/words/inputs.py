"""The words of a refused request body: the field messages marshmallow and its validators give, marked.

marshmallow words a bad field in English ("Unknown field.", "Must be one of: {choices}."). The request
schemas (``core/schemas.py`` ``RequestSchema``) swap each such message for its ``Marked`` twin, which is
translated into the reader's language before its values are filled, and the API's edge words a message kept
unfilled (the schema's own "Unknown field.") the same way, so a 400 reads in the reader's language
(docs/architecture.md, "Languages"). A message not listed here stays marshmallow's English.
"""

from __future__ import annotations

from typing import Any

from cellchain.core.words import N_, translated

MESSAGES = frozenset({
    # a schema's own
    N_("Unknown field."), N_("Invalid input type."),
    # any field's
    N_("Missing data for required field."), N_("Field may not be null."), N_("Invalid value."),
    # a field's kind
    N_("Not a valid string."), N_("Not a valid utf-8 string."), N_("Not a valid integer."),
    N_("Not a valid number."), N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."), N_("Not a valid boolean."),
    N_("Not a valid datetime."), N_("Not a valid date."), N_("Not a valid time."), N_("Not a valid list."),
    N_("Not a valid tuple."), N_("Not a valid mapping type."), N_("Invalid type."), N_("Not a valid UUID."),
    N_("Not a valid email address."), N_("Not a valid URL."),
    # validators (OneOf, Range, Length), their values filled after translation
    N_("Must be one of: {choices}."),
    N_("Must be greater than or equal to {min}."), N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."), N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Shorter than minimum length {min}."), N_("Longer than maximum length {max}."),
    N_("Length must be between {min} and {max}."), N_("Length must be {equal}."),
})


class Marked(str):
    """A listed message that marshmallow keeps and fills as any text, worded in the reader's language:
    ``format`` translates the template first and fills the values after; ``words`` gives it unfilled."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        return translated(str.__str__(self)).format(*args, **kwargs)

    def words(self) -> str:
        return translated(str.__str__(self))


def marked(message: Any) -> Any:
    """``message`` as its ``Marked`` twin when it is one of the listed messages, else unchanged."""
    return Marked(message) if isinstance(message, str) and message in MESSAGES else message


def worded(message: Any) -> str:
    """A message of a refused field as the reader reads it: a ``Marked`` one kept unfilled is translated
    here; any other (already filled, or the project's own words) is as it came."""
    return message.words() if isinstance(message, Marked) else str(message)
