"""A subject's lifecycle in the trial (docs/rules.md, "Trial: the subject's lifecycle").

screened -> screen_failed or eligible -> randomized -> on_treatment (the first infusion starts) ->
treatment_completed (the last infusion visit is done) -> study_completed (the last follow-up visit is done).
At any point in the study a subject may be withdrawn (with a reason) or die; a withdrawn subject may still
die (the death is learnt during follow-up). screen_failed, study_completed and died end the record: nothing
moves from them. Plain Python: the operations (``trial/lifecycle.py``, ``trial/visits.py``) store the state.

Decisions:

- Study completion is the last follow-up visit done, never an investigator's "close": a subject who
  leaves before the last visit is withdrawn, with the reason (investigator decision), so every early end
  is counted as one.
- Follow-up visits continue after a withdrawal only for ``investigator_decision`` (the subject agreed to be
  followed for safety); consent withdrawn and lost to follow-up cancel them, as does a death.
"""

from __future__ import annotations

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated

SCREENED = "screened"
SCREEN_FAILED = "screen_failed"
ELIGIBLE = "eligible"
RANDOMIZED = "randomized"
ON_TREATMENT = "on_treatment"
TREATMENT_COMPLETED = "treatment_completed"
STUDY_COMPLETED = "study_completed"
WITHDRAWN = "withdrawn"
DIED = "died"

STATES: tuple[str, ...] = (SCREENED, SCREEN_FAILED, ELIGIBLE, RANDOMIZED, ON_TREATMENT, TREATMENT_COMPLETED,
                           STUDY_COMPLETED, WITHDRAWN, DIED)

_IN_STUDY = (SCREENED, ELIGIBLE, RANDOMIZED, ON_TREATMENT, TREATMENT_COMPLETED)
TRANSITIONS: dict[str, frozenset[str]] = {
    SCREENED: frozenset({SCREEN_FAILED, ELIGIBLE, WITHDRAWN, DIED}),
    ELIGIBLE: frozenset({RANDOMIZED, WITHDRAWN, DIED}),
    RANDOMIZED: frozenset({ON_TREATMENT, WITHDRAWN, DIED}),
    ON_TREATMENT: frozenset({TREATMENT_COMPLETED, STUDY_COMPLETED, WITHDRAWN, DIED}),
    TREATMENT_COMPLETED: frozenset({STUDY_COMPLETED, WITHDRAWN, DIED}),
    WITHDRAWN: frozenset({DIED}),
    SCREEN_FAILED: frozenset(),
    STUDY_COMPLETED: frozenset(),
    DIED: frozenset(),
}
"""Every move allowed, from each state; anything else is refused with ``subject_state_refuses``."""

INFUSIBLE = frozenset({RANDOMIZED, ON_TREATMENT})
"""Where the bedside gives an infusion: a randomized subject's first one, and every one while on treatment."""

WITHDRAWAL_REASONS: tuple[str, ...] = ("consent_withdrawn", "investigator_decision", "lost_to_follow_up")
FOLLOW_UP_CONTINUES = frozenset({"investigator_decision"})
ENDED = frozenset({WITHDRAWN, DIED})
NOTE_MAX = 500

STATE_REFUSED = "subject_state_refuses"
NOT_ON_TREATMENT = "subject_not_on_treatment"


def move(state: str, to: str, *, subject_code: str) -> str:
    """The new state ``to``, or ``Refused`` naming the state the subject is in and what was asked."""
    if to not in STATES:
        raise Invalid({"status": translated(N_("{to!r} is not a subject state")).format(to=to)})
    if to not in TRANSITIONS.get(state, frozenset()):
        variant = to if to in (WITHDRAWN, DIED, RANDOMIZED, ON_TREATMENT) else None
        raise Refused(Reason(STATE_REFUSED, variant=variant, subject_code=subject_code, state=state))
    return to


def may_move(state: str, to: str) -> bool:
    return to in TRANSITIONS.get(state, frozenset())


def in_study(state: str) -> bool:
    return state in _IN_STUDY


def follow_up_continues(to: str, reason: str | None) -> bool:
    """Whether the subject's follow-up visits stay planned after ``to`` (withdrawn or died) for ``reason``."""
    return to == WITHDRAWN and reason in FOLLOW_UP_CONTINUES


def after_visit_done(state: str, *, kind: str, week: int, last_week: int) -> str | None:
    """The state a done visit moves the subject to, or None: the last infusion visit (``last_week`` of the
    subject's infusion visits) completes the treatment, the last follow-up visit completes the study."""
    if week != last_week:
        return None
    if kind == "infusion" and state == ON_TREATMENT:
        return TREATMENT_COMPLETED
    if kind == "follow_up" and state in (ON_TREATMENT, TREATMENT_COMPLETED):
        return STUDY_COMPLETED
    return None


def parse_end(to: str, reason: object, note: object) -> tuple[str, str | None]:
    """The reason code and the investigator's words for a withdrawal or a death, naming each bad field.

    A withdrawal names one of ``WITHDRAWAL_REASONS``; a death needs its cause in words (the note)."""
    errors: dict[str, str] = {}
    text = note.strip() if isinstance(note, str) else None
    if note is not None and not isinstance(note, str):
        errors["note"] = translated(N_("words, at most 500 characters"))
    elif text and len(text) > NOTE_MAX:
        errors["note"] = translated(N_("at most {note_max} characters")).format(note_max=NOTE_MAX)
    if to == WITHDRAWN:
        if reason not in WITHDRAWAL_REASONS:
            errors["reason"] = translated(N_("one of {choices}")).format(choices=', '.join(WITHDRAWAL_REASONS))
        code = reason if isinstance(reason, str) else ""
    else:
        code = "died"
        if not text:
            errors["note"] = translated(N_("give the cause of death as the investigator records it"))
    if errors:
        raise Invalid(errors)
    return code, text or None
