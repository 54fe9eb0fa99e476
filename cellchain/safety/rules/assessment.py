"""Reading and checking an adverse event's assessment (docs/rules.md, "Safety: adverse events").

``read`` takes what a page or the API sent and names every field it cannot take (``Invalid``); ``conflicts``
names every assessment that contradicts itself (``Refused`` reasons); ``missing_for_confirmation`` lists what
a draft still lacks before the investigator may sign it. Plain Python: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from cellchain.core.errors import Invalid, Reason
from cellchain.core.timeinput import parse_instant
from cellchain.core.words import N_, joined, translated
from cellchain.safety.rules.terms import (
    ACTIONS,
    CATEGORIES,
    CAUSALITY,
    EXPECTEDNESS,
    FATAL_GRADE,
    GRADES,
    OUTCOMES,
    RESOLVED_OUTCOMES,
    SERIOUSNESS,
    SPECIAL_INTEREST,
)

MAX_TERM = 200
MAX_TEXT = 2000
FIELDS = ("term", "category", "description", "onset_on", "resolved_on", "grade", "seriousness", "causality",
          "expectedness", "action_taken", "outcome", "biopsy_proven", "rejection_treatment", "aware_at")
"""What an assessment holds; an amendment may send any of them."""
NEEDED_TO_CONFIRM = ("onset_on", "grade", "causality", "expectedness", "action_taken", "outcome")

FATAL_EVENT_INCONSISTENT = "fatal_event_inconsistent"
RESOLUTION_BEFORE_ONSET = "resolution_before_onset"
RESOLUTION_OUTCOME_MISMATCH = "resolution_outcome_mismatch"
AWARENESS_BEFORE_ONSET = "awareness_before_onset"
AWARENESS_IN_FUTURE = "awareness_in_future"
ONSET_IN_FUTURE = "onset_in_future"
RESOLUTION_IN_FUTURE = "resolution_in_future"
ASSESSMENT_INCOMPLETE = "assessment_incomplete"


@dataclass(frozen=True)
class Assessment:
    """An adverse event as recorded: what happened, how bad, whether serious, related, expected, and how it ended."""

    term: str
    category: str
    description: str | None
    onset_on: date | None
    resolved_on: date | None
    grade: int | None
    seriousness: tuple[str, ...]
    causality: str | None
    expectedness: str | None
    action_taken: str | None
    outcome: str | None
    biopsy_proven: bool | None
    rejection_treatment: str | None
    aware_at: datetime

    @property
    def serious(self) -> bool:
        """Serious when it meets any ICH E2A criterion (docs/rules.md)."""
        return bool(self.seriousness)

    @property
    def special_interest(self) -> bool:
        return self.category in SPECIAL_INTEREST

    def as_record(self) -> dict[str, Any]:
        """Plain values (dates and times as ISO text) for a version snapshot, an audit entry and a signature."""
        values = asdict(self)
        values["seriousness"] = list(self.seriousness)
        for name in ("onset_on", "resolved_on", "aware_at"):
            values[name] = None if values[name] is None else values[name].isoformat()
        return values


def _text(value: Any, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise ValueError
    return value.strip()


def _code(value: Any, table: Mapping[str, str]) -> str | None:
    if value is None or value == "":
        return None
    if value not in table:
        raise ValueError
    return value


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError
    return date.fromisoformat(value)


def _grade(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in GRADES:
        raise ValueError
    return value


def _yes_no(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "true", "no", "false"):
        return value.lower() in ("yes", "true")
    raise ValueError


def _criteria(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, list | tuple) or any(item not in SERIOUSNESS for item in value):
        raise ValueError
    return tuple(sorted(set(value), key=list(SERIOUSNESS).index))


# Each field's reader, and the words a refusal of it says: a template marked for the catalogue and its values,
# worded in the reader's language when the refusal is made (docs/architecture.md, "Languages").
READERS: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "term": (lambda v: _text(v, MAX_TERM), N_("the event's term, e.g. 'fever' (up to {max_term} characters)"),
             {"max_term": MAX_TERM}),
    "category": (lambda v: _code(v, CATEGORIES), N_("one of {choices}"), {"choices": ", ".join(CATEGORIES)}),
    "description": (lambda v: _text(v, MAX_TEXT), N_("up to {max_reason} characters"), {"max_reason": MAX_TEXT}),
    "onset_on": (_date, N_("the onset date, YYYY-MM-DD"), {}),
    "resolved_on": (_date, N_("the resolution date, YYYY-MM-DD, or empty while not resolved"), {}),
    "grade": (_grade, N_("the CTCAE grade, 1 to 5"), {}),
    "seriousness": (_criteria, N_("a list of ICH E2A criteria met (empty: not serious): {choices}"),
                    {"choices": ", ".join(SERIOUSNESS)}),
    "causality": (lambda v: _code(v, CAUSALITY), N_("WHO-UMC category: one of {choices}"),
                  {"choices": ", ".join(CAUSALITY)}),
    "expectedness": (lambda v: _code(v, EXPECTEDNESS), N_("one of {choices}"), {"choices": ", ".join(EXPECTEDNESS)}),
    "action_taken": (lambda v: _code(v, ACTIONS), N_("action with the study product: one of {choices}"),
                     {"choices": ", ".join(ACTIONS)}),
    "outcome": (lambda v: _code(v, OUTCOMES), N_("one of {choices}"), {"choices": ", ".join(OUTCOMES)}),
    "biopsy_proven": (_yes_no, N_("true or false (acute rejection: was it proven by biopsy?)"), {}),
    "rejection_treatment": (lambda v: _text(v, MAX_TEXT), N_("the treatment given, up to {max_text} characters"),
                            {"max_text": MAX_TEXT}),
}


def read(data: Mapping[str, Any], *, base: Assessment | None = None, now: datetime) -> Assessment:
    """The assessment ``data`` describes; with ``base``, only the fields ``data`` names change (an amendment).

    Every field that cannot be read is named at once (400). A term and a category are always needed; the
    rest may wait for the investigator's assessment. Awareness defaults to ``now``.
    """
    values: dict[str, Any] = asdict(base) if base is not None else {}
    fields: dict[str, str] = {}
    for name, (reader, message, words) in READERS.items():
        if base is not None and name not in data:
            continue
        try:
            values[name] = reader(data.get(name))
        except (ValueError, TypeError):
            fields[name] = translated(message).format(**words)
    if "aware_at" in data or base is None:
        raw = data.get("aware_at")
        if raw in (None, ""):
            values["aware_at"] = base.aware_at if base is not None else now
        else:
            try:
                values["aware_at"] = parse_instant(raw, "aware_at")
            except Invalid as refusal:
                fields.update(refusal.fields)
            except OverflowError:  # year 1 with a positive offset falls before the first UTC day
                fields["aware_at"] = translated(N_("a time the calendar holds, e.g. 2026-11-25T08:30:00+08:00"))
    for name in ("term", "category"):
        if name not in fields and not values.get(name):
            _reader, message, words = READERS[name]
            fields[name] = translated(message).format(**words)
    if fields:
        raise Invalid(fields)
    values["seriousness"] = tuple(values.get("seriousness") or ())
    return Assessment(**values)


def _listed(names: Iterable[str]) -> str:
    """Names marked ``N_`` as one list in the reader's language ("grade 5, outcome fatal")."""
    return joined((translated(name) for name in names), N_("{items}, {item}"))


def conflicts(event: Assessment, *, now: datetime, site_today: date) -> list[Reason]:
    """Every way the assessment contradicts itself, each a named reason (409)."""
    reasons = []
    fatal = {N_("grade 5"): event.grade == FATAL_GRADE, N_("outcome fatal"): event.outcome == "fatal",
             N_("seriousness criterion death"): "death" in event.seriousness}
    if any(fatal.values()) and not all(fatal.values()):
        given = _listed(name for name, present in fatal.items() if present)
        missing = _listed(name for name, present in fatal.items() if not present)
        reasons.append(Reason(FATAL_EVENT_INCONSISTENT, given=given, missing=missing))
    if event.onset_on and event.resolved_on and event.resolved_on < event.onset_on:
        reasons.append(Reason(RESOLUTION_BEFORE_ONSET, resolved_on=event.resolved_on, onset_on=event.onset_on))
    if event.outcome in RESOLVED_OUTCOMES and event.resolved_on is None:
        reasons.append(Reason(RESOLUTION_OUTCOME_MISMATCH, outcome=event.outcome))
    elif event.resolved_on is not None and event.outcome not in (*RESOLVED_OUTCOMES, None):
        reasons.append(Reason(RESOLUTION_OUTCOME_MISMATCH, variant="resolved", outcome=event.outcome))
    if event.onset_on and event.onset_on > site_today:
        reasons.append(Reason(ONSET_IN_FUTURE, onset_on=event.onset_on))
    elif event.onset_on and (event.onset_on - event.aware_at.date()).days > 1:  # a day's slack: UTC vs site date
        reasons.append(Reason(AWARENESS_BEFORE_ONSET, aware_on=event.aware_at.date(), onset_on=event.onset_on))
    if event.resolved_on and event.resolved_on > site_today:
        reasons.append(Reason(RESOLUTION_IN_FUTURE, resolved_on=event.resolved_on))
    if event.aware_at > now:
        reasons.append(Reason(AWARENESS_IN_FUTURE))
    return reasons


def missing_for_confirmation(event: Assessment) -> list[str]:
    """The fields a draft still lacks before the investigator signs it; acute rejection also needs whether it
    was biopsy-proven and the treatment given (the trial's event of special interest)."""
    missing = [name for name in NEEDED_TO_CONFIRM if getattr(event, name) is None]
    if event.special_interest:
        missing += [name for name in ("biopsy_proven", "rejection_treatment") if getattr(event, name) is None]
    return missing


def incomplete(missing: list[str]) -> Reason:
    return Reason(ASSESSMENT_INCOMPLETE, missing=", ".join(missing))
