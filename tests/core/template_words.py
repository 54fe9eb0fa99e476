"""Finds the words a template writes outside the catalogue: text between tags, the attributes people read
(placeholder, title, aria-label, alt, a button's value) and prose in string literals of Jinja expressions.

Anything found is a string a Chinese reader would see in English. Marks, units, standard names and codes
that read the same in both languages are not words of the catalogue (``SAME_IN_BOTH``).
"""

from __future__ import annotations

import re

# Tokens written the same on a Chinese page: the product's name, standards, units, codes of the trade.
SAME_IN_BOTH = frozenset({
    "cellchain", "ISBT", "DIN", "DINs", "ml", "mL", "kg", "g", "h", "min", "s", "d", "QC", "QA", "MCB", "WCB", "PDF",
    "ZPL", "API", "ID", "UTC", "C", "GS1", "FHIR", "CSV", "SDTM", "CTCAE", "SAE", "AE", "CFR", "GMP", "NCT01690247",
    "ST-001", "P", "x", "e", "mm", "dpi", "IPP", "TCP", "JSON", "CoA", "GTIN", "HLA", "HIV", "HBV", "HCV", "CMV",
    "EBV", "HTLV", "TP", "MSC", "UC-MSC", "SHA-256", "OpenAPI", "E-sign", "ISO", "CD73", "CD90", "CD105", "CD34",
    "CD45", "HLA-DR", "CD14", "CD19", "IU", "EU", "CFU", "pH", "No", "OK", "Ctrl", "Tab", "Enter",
    # a date's format as typed, an example subject id, the trial arm's code ("A": UC-MSC)
    "YYYY-MM-DD", "SUBJ", "A",
})
ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")

_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_ATTRIBUTE = re.compile(r"""\b({})\s*=\s*("[^"]*"|'[^']*')""".format("|".join(ATTRIBUTES)), re.I)
_BUTTON_VALUE = re.compile(r"""<input\b[^>]*type=["']?(?:submit|button)[^>]*>""", re.I)
_VALUE = re.compile(r"""\bvalue\s*=\s*("[^"]*"|'[^']*')""", re.I)
# pgettext's message follows its context: the two are one marked call, not a literal and a loose one.
_LITERAL = re.compile(r"""(?<![\w.])(pgettext\s*\(\s*(?:"[^"]*"|'[^']*')\s*,"""
                      r"""|_|gettext|ngettext|pgettext|lazy_gettext)?\s*\(?\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
# ngettext's plural, its second argument, is marked as its first is.
_NGETTEXT = re.compile(r"""\bngettext\s*\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,\s*""")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")


def _words(text: str) -> list[str]:
    text = _ENTITY.sub(" ", text)
    return [w for w in _WORD.findall(text) if w not in SAME_IN_BOTH and w.strip("'’-") not in SAME_IN_BOTH]


def _prose_literal(literal: str) -> bool:
    """A string literal in an expression that is prose, not a code, a URL name, a class or a format."""
    body = literal[1:-1]
    if "%" in body and not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", body):
        return False  # a strftime or printf format
    if re.fullmatch(r"[a-z0-9_.:/\-#?=&$]*", body):
        return False  # a code, an endpoint, a path, a CSS class, a JSON key ("$ref")
    if re.fullmatch(r"[a-z0-9_\- ]*", body) and " " in body and not re.search(r"[a-z]{2,} [a-z]{2,} [a-z]{2,}", body):
        return False  # CSS classes ("badge bad")
    return bool(_words(body))


def untranslated(source: str) -> list[str]:
    """Every piece of a template's source a reader would see untranslated."""
    found: list[str] = []
    source = _COMMENT.sub(" ", source)
    source = _HTML_COMMENT.sub(" ", source)
    source = _SCRIPT.sub(" ", source)
    for expression in _JINJA.findall(source):
        expression = _NGETTEXT.sub(r"ngettext(\1, _", expression)
        for match in _LITERAL.finditer(expression):
            if match.group(1) is None and _prose_literal(match.group(2)):
                found.append(match.group(2))
    plain = _JINJA.sub(" ", source)
    for tag in _TAG.findall(plain):
        for _, value in _ATTRIBUTE.findall(tag):
            if _words(value[1:-1]):
                found.append(value)
    for tag in _BUTTON_VALUE.findall(plain):
        for value in _VALUE.findall(tag):
            if _words(value[1:-1]):
                found.append(value)
    for text in _TAG.split(plain):
        text = " ".join(text.split())
        if _words(text):
            found.append(text)
    return found
