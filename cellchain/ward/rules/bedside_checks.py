"""The fifteen bedside checks (docs/rules.md, "Ward: the bedside check"), and the record views they read.

Each rule is a small named guard that looks at the same gathered facts and answers ``(name, ok,
detail)``; every guard runs every time, so the nurse sees every reason at once, not the first. A guard
that cannot be judged (the bag was not found, the wristband named no one) fails and says why: at the
bedside "not known" must never read as "passed". Plain Python: ``ward/bedside_facts.py`` reads the
views, ``ward/bedside.py`` gathers them into ``Facts``, runs the checks and records the attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from cellchain.core.words.numbers import cells
from cellchain.quality.rules import holds
from cellchain.trial.rules import dosing, schedule


class SubjectView(NamedTuple):
    id: int
    subject_code: str
    arm: str | None
    birth_date: date


class BagView(NamedTuple):
    id: int
    bag_code: str
    kind: str
    quality_status: str
    custody_state: str | None
    expires_at: datetime
    volume_ml: float
    total_cells: int | None
    preservation: str = "fresh"
    thawed_at: datetime | None = None
    frozen_expires_at: datetime | None = None


class LotView(NamedTuple):
    id: int
    lot_number: str
    status: str


class HoldView(NamedTuple):
    """The open hold on the bag's lot (docs/rules.md, "Quality: holds")."""

    id: int
    cause: str


class AllocationView(NamedTuple):
    id: int
    subject_id: int
    weight_kg: float
    allocated_at: datetime


class VisitView(NamedTuple):
    id: int
    subject_id: int
    week: int
    kind: str
    status: str
    window_start: date
    window_end: date


class SubjectRef(NamedTuple):
    """The subject a bag is allocated to: who, not what the wristband says."""

    id: int
    subject_code: str


class InfusionRef(NamedTuple):
    id: int


class EventView(NamedTuple):
    event: str
    occurred_at: datetime
    location: str


class ExcursionView(NamedTuple):
    temperature_c: float
    low_c: float
    high_c: float


ARM_PRODUCT = {"A": "ucmsc", "B": "placebo"}
NO_BAG = "no bag was identified"


@dataclass(frozen=True)
class Protocol:
    """The protocol numbers the checks need, read from configuration by the caller."""

    cells_per_kg: float = dosing.CELLS_PER_KG
    tolerance: float = dosing.DOSE_TOLERANCE
    placebo_volume_ml: float = dosing.PLACEBO_VOLUME_ML
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Protocol:
        return cls(cells_per_kg=config["DOSE_CELLS_PER_KG"], tolerance=config["DOSE_TOLERANCE"],
                   placebo_volume_ml=config["PLACEBO_VOLUME_ML"], timezone=config["SITE_TIMEZONE"])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Check(NamedTuple):
    """One guard's answer: its name, whether it passed, and why, in words a nurse acts on."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Facts:
    """Everything the guards look at, loaded once so that all of them judge the same moment."""

    protocol: Protocol
    now: datetime
    today: date
    subject: SubjectView | None = None
    wristband_problem: str = ""
    bag: BagView | None = None
    bag_problem: str = ""
    label: dict[str, Any] = field(default_factory=dict)
    lot: LotView | None = None
    hold: HoldView | None = None
    allocation: AllocationView | None = None
    visit: VisitView | None = None
    allocated_subject: SubjectRef | None = None
    infusion: InfusionRef | None = None
    chain_ok: bool = False
    chain_breaks: list[str] = field(default_factory=list)
    excursions: list[ExcursionView] = field(default_factory=list)
    last_event: EventView | None = None


# --- the guards, in the order the nurse reads them ------------------------------------------------------

def wristband_is_a_subject(f: Facts) -> Check:
    """The wristband scan is a subject's wristband, and that subject is registered."""
    if f.subject is None:
        return Check("wristband_is_a_subject", False, f.wristband_problem)
    return Check("wristband_is_a_subject", True, f"the wristband is subject {f.subject.subject_code}")


def bag_identified(f: Facts) -> Check:
    """The bag scan names a registered bag, and what the label carries agrees with its record."""
    if f.bag is None or f.bag_problem:
        return Check("bag_identified", False, f.bag_problem)
    return Check("bag_identified", True, f"bag {f.bag.bag_code} ({_product(f.bag)})")


def right_subject(f: Facts) -> Check:
    """Rule 5: the wristband's subject is the subject the bag is allocated to."""
    name = "right_subject"
    if f.subject is None or f.bag is None:
        return Check(name, False, f"cannot compare: {_unknown(f)}")
    if f.allocation is None or f.allocated_subject is None:
        return Check(name, False, f"bag {f.bag.bag_code} is not allocated to any subject")
    if f.allocated_subject.id != f.subject.id:
        return Check(name, False, f"WRONG PATIENT: bag {f.bag.bag_code} is allocated to "
                                  f"{f.allocated_subject.subject_code}, this wristband is {f.subject.subject_code}")
    on_label = f.label.get("subject_id")
    if on_label and on_label != f.subject.subject_code:
        return Check(name, False, f"the bag's label names recipient {on_label}, this wristband is "
                                  f"{f.subject.subject_code}")
    return Check(name, True, f"bag {f.bag.bag_code} is allocated to {f.subject.subject_code}")


def infusion_visit_today(f: Facts) -> Check:
    """The allocated visit is an infusion visit of the allocated subject, and today is within its window."""
    name = "infusion_visit_today"
    if f.visit is None or f.allocation is None:
        return Check(name, False, "no visit to check: " + (NO_BAG if f.bag is None else "the bag is not allocated"))
    v = f.visit
    if v.kind != schedule.INFUSION or v.subject_id != f.allocation.subject_id:
        return Check(name, False, f"visit {v.id} (week {v.week}) is not an infusion visit of the allocated subject")
    if v.status == "done":
        return Check(name, False, f"the week {v.week} infusion visit is already recorded as done")
    window = f"{v.window_start.isoformat()} to {v.window_end.isoformat()}"
    timing = schedule.timing_of(v, f.today)
    if timing != "in_window":
        when = "has not opened yet" if timing == "early" else "has closed"
        return Check(name, False, f"today ({f.today.isoformat()}) the week {v.week} infusion window ({window}) {when}")
    return Check(name, True, f"week {v.week} infusion, window {window}")


def released(f: Facts) -> Check:
    """Rule 2: the bag, and its lot, are released by QA; a placebo bag is released at filling, its licensed
    saline lot being its release (docs/rules.md, "Quarantine"), so its check says that, not "by QA"."""
    if f.bag is None:
        return Check("released", False, f"cannot check: {NO_BAG}")
    if f.bag.quality_status != "released":
        return Check("released", False, f"bag {f.bag.bag_code} is {f.bag.quality_status}, not released")
    if f.lot is not None and f.lot.status != "released":
        return Check("released", False, f"lot {f.lot.lot_number} is {f.lot.status.replace('_', ' ')}, not released")
    if f.bag.kind == "placebo":
        return Check("released", True, "placebo: licensed 0.9% saline, released at filling")
    return Check("released", True, "released by QA")


def lot_not_on_hold(f: Facts) -> Check:
    """A bag of a lot held by a result after release (a positive sterility culture) is never infused."""
    name = "lot_not_on_hold"
    if f.bag is None:
        return Check(name, False, f"cannot check: {NO_BAG}")
    if f.hold is not None:
        lot_number = f.lot.lot_number if f.lot is not None else "?"
        return Check(name, False, holds.on_hold_message(lot_number, f.hold.id, f.hold.cause, f.bag.bag_code))
    return Check(name, True, "the lot is not on hold")


def not_expired(f: Facts) -> Check:
    if f.bag is None:
        return Check("not_expired", False, f"cannot check: {NO_BAG}")
    expiry = f.bag.expires_at.astimezone(f.protocol.tz).strftime("%Y-%m-%d %H:%M %Z")
    if f.bag.expires_at <= f.now:
        return Check("not_expired", False, f"EXPIRED at {expiry}")
    return Check("not_expired", True, f"expires {expiry}")


def bag_thawed(f: Facts) -> Check:
    """A cryopreserved bag is infused only after its recorded thaw (docs/rules.md, "Frozen bags and the thaw")."""
    if f.bag is None:
        return Check("bag_thawed", False, f"cannot check: {NO_BAG}")
    if f.bag.preservation != "cryopreserved":
        return Check("bag_thawed", True, "fresh bag: no thaw")
    if f.bag.thawed_at is None:
        return Check("bag_thawed", False, f"bag {f.bag.bag_code} is still FROZEN (bag_not_thawed): record its thaw, "
                                          "which prints its post-thaw label, and scan that label")
    return Check("bag_thawed", True, f"thawed {f.bag.thawed_at.astimezone(f.protocol.tz):%Y-%m-%d %H:%M %Z}")


def thaw_label_scanned(f: Facts) -> Check:
    """A thawed bag is identified by its post-thaw label's 2D code, whose expiry is the thawed one: the
    frozen label (months of expiry) or a keyed bag id must never pass for a bag that expires in hours."""
    name = "thaw_label_scanned"
    if f.bag is None:
        return Check(name, False, f"cannot check: {NO_BAG}")
    if f.bag.preservation != "cryopreserved":
        return Check(name, True, "fresh bag: its own label")
    if f.bag.thawed_at is None:
        return Check(name, False, "the bag has no post-thaw label yet: it is not thawed")
    printed = f.label.get("expires_at") if f.label.get("bag_id") else None
    if not isinstance(printed, datetime):
        return Check(name, False, "thaw_label_required: scan the 2D code of the label printed at the thaw; a keyed "
                                  "bag id or the linear codes do not show the thawed expiry")
    record = f.bag.expires_at.astimezone(f.protocol.tz).replace(second=0, microsecond=0)
    if printed != record:
        return Check(name, False, f"thaw_label_required: this label's expiry ({printed:%Y-%m-%d %H:%M}) is not the "
                                  f"thawed expiry ({record:%Y-%m-%d %H:%M}): it is the frozen label; use the label "
                                  "printed at the thaw")
    return Check(name, True, f"post-thaw label, expiry {record:%Y-%m-%d %H:%M %Z}")


def not_infused(f: Facts) -> Check:
    """Rule 6: a bag is infused at most once."""
    if f.bag is None:
        return Check("not_infused", False, f"cannot check: {NO_BAG}")
    if f.infusion is not None or f.bag.custody_state == "infused":
        return Check("not_infused", False, f"bag {f.bag.bag_code} has already been infused")
    return Check("not_infused", True, "not infused before")


def received_on_ward(f: Facts) -> Check:
    if f.bag is None:
        return Check("received_on_ward", False, f"cannot check: {NO_BAG}")
    if f.bag.custody_state != "at_ward":
        state = (f.bag.custody_state or "not filled").replace("_", " ")
        return Check("received_on_ward", False, f"the bag is {state}; it must be received on the ward first")
    where = f" at {f.last_event.location}" if f.last_event is not None else ""
    return Check("received_on_ward", True, f"received on the ward{where}")


def custody_unbroken(f: Facts) -> Check:
    if f.bag is None:
        return Check("custody_unbroken", False, f"cannot check: {NO_BAG}")
    if not f.chain_ok:
        return Check("custody_unbroken", False, "chain of custody broken: " + "; ".join(f.chain_breaks))
    return Check("custody_unbroken", True, "every hand-over recorded in order")


def no_open_excursion(f: Facts) -> Check:
    if f.bag is None:
        return Check("no_open_excursion", False, f"cannot check: {NO_BAG}")
    if f.excursions:
        said = ", ".join(f"{e.temperature_c:g} °C (allowed {e.low_c:g}-{e.high_c:g} °C)" for e in f.excursions)
        return Check("no_open_excursion", False, f"temperature excursion awaiting QA decision: {said}")
    return Check("no_open_excursion", True, "no temperature excursion awaiting a decision")


def product_matches_arm(f: Facts) -> Check:
    """Rule 4: arm A gets UC-MSC, arm B the saline placebo."""
    name = "product_matches_arm"
    if f.subject is None or f.bag is None:
        return Check(name, False, f"cannot compare: {_unknown(f)}")
    wanted = ARM_PRODUCT.get(f.subject.arm or "")
    if wanted is None:
        return Check(name, False, f"{f.subject.subject_code} is not randomized")
    if f.bag.kind != wanted:
        return Check(name, False, f"arm {f.subject.arm} receives {wanted}, this bag is {f.bag.kind}")
    return Check(name, True, f"arm {f.subject.arm}: {f.bag.kind}")


def dose_within_tolerance(f: Facts) -> Check:
    """Rule 4: cells/kg x the weight recorded at allocation, within tolerance; placebo: its volume."""
    name = "dose_within_tolerance"
    if f.bag is None or f.allocation is None:
        return Check(name, False, "cannot check: " + (NO_BAG if f.bag is None else "the bag is not allocated"))
    p = f.protocol
    if f.bag.kind == "placebo":
        reason = dosing.check_placebo_volume(f.bag.volume_ml, expected_ml=p.placebo_volume_ml)
        return Check(name, reason is None, reason.message if reason else f"{f.bag.volume_ml:g} ml saline")
    if not f.bag.total_cells:
        return Check(name, False, f"bag {f.bag.bag_code} has no cell count recorded")
    result = dosing.check_dose(f.bag.total_cells, f.allocation.weight_kg, cells_per_kg=p.cells_per_kg,
                               tolerance=p.tolerance)
    if not result.ok:
        return Check(name, False, result.reason.message)
    return Check(name, True, f"{cells(f.bag.total_cells)} cells for {f.allocation.weight_kg:g} kg "
                             f"({result.deviation_pct:+.1f}% of {cells(result.required)})")


CHECKS: tuple[Callable[[Facts], Check], ...] = (
    wristband_is_a_subject, bag_identified, right_subject, infusion_visit_today, released, lot_not_on_hold, not_expired,
    bag_thawed, thaw_label_scanned, not_infused, received_on_ward, custody_unbroken, no_open_excursion,
    product_matches_arm, dose_within_tolerance,
)
CHECK_NAMES: tuple[str, ...] = tuple(guard.__name__ for guard in CHECKS)


def run_checks(facts: Facts) -> list[Check]:
    return [guard(facts) for guard in CHECKS]


def _unknown(f: Facts) -> str:
    return "the wristband names no subject" if f.subject is None else NO_BAG


def _product(bag: BagView) -> str:
    return "UC-MSC" if bag.kind == "ucmsc" else "saline placebo"
