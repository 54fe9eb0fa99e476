"""The words people read: refusal messages by code, labels for stored codes, numbers written for reading.

Pure Python (no Flask, no SQLAlchemy): rules, operations, PDFs and page templates all word things the
same way. The catalogues hold English templates marked ``N_``; ``translated`` looks each up in the reader's
language when it is shown, through the translator the languages package installs
(``cellchain/languages/selection.py``; docs/architecture.md, "Languages").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def N_(message: str) -> str:
    """Mark an English template for the catalogue; it is translated where it is shown."""
    return message


def _same(message: str) -> str:
    return message


_translator: list[Callable[[str], str]] = [_same]


def install_translator(translate: Callable[[str], str]) -> None:
    """The app's gettext: looks a catalogue message up in the reader's language (English outside a request)."""
    _translator[0] = translate


def translated(message: str) -> str:
    """``message`` in the reader's language; the English itself where the catalogue has no translation."""
    return _translator[0](message)


def joined(words: Iterable[str], joiner: str) -> str:
    """Words already in the reader's language as one phrase, folded left by ``joiner``, a marked template
    with ``{items}`` (the words so far) and ``{item}`` (the next): each language orders and punctuates its
    lists and alternatives in its own catalogue entry ("A, B" / "A、B"; "A or B" / "A或B")."""
    pattern = translated(joiner)
    words = list(words)
    phrase = words[0] if words else ""
    for word in words[1:]:
        phrase = pattern.format(items=phrase, item=word)
    return phrase
