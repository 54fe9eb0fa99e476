"""The trial's protocol numbers (NCT01690247), read once from the site's configuration.

Dose per kg and its tolerance, the placebo volume, the infusion and follow-up weeks and their windows,
the age limits and the site's time zone: configuration with the protocol's values as defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Protocol:
    """The protocol numbers the trial services need, read once from configuration by the caller."""

    planned_subjects: int = 50
    min_age: int = 18
    max_age: int = 70
    dose_cells_per_kg: float = 1_000_000
    dose_tolerance: float = 0.10
    placebo_volume_ml: float = 50.0
    infusion_weeks: Sequence[int] = (0, 4, 8, 12)
    follow_up_weeks: Sequence[int] = (4, 8, 12, 24, 36, 48)
    infusion_window_days: int = 3
    follow_up_window_days: int = 7
    timezone: str = "UTC"
    infusion_planned_time: str = "09:00"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Protocol:
        return cls(
            planned_subjects=config["TRIAL_PLANNED_SUBJECTS"], min_age=config["SUBJECT_MIN_AGE"],
            max_age=config["SUBJECT_MAX_AGE"], dose_cells_per_kg=config["DOSE_CELLS_PER_KG"],
            dose_tolerance=config["DOSE_TOLERANCE"], placebo_volume_ml=config["PLACEBO_VOLUME_ML"],
            infusion_weeks=tuple(config["INFUSION_WEEKS"]), follow_up_weeks=tuple(config["FOLLOW_UP_WEEKS"]),
            infusion_window_days=config["INFUSION_WINDOW_DAYS"],
            follow_up_window_days=config["FOLLOW_UP_WINDOW_DAYS"], timezone=config["SITE_TIMEZONE"],
            infusion_planned_time=config["INFUSION_PLANNED_TIME"])
