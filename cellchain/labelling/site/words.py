"""The words a label prints, in the languages the site prints labels in.

A site sets ``LABEL_LANGUAGES`` (``["zh", "en"]`` for the trial in Beijing): every caption, statement, status
and word of a value on a label is printed in each of them, in that order, from the one catalogue of the pages
(``cellchain/translations``), read here with plain Babel so that labels render without a Flask app. The
template captions are the English ``text``/``prefix`` of ``labels/*.toml``; the statements, statuses and the
words ``labelling/data.py`` builds values with are listed below. Label words have the catalogue context
``label`` (``msgctxt "label"``), so a caption such as "Lot" or "TO" is worded for a label whatever a page
makes of the same English; ``pybabel extract`` reads neither the TOML files nor these constants, so
tests/labelling/test_site_labels.py checks that every label word has its Chinese. A language whose compiled
catalogue is missing is refused rather than printed in English.

Values print in two shapes. A sentence (a storage instruction, a product description) prints whole in each
language, one language a line (``lines``), like the statement. A value that is a number or code with words
around it prints the words in each language around the number, which prints once (``say``: "7.2 x 10^7 个细胞
cells", "抗凝剂 Anticoagulant: ACD-A 5 mL"), as a caption and its value do.

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

# --- the words of values (labelling/data.py, labelling/place_labels.py) ----------------------------------------
# sentences, one language a line
STORE_AT = "Store at {low} °C to {high} °C"
STORE_FROZEN = "Store frozen at or below -150 °C (vapour-phase liquid nitrogen)"
THAWED = "THAWED {moment}; do not refreeze"
KEEP_AT = "Keep at {low} °C to {high} °C"
COLLECTION_DESCRIPTION = "Human umbilical cord for UC-MSC manufacture"
TRIAL = "Clinical trial {trial} - investigational use only"
# words beside a number or code, which prints once
CELLS = "cells"
NO_CELLS = "No cells (placebo)"
ANTICOAGULANT = "Anticoagulant:"
NO_ANTICOAGULANT = "No anticoagulant recorded"
SODIUM_CHLORIDE = "sodium chloride"
LOT = "lot"
VESSEL_OF = "{number} of {count}"
SEEDED = "Seeded"
LABELLED = "Labelled"
TEST = "Test:"
SPEC = "Spec"
FROZEN_AT = "frozen at"
FROZEN = "Frozen"
BAG = "bag"
BAGS = "bags"
STORAGE_BOX = "STORAGE BOX"
POSITION = "POSITION"
RACK_SHELF = "RACK / SHELF"
STORAGE_UNIT = "unit"
VALUE_WORDS = (STORE_AT, STORE_FROZEN, THAWED, KEEP_AT, COLLECTION_DESCRIPTION, TRIAL, CELLS, NO_CELLS,
               ANTICOAGULANT, NO_ANTICOAGULANT, SODIUM_CHLORIDE, LOT, VESSEL_OF, SEEDED, LABELLED, TEST, SPEC,
               FROZEN_AT, FROZEN, BAG, BAGS, STORAGE_BOX, POSITION, RACK_SHELF, STORAGE_UNIT)
MESSAGES = (*STATEMENTS.values(), QUARANTINE, QUARANTINE_DONOR_PENDING, QUARANTINE_DONOR_INELIGIBLE, TELEPHONE,
            *VALUE_WORDS)


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
    """``message`` in every label language on one line: ``待验 QUARANTINE``."""
    return " ".join(each(message, languages, **params))


def lines(message: str, languages: Sequence[str], **params: str) -> str:
    """``message`` in every label language, one language a line: a sentence, printed whole in each."""
    return "\n".join(each(message, languages, **params))


def statement(jurisdiction: str, languages: Sequence[str]) -> str:
    """The product statement of the jurisdiction, one language a line."""
    if jurisdiction not in STATEMENTS:
        raise ValueError(f"LABEL_STATEMENT must be one of {', '.join(sorted(STATEMENTS))}, got {jurisdiction!r}")
    return lines(STATEMENTS[jurisdiction], languages)
