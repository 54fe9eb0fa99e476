"""The batch record: the SOP's manufacturing steps as data, and whether a lot's record is complete.

Release needs the batch record complete (docs/rules.md, "Quality: release"): every step performed and, for
the critical steps, verified by a second person. Records name the person at the time of each step
(21 CFR 1271.270), and a person may not verify their own work, or the second check means nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.words import N_, translated

STEP_MISSING = "batch_step_missing"
STEP_UNVERIFIED = "batch_step_unverified"
SELF_VERIFICATION = "self_verification"


@dataclass(frozen=True)
class StepDef:
    """One SOP step. ``repeat_per_passage`` steps are recorded once per passage (key ``code:n``)."""

    code: str
    title: str
    needs_verification: bool = False
    repeat_per_passage: bool = False


DEFAULT_STEPS: tuple[StepDef, ...] = (
    # Verified: the cord's identity and dissection decide what every later container holds.
    StepDef("tissue_processing", N_("Cord tissue processing and explant/digestion"), needs_verification=True),
    StepDef("media_and_reagent_lots", N_("Media and reagent lots recorded")),
    StepDef("passage", N_("Passage (seed, harvest, count)"), repeat_per_passage=True),
    StepDef("harvest", N_("Final harvest")),
    StepDef("wash", N_("Wash")),
    # Verified: the dose on the label comes from the formulation calculation and the fill.
    StepDef("formulation", N_("Formulation (concentration and volume)"), needs_verification=True),
    StepDef("fill", N_("Fill into final bags"), needs_verification=True),
)


BANK_FREEZE = StepDef(
    "bank_freeze", N_("Cryopreservation into the cell bank (vials, cells per vial, cryoprotectant)"),
    needs_verification=True,
)
"""A bank lot ends in its freeze, verified like the fill it replaces: the vials' content comes from it."""
_FILLING = ("wash", "formulation", "fill")


def steps_for(steps: Iterable[StepDef], *, purpose: str, from_vial: bool) -> tuple[StepDef, ...]:
    """The site's steps as they apply to one lot (ICH Q5D tiers, docs/rules.md "Banking").

    A lot thawed from a bank vial has no cord tissue to process (its thaw is the vial's record); a bank
    lot is frozen into vials instead of washed, formulated and filled.
    """
    kept = [s for s in steps if not (from_vial and s.code == "tissue_processing")
            and not (purpose == "bank" and s.code in _FILLING)]
    return (*kept, BANK_FREEZE) if purpose == "bank" else tuple(kept)


def step_key(code: str, passage_number: int | None = None) -> str:
    """The key of one recorded step in ``done``: ``code``, or ``code:n`` for passage ``n``."""
    return code if passage_number is None else f"{code}:{passage_number}"


def _expected_keys(
    step_defs: Iterable[StepDef], passage_numbers: Iterable[int]
) -> list[tuple[StepDef, str, str]]:
    """(definition, key in ``done``, label for people) of every step the record must hold."""
    numbers = sorted(set(passage_numbers))
    expected: list[tuple[StepDef, str, str]] = []
    for step in step_defs:
        if not step.repeat_per_passage:
            expected.append((step, step_key(step.code), translated(step.title)))
        for number in numbers if step.repeat_per_passage else ():
            expected.append((step, step_key(step.code, number), f"{translated(step.title)} P{number}"))
    return expected


def completeness(
    step_defs: Iterable[StepDef],
    done: Mapping[str, tuple[bool, bool]],
    passage_numbers: Iterable[int],
) -> list[Reason]:
    """Every missing step and every missing second-person verification (``[]`` when complete).

    ``done`` maps ``step_key`` to ``(performed, verified)``. A step not performed is reported once,
    as missing (its verification cannot come before it). A per-passage step with no passages at all
    is missing, because a lot cannot be made without at least P0. Keys not in ``step_defs`` are
    ignored: the definitions, not the record, say what the SOP requires.
    """
    defs = list(step_defs)
    numbers = list(passage_numbers)
    reasons: list[Reason] = []
    for step in defs:
        if step.repeat_per_passage and not numbers:
            reasons.append(Reason(STEP_MISSING, variant="passage", title=translated(step.title)))
    for step, key, label in _expected_keys(defs, numbers):
        performed, verified = done.get(key, (False, False))
        if not performed:
            reasons.append(Reason(STEP_MISSING, label=label, key=key))
        elif step.needs_verification and not verified:
            reasons.append(Reason(STEP_UNVERIFIED, label=label, key=key))
    return reasons


def _identity(person_id: Any, field_name: str) -> str:
    if person_id is None or (isinstance(person_id, str) and not person_id.strip()):
        raise Invalid({field_name: translated(N_("is required"))})
    return str(person_id).strip().casefold()


def guard_verifier(performer_id: Any, verifier_id: Any) -> None:
    """Refuse verification by the person who performed the step (``self_verification``).

    Ids are compared as trimmed, case-folded text, so ``Alice`` cannot verify ``alice``'s work.
    """
    if _identity(performer_id, "performer_id") == _identity(verifier_id, "verifier_id"):
        raise Refused([Reason(SELF_VERIFICATION)])
