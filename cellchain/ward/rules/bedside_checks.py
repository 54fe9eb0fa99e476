"""The seventeen bedside checks (docs/rules.md, "Ward: the bedside check"), and the record views they read.

Each rule is a small named guard that looks at the same gathered facts and answers ``(name, ok,
detail)``, the detail a code and values worded from ``core/words/checks.py`` (so it can be translated);
every guard runs every time, so the nurse sees every reason at once, not the first. A guard that cannot
be judged (the bag was not found, the wristband named no one) fails and says why: at the bedside "not
known" must never read as "passed". Plain Python: ``ward/bedside_facts.py`` reads the views,
``ward/bedside.py`` gathers them into ``Facts``, runs the checks and records the attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from cellchain.core.errors import Reason, plain_param
from cellchain.core.words.checks import Said, said
from cellchain.core.words.moments import site_clock
from cellchain.core.words.sentences import Sentence, sentence, words_of
from cellchain.quality.rules import holds
from cellchain.trial.rules import dosing, lifecycle, schedule


class SubjectView(NamedTuple):
    id: int
    subject_code: str
    arm: str | None
    birth_date: date
    status: str = lifecycle.RANDOMIZED
    chain_of_identity: str | None = None


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
    """The nearest open hold that reaches the bag, and the item it is on (docs/rules.md, "Quality: holds")."""

    id: int
    cause: str
    item_kind: str = "lot"
    item_code: str = ""


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
    chain_of_identity: str | None = None


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
    """One guard's answer: its name, whether it passed, and why, in words a nurse acts on.

    ``detail`` is the sentence; ``code`` and ``params`` are what it was worded from (``core/words/checks.py``),
    so the attempt stores them and a page or a translation words them again."""

    name: str
    ok: bool
    detail: str
    code: str = ""
    params: Mapping[str, Any] = {}  # never changed: a check is a value

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "code": self.code,
                "params": {k: plain_param(v) for k, v in self.params.items()}}


def judged(name: str, ok: bool, words: Said | Reason) -> Check:
    """A guard's answer from what it says: a check's words, or the refusal of another rule it repeats."""
    key = words.key
    return Check(name, ok, words.text if isinstance(words, Said) else words.message, key, dict(words.params))


@dataclass
class Facts:
    """Everything the guards look at, loaded once so that all of them judge the same moment."""

    protocol: Protocol
    now: datetime
    today: date
    subject: SubjectView | None = None
    wristband_problem: Said | None = None
    wristband_coi: str | None = None  # the chain-of-identity identifier the wristband's 2D code carries, if any
    bag: BagView | None = None
    bag_problem: Said | None = None
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
    # an approved clinical protocol deviation allowing the allocated visit's one infusion outside its window
    window_allowance: int | None = None


# --- the guards, in the order the nurse reads them ------------------------------------------------------

def wristband_is_a_subject(f: Facts) -> Check:
    """The wristband scan is a subject's wristband, and that subject is registered."""
    name = "wristband_is_a_subject"
    if f.subject is None:
        return judged(name, False, f.wristband_problem or said("scan:nothing_identified"))
    return judged(name, True, said("wristband_is_a_subject:ok", subject_code=f.subject.subject_code))


def subject_on_treatment(f: Facts) -> Check:
    """The wristband's subject is in treatment: randomized (this is the first infusion) or on treatment. A
    withdrawn, dead or completed subject is given nothing (docs/rules.md, "Trial: the subject's lifecycle")."""
    name = "subject_on_treatment"
    if f.subject is None:
        return judged(name, False, said("cannot_check:no_subject"))
    if f.subject.status not in lifecycle.INFUSIBLE:
        return judged(name, False, said("subject_on_treatment:refused", subject_code=f.subject.subject_code,
                                        state=f.subject.status))
    if f.subject.status == lifecycle.RANDOMIZED:
        return judged(name, True, said("subject_on_treatment:first", subject_code=f.subject.subject_code))
    return judged(name, True, said("subject_on_treatment:ok", subject_code=f.subject.subject_code))


def bag_identified(f: Facts) -> Check:
    """The bag scan names a registered bag, and what the label carries agrees with its record."""
    if f.bag is None or f.bag_problem:
        return judged("bag_identified", False, f.bag_problem or said("scan:nothing_identified"))
    product = "ucmsc" if f.bag.kind == "ucmsc" else "placebo"
    return judged("bag_identified", True, said(f"bag_identified:{product}", bag_code=f.bag.bag_code))


def right_subject(f: Facts) -> Check:
    """Rule 5: the wristband's subject is the subject the bag is allocated to."""
    name = "right_subject"
    if f.subject is None or f.bag is None:
        return judged(name, False, _unknown(f))
    if f.allocation is None or f.allocated_subject is None:
        return judged(name, False, said("right_subject:not_allocated", bag_code=f.bag.bag_code))
    if f.allocated_subject.id != f.subject.id:
        return judged(name, False, said("right_subject:wrong_patient", bag_code=f.bag.bag_code,
                                        allocated=f.allocated_subject.subject_code,
                                        subject_code=f.subject.subject_code))
    on_label = f.label.get("subject_id")
    if on_label and on_label != f.subject.subject_code:
        return judged(name, False, said("right_subject:label_names_another", on_label=on_label,
                                        subject_code=f.subject.subject_code))
    return judged(name, True, said("right_subject:ok", bag_code=f.bag.bag_code, subject_code=f.subject.subject_code))


def chain_of_identity_matches(f: Facts) -> Check:
    """The chain-of-identity identifier (ISBT 128 DS 040) of the bag's allocated subject is the wristband's:
    the one on the bag's label when its 2D code carries it, else the allocated subject's; the one on the
    wristband's 2D code when it carries it, else its subject's. Any difference stops the infusion
    (docs/rules.md, "Ward: the bedside check")."""
    name = "chain_of_identity_matches"
    if f.subject is None or f.bag is None:
        return judged(name, False, _unknown(f))
    if f.allocated_subject is None:
        return judged(name, False, said("cannot_check:not_allocated"))
    worn = f.wristband_coi or f.subject.chain_of_identity
    if not worn:
        return judged(name, False, said("chain_of_identity_matches:none", subject_code=f.subject.subject_code))
    if f.wristband_coi and f.subject.chain_of_identity != f.wristband_coi:
        return judged(name, False, said("chain_of_identity_matches:wristband", on_wristband=f.wristband_coi,
                                        subject_code=f.subject.subject_code))
    on_bag = f.label.get("chain_of_identity") or f.allocated_subject.chain_of_identity
    if on_bag != worn:
        return judged(name, False, said("chain_of_identity_matches:mismatch", bag_code=f.bag.bag_code,
                                        on_bag=on_bag or "-", on_wristband=worn))
    return judged(name, True, said("chain_of_identity_matches:ok", chain_of_identity=worn))


def infusion_visit_today(f: Facts) -> Check:
    """The allocated visit is an infusion visit of the allocated subject, and today is within its window."""
    name = "infusion_visit_today"
    if f.visit is None or f.allocation is None:
        return judged(name, False, said("infusion_visit_today:no_bag" if f.bag is None
                                        else "infusion_visit_today:not_allocated"))
    v = f.visit
    if v.kind != schedule.INFUSION or v.subject_id != f.allocation.subject_id:
        return judged(name, False, said("infusion_visit_today:not_infusion", visit_id=v.id, week=v.week))
    if v.status == "done":
        return judged(name, False, said("infusion_visit_today:done", week=v.week))
    if v.status == "missed":
        return judged(name, False, said("infusion_visit_today:missed", week=v.week))
    window = {"week": v.week, "window_start": v.window_start.isoformat(), "window_end": v.window_end.isoformat()}
    timing = schedule.timing_of(v, f.today)
    if timing != "in_window":
        if f.window_allowance is not None:
            return judged(name, True, said("infusion_visit_today:allowed", deviation_id=f.window_allowance, **window))
        when = "early" if timing == "early" else "late"
        return judged(name, False, said(f"infusion_visit_today:{when}", today=f.today.isoformat(), **window))
    return judged(name, True, said("infusion_visit_today:ok", **window))


def outside_window(f: Facts) -> bool:
    """The allocated visit is an infusion visit still to do and today lies outside its window: the start's
    refusal then says ``visit_out_of_window``; with an allowance the start uses the allowing deviation up."""
    v = f.visit
    return (v is not None and v.kind == schedule.INFUSION and v.status == "planned"
            and schedule.timing_of(v, f.today) != "in_window")


def deviations_seen(f: Facts, checks: Sequence[Check]) -> list[tuple[str, Sentence, int | None]]:
    """The clinical protocol deviations a failed attempt shows, as ``(kind, description, visit id)``: a bag
    allocated to another subject or of the wrong product for the wristband's arm (``wrong_product``), a dose
    outside tolerance. Each for the wristband's subject; nothing when the subject or the bag is not known."""
    if f.subject is None or f.bag is None:
        return []
    failed = {c.name: c for c in checks if not c.ok}
    visit_id = f.visit.id if f.visit is not None and f.visit.subject_id == f.subject.id else None
    seen = []
    wrong_patient = f.allocated_subject is not None and f.allocated_subject.id != f.subject.id
    if "right_subject" in failed and (wrong_patient or f.label.get("subject_id")):
        seen.append(("wrong_product", _refused(f, failed["right_subject"]), visit_id))
    elif "product_matches_arm" in failed and f.subject.arm is not None:
        seen.append(("wrong_product", _refused(f, failed["product_matches_arm"]), visit_id))
    dose_judged = f.bag.kind == "placebo" or bool(f.bag.total_cells)  # no cell count: nothing deviated yet
    if "dose_within_tolerance" in failed and f.allocation is not None and dose_judged and not wrong_patient:
        seen.append(("dose_outside_tolerance", _refused(f, failed["dose_within_tolerance"]), visit_id))
    return seen


def _refused(f: Facts, check: Check) -> Sentence:
    """A deviation's description: the refused check's words, read in each reader's language."""
    return sentence("bedside_refused", bag_code=f.bag.bag_code, subject_code=f.subject.subject_code,
                    detail=words_of(check))


def released(f: Facts) -> Check:
    """Rule 2: the bag, and its lot, are released by QA; a placebo bag is released at filling, its licensed
    saline lot being its release (docs/rules.md, "Quarantine"), so its check says that, not "by QA"."""
    if f.bag is None:
        return judged("released", False, said("cannot_check:no_bag"))
    if f.bag.quality_status != "released":
        return judged("released", False, said("released:bag", bag_code=f.bag.bag_code,
                                              quality_status=f.bag.quality_status))
    if f.lot is not None and f.lot.status != "released":
        return judged("released", False, said("released:lot", lot_number=f.lot.lot_number, lot_status=f.lot.status))
    if f.bag.kind == "placebo":
        return judged("released", True, said("released:placebo"))
    return judged("released", True, said("released:ok"))


def lot_not_on_hold(f: Facts) -> Check:
    """A bag a hold reaches is never infused: a hold on its lot (a positive sterility culture after release),
    on the bag, on a bank its cells came through, on its cord, or on a material lot it was made with (a
    platelet lysate lot found bad later; the saline of a placebo fill)."""
    name = "lot_not_on_hold"
    if f.bag is None:
        return judged(name, False, said("cannot_check:no_bag"))
    if f.hold is not None:
        held = f.hold.item_code or (f.lot.lot_number if f.lot is not None else "?")
        return judged(name, False, holds.reaching(f.hold.item_kind or "lot", held, f.hold.id, f.hold.cause, "bag",
                                                  f.bag.bag_code))
    return judged(name, True, said("lot_not_on_hold:ok"))


def not_expired(f: Facts) -> Check:
    if f.bag is None:
        return judged("not_expired", False, said("cannot_check:no_bag"))
    expiry = site_clock(f.bag.expires_at, f.protocol.tz)
    if f.bag.expires_at <= f.now:
        return judged("not_expired", False, said("not_expired:expired", expiry=expiry))
    return judged("not_expired", True, said("not_expired:ok", expiry=expiry))


def bag_thawed(f: Facts) -> Check:
    """A cryopreserved bag is infused only after its recorded thaw (docs/rules.md, "Frozen bags and the thaw")."""
    if f.bag is None:
        return judged("bag_thawed", False, said("cannot_check:no_bag"))
    if f.bag.preservation != "cryopreserved":
        return judged("bag_thawed", True, said("bag_thawed:fresh"))
    if f.bag.thawed_at is None:
        return judged("bag_thawed", False, said("bag_thawed:frozen", bag_code=f.bag.bag_code))
    return judged("bag_thawed", True, said("bag_thawed:ok", thawed_at=site_clock(f.bag.thawed_at, f.protocol.tz)))


def thaw_label_scanned(f: Facts) -> Check:
    """A thawed bag is identified by its post-thaw label's 2D code, whose expiry is the thawed one: the
    frozen label (months of expiry) or a keyed bag id must never pass for a bag that expires in hours."""
    name = "thaw_label_scanned"
    if f.bag is None:
        return judged(name, False, said("cannot_check:no_bag"))
    if f.bag.preservation != "cryopreserved":
        return judged(name, True, said("thaw_label_scanned:fresh"))
    if f.bag.thawed_at is None:
        return judged(name, False, said("thaw_label_scanned:not_thawed"))
    printed = f.label.get("expires_at") if f.label.get("bag_id") else None
    if not isinstance(printed, datetime):
        return judged(name, False, said("thaw_label_scanned:not_2d"))
    record = f.bag.expires_at.astimezone(f.protocol.tz).replace(second=0, microsecond=0)
    if printed != record:
        return judged(name, False, said("thaw_label_scanned:frozen_label", printed=site_clock(printed, f.protocol.tz),
                                        record=site_clock(record, f.protocol.tz)))
    return judged(name, True, said("thaw_label_scanned:ok", expiry=site_clock(record, f.protocol.tz)))


def not_infused(f: Facts) -> Check:
    """Rule 6: a bag is infused at most once."""
    if f.bag is None:
        return judged("not_infused", False, said("cannot_check:no_bag"))
    if f.infusion is not None or f.bag.custody_state == "infused":
        return judged("not_infused", False, said("not_infused:infused", bag_code=f.bag.bag_code))
    return judged("not_infused", True, said("not_infused:ok"))


def received_on_ward(f: Facts) -> Check:
    if f.bag is None:
        return judged("received_on_ward", False, said("cannot_check:no_bag"))
    if f.bag.custody_state != "at_ward":
        return judged("received_on_ward", False, said("received_on_ward:not_received",
                                                      custody_state=f.bag.custody_state or "not_filled"))
    if f.last_event is None:
        return judged("received_on_ward", True, said("received_on_ward:ok"))
    return judged("received_on_ward", True, said("received_on_ward:ok_at", location=f.last_event.location))


def custody_unbroken(f: Facts) -> Check:
    if f.bag is None:
        return judged("custody_unbroken", False, said("cannot_check:no_bag"))
    if not f.chain_ok:
        return judged("custody_unbroken", False, said("custody_unbroken:broken", breaks="; ".join(f.chain_breaks)))
    return judged("custody_unbroken", True, said("custody_unbroken:ok"))


def no_open_excursion(f: Facts) -> Check:
    if f.bag is None:
        return judged("no_open_excursion", False, said("cannot_check:no_bag"))
    if f.excursions:
        readings = ", ".join(said("no_open_excursion:reading", temperature_c=e.temperature_c, low_c=e.low_c,
                                  high_c=e.high_c).text for e in f.excursions)
        return judged("no_open_excursion", False, said("no_open_excursion:open", excursions=readings))
    return judged("no_open_excursion", True, said("no_open_excursion:ok"))


def product_matches_arm(f: Facts) -> Check:
    """Rule 4: arm A gets UC-MSC, arm B the saline placebo."""
    name = "product_matches_arm"
    if f.subject is None or f.bag is None:
        return judged(name, False, _unknown(f))
    wanted = ARM_PRODUCT.get(f.subject.arm or "")
    if wanted is None:
        return judged(name, False, said("product_matches_arm:not_randomized", subject_code=f.subject.subject_code))
    if f.bag.kind != wanted:
        return judged(name, False, said("product_matches_arm:wrong_product", arm=f.subject.arm, wanted=wanted,
                                        kind=f.bag.kind))
    return judged(name, True, said("product_matches_arm:ok", arm=f.subject.arm, kind=f.bag.kind))


def dose_within_tolerance(f: Facts) -> Check:
    """Rule 4: cells/kg x the weight recorded at allocation, within tolerance; placebo: its volume."""
    name = "dose_within_tolerance"
    if f.bag is None or f.allocation is None:
        return judged(name, False, _unjudged(f))
    p = f.protocol
    if f.bag.kind == "placebo":
        reason = dosing.check_placebo_volume(f.bag.volume_ml, expected_ml=p.placebo_volume_ml)
        if reason is not None:
            return judged(name, False, reason)
        return judged(name, True, said("dose_within_tolerance:placebo_ok", volume_ml=f.bag.volume_ml))
    if not f.bag.total_cells:
        return judged(name, False, said("dose_within_tolerance:no_count", bag_code=f.bag.bag_code))
    result = dosing.check_dose(f.bag.total_cells, f.allocation.weight_kg, cells_per_kg=p.cells_per_kg,
                               tolerance=p.tolerance)
    if not result.ok:
        return judged(name, False, result.reason)
    return judged(name, True, said("dose_within_tolerance:ok", total_cells=f.bag.total_cells,
                                   weight_kg=f.allocation.weight_kg, deviation_pct=float(result.deviation_pct),
                                   required=result.required))


CHECKS: tuple[Callable[[Facts], Check], ...] = (
    wristband_is_a_subject, subject_on_treatment, bag_identified, right_subject, chain_of_identity_matches,
    infusion_visit_today, released, lot_not_on_hold, not_expired,
    bag_thawed, thaw_label_scanned, not_infused, received_on_ward, custody_unbroken, no_open_excursion,
    product_matches_arm, dose_within_tolerance,
)
CHECK_NAMES: tuple[str, ...] = tuple(guard.__name__ for guard in CHECKS)


def run_checks(facts: Facts) -> list[Check]:
    return [guard(facts) for guard in CHECKS]


def _unknown(f: Facts) -> Said:
    return said("cannot_compare:no_subject" if f.subject is None else "cannot_compare:no_bag")


def _unjudged(f: Facts) -> Said:
    """Why a check of the allocation has nothing to judge: no bag, or a bag that is not allocated."""
    return said("cannot_check:no_bag" if f.bag is None else "cannot_check:not_allocated")


