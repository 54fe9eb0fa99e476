"""Sentences the system writes into a record, by code: a deviation's description, a hold's cause, an adverse
event drafted from a bedside reaction.

A record the system opens (a visit marked missed, a partial infusion, a bedside refusal, an
out-of-specification result, a hold raised by a result) keeps its sentence as a code and plain values
(``description_code`` and ``description_values``, ``cause_code`` and ``cause_values``), and the sentence is
worded from this catalogue in the reader's language whenever it is shown, so an investigator reading Chinese
and QA reading English read the same deviation each in their own language. Beside them the record keeps the
sentence as worded for the person whose act made it (``description``, ``cause``): the text the audit trail
and any e-signature bind, never reworded. A row from before the codes, and text a person typed, have no code
and read as stored (docs/architecture.md, "Languages").

A value may itself be the words of a check or a refusal (``{"code": ..., "params": ..., "text": ...}``, as a
bedside check is stored): it is worded again too, and read as its stored ``text`` if it no longer words. A
value named in ``CODED`` is a stored code (a reaction's ``severity``) read as its word in the vocabulary
(``labels.label``). A time is kept as the site's clock (``moments.site_clock``), which reads alike in every
language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from cellchain.core.words import N_, checks, labels, reasons, translated

SENTENCES: dict[str, str] = {
    # --- clinical protocol deviations (safety/clinical_deviations.py)
    'missed_visit:infusion': N_('Week {week} infusion visit (window {start} to {end}) marked missed: {reason}'),
    'missed_visit:follow_up': N_('Week {week} follow-up visit (window {start} to {end}) marked missed: {reason}'),
    'partial_infusion': N_(
        "Partial infusion at the week {week} visit: {given:g} ml of bag {bag_code}'s {volume:g} ml given. Reason: "
        "{reason}"
    ),
    'bedside_refused': N_('Bedside check refused bag {bag_code} for {subject_code}: {detail}'),
    # --- manufacturing deviations (quality/deviations.py)
    'oos_result': N_('Out-of-specification result {id}: {test_name}: {value} is OUT OF SPECIFICATION (limit {limit})'),
    # --- holds raised by the software (quality/holds.py, manufacturing/donor_results.py)
    'result_after_release': N_('{test_name} result {result_id} after release is {value} (limit {limit})'),
    'donor_late_positive': N_(
        'late positive maternal {test} result {result_id} on cord {din} ({laboratory}, {date})'
    ),
    # --- adverse events drafted from a reaction the nurse recorded at an infusion's end (safety/drafts.py); the
    # description is the nurse's words as typed, the onset the site's clock
    'reaction_draft': N_(
        'Recorded by the nurse at the end of infusion {infusion_id}: {description} (severity {severity}).'
    ),
    'reaction_draft:onset': N_(
        'Recorded by the nurse at the end of infusion {infusion_id}: {description} (severity {severity}, onset '
        '{onset}).'
    ),
}

# Values kept as a code and read as the vocabulary's word for it (core/words/labels.py).
CODED = frozenset({"severity"})


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: dates and times as ISO text, nested words as their plain dict."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _shown(name: str, value: Any) -> Any:
    if name in CODED:
        return labels.label(value)
    if isinstance(value, Mapping) and "code" in value:
        return checks.reworded(value.get("code"), value.get("params"), str(value.get("text", "")))
    return value


def worded(code: str, values: Mapping[str, Any]) -> str:
    """The sentence ``code`` with ``values``, in the reader's language; an unknown code or a missing value
    is a bug (``KeyError``)."""
    template = translated(SENTENCES[code])
    missing = reasons.placeholders(template) - set(values)
    if missing:
        raise KeyError(f"sentence {code} needs {sorted(missing)}")
    return template.format_map({name: _shown(name, value) for name, value in values.items()})


class Sentence(NamedTuple):
    """A sentence the system writes into a record: its code and plain values, and ``said``, its words in the
    language of the person whose act wrote it (worded when it was made: a write deferred past the request
    keeps them)."""

    code: str
    values: Mapping[str, Any]
    said: str

    @property
    def text(self) -> str:
        """Worded in the reader's language."""
        return worded(self.code, self.values)

    def __str__(self) -> str:
        return self.said


def sentence(code: str, /, **values: Any) -> Sentence:
    """A sentence by ``code``, its values made plain for a JSON column, worded now in the writer's language; a
    bad code or a missing value fails where the record is written, not on a page."""
    plain = {name: _plain(value) for name, value in values.items()}
    return Sentence(code, plain, worded(code, plain))


def words_of(check: Any) -> dict[str, Any]:
    """A check's or refusal's words as a sentence's value: its code and values, and its text as said."""
    return {"code": check.code, "params": _plain(dict(check.params)), "text": check.detail}


def shown(code: str | None, values: Mapping[str, Any] | None, stored: str) -> str:
    """A record's sentence for its reader: worded from its code in the reader's language; a row without a
    code (typed by a person, or written before the codes), or whose words no longer fit, as stored."""
    if not code:
        return stored
    try:
        return worded(code, values or {})
    except (KeyError, ValueError, TypeError, IndexError):
        return stored
