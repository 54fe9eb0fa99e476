"""The summary of adverse events by arm: counts by grade, seriousness and relatedness (docs/rules.md,
"Safety: listing and summary"). The trial is open label, so the arm is shown (README, "The demo")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from cellchain.core.words import N_, translated
from cellchain.safety.rules.terms import CAUSALITY, GRADES, RELATED

ARM_NAMES = {"A": "UC-MSC", "B": N_("placebo"), None: N_("not randomized")}


@dataclass(frozen=True)
class Counted:
    """What the summary counts of one event: only confirmed events are counted."""

    arm: str | None
    subject_id: int
    grade: int | None
    serious: bool
    causality: str | None
    special_interest: bool


@dataclass
class ArmCounts:
    arm: str | None
    events: int = 0
    subjects: set[int] = field(default_factory=set)
    by_grade: Counter = field(default_factory=Counter)
    serious: int = 0
    related: int = 0
    by_causality: Counter = field(default_factory=Counter)
    special_interest: int = 0

    @property
    def name(self) -> str:
        return translated(ARM_NAMES[self.arm]) if self.arm in ARM_NAMES else (self.arm or "")

    @property
    def subjects_with_event(self) -> int:
        return len(self.subjects)

    def grade_counts(self) -> list[tuple[int, int]]:
        return [(grade, self.by_grade.get(grade, 0)) for grade in GRADES]

    def causality_counts(self) -> list[tuple[str, int]]:
        return [(code, self.by_causality.get(code, 0)) for code in CAUSALITY]

    @property
    def grade_map(self) -> dict[str, int]:
        return {str(grade): n for grade, n in self.grade_counts()}

    @property
    def causality_map(self) -> dict[str, int]:
        return dict(self.causality_counts())


def by_arm(events: Iterable[Counted]) -> list[ArmCounts]:
    """One row per arm (A, B, then subjects not randomized if any had an event)."""
    arms = {"A": ArmCounts("A"), "B": ArmCounts("B")}
    for event in events:
        row = arms.setdefault(event.arm, ArmCounts(event.arm))
        row.events += 1
        row.subjects.add(event.subject_id)
        if event.grade is not None:
            row.by_grade[event.grade] += 1
        row.serious += event.serious
        row.related += event.causality in RELATED
        if event.causality is not None:
            row.by_causality[event.causality] += 1
        row.special_interest += event.special_interest
    return list(arms.values())
