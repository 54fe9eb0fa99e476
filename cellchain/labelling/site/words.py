"""The words a label prints besides its data, in the languages the site prints labels in.

A site sets ``LABEL_LANGUAGES`` (``["zh", "en"]`` for the trial in Beijing): every caption, statement and
status on a label is printed in each of them, in that order, from the one catalogue of the pages
(``cellchain/translations``), read here with plain Babel so that labels render without a Flask app. The
template captions are the English ``text``/``prefix`` of ``labels/*.toml``; the statements and statuses are
listed below. Label words have the catalogue context ``label`` (``msgctxt "label"``), so a caption such as
"Lot" or "TO" is worded for a label whatever a page makes of the same English; ``pybabel extract`` does
not read the TOML files, so tests/labelling/test_label_words.py checks that every label word has its
Chinese. A language whose compiled catalogue is missing is refused rather than printed in English.

The statement a product label carries depends on the jurisdiction of the trial (``LABEL_STATEMENT``):
``cn_clinical_trial`` prints the Chinese clinical-trial statement, ``us_investigational`` the caution of
21 CFR 312.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from babel.support import NullTranslations, Translations

from cellchain.core.config import ROOT

CONTEXT = "label"

CATALOGUES = ROOT / "cellchain" / "translations"
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGES = ("en",)

STATEMENTS = {
    "cn_clinical_trial": "For clinical trial use only",
    "us_investigational": "Caution: New Drug - Limited by Federal (or United States) law to investigational use",
}
# Chinese GMP (2010) calls the state of product stored apart until its release decision 待验, "quarantine".
QUARANTINE = "QUARANTINE"
QUARANTINE_DONOR_PENDING = "QUARANTINE - donor eligibility pending"
QUARANTINE_DONOR_INELIGIBLE = "QUARANTINE - donor ineligible"
TELEPHONE = "Tel. {number}"
MESSAGES = (*STATEMENTS.values(), QUARANTINE, QUARANTINE_DONOR_PENDING, QUARANTINE_DONOR_INELIGIBLE, TELEPHONE)


@lru_cache(maxsize=8)
def _catalogue(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    if not (CATALOGUES / language / "LC_MESSAGES" / "messages.mo").exists():
        raise ValueError(f"no compiled catalogue for label language {language!r} (make compiles it)")
    return Translations.load(str(CATALOGUES), [language])


def check_languages(languages: Sequence[str]) -> tuple[str, ...]:
    """The site's label languages: one or more of ``LANGUAGES``, each once."""
    chosen = tuple(languages)
    if not chosen or len(set(chosen)) != len(chosen) or any(code not in LANGUAGES for code in chosen):
        raise ValueError(f"LABEL_LANGUAGES must list one or more of {', '.join(LANGUAGES)}, each once; "
                         f"got {list(chosen)!r}")
    return chosen


def each(message: str, languages: Sequence[str], **params: str) -> list[str]:
    """``message`` in every label language, in order, without repeats (a code reads the same in both)."""
    out: list[str] = []
    for language in languages or DEFAULT_LANGUAGES:
        text = _catalogue(language).pgettext(CONTEXT, message)
        text = text.format(**params) if params else text
        if text not in out:
            out.append(text)
    return out


def say(message: str, languages: Sequence[str], **params: str) -> str:
    """``message`` in every label language on one line: ``隔离 QUARANTINE``."""
    return " ".join(each(message, languages, **params))


def statement(jurisdiction: str, languages: Sequence[str]) -> str:
    """The product statement of the jurisdiction, one language a line."""
    if jurisdiction not in STATEMENTS:
        raise ValueError(f"LABEL_STATEMENT must be one of {', '.join(sorted(STATEMENTS))}, got {jurisdiction!r}")
    return "\n".join(each(STATEMENTS[jurisdiction], languages))
