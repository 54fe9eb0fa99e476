"""What each role sees first on the home page: one function per panel, each returning plain data.

Every panel reads its rows in bulk, a fixed number of statements however many lots, bags or visits
there are: a home page that issues one query per lot gets slower every week the lab works. Where an
existing service already reads in bulk it is reused (``lots.lots_with_status``, ``collections
.awaiting_lot``, ``bags.list_bags``, ``deviations.listing``, ``custody.list_excursions``,
``randomization.balance``, ``infusions.due_today`` / ``bags_on_ward``). Release gaps come from
``quality.release_gaps``, the one computation the release itself uses; where a service works one lot at
a time (``qc.work_list``), the rows of all lots are loaded together and fed to the same rules, so the
verdicts cannot drift from the services'; tests compare them.

Nothing here writes, and nothing shows the randomization list or what the next assignment would be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import row_changes
from cellchain.audit.models import AuditTypeCount, RowChange
from cellchain.core.errors import Reason
from cellchain.core.types import utcnow
from cellchain.core.words import N_
from cellchain.equipment import instruments
from cellchain.equipment.rules import validity
from cellchain.manufacturing import bags, collections
from cellchain.manufacturing import lots as lot_service
from cellchain.manufacturing.models import Bag, Collection, Lot, Passage
from cellchain.manufacturing.rules import corrections
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor
from cellchain.quality import deviations, holds, qc, release, release_gaps
from cellchain.quality.models import Deviation, Hold, QcResult
from cellchain.safety import clinical_deviations, sae
from cellchain.safety import events as adverse_events
from cellchain.trial import deallocation, randomization, visits
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules.schedule import INFUSION
from cellchain.ward import custody, infusions
from cellchain.ward.models import Excursion, Infusion

NEAR_WINDOW_DAYS = 7
"""An infusion visit whose window opens within this many days already needs its bag allocated."""
CHART_WEEKS = 12
PARTIAL_INFUSION_DAYS = 28
"""A partial infusion stays on the coordinator's and investigators' dashboards this long: until the
subject's next infusion visit (the protocol's visits are four weeks apart, README "Configuration")."""
UNRECORDED_SHOWN = 20
"""Visits whose window closed with nothing recorded that the coordinator's dashboard lists, oldest first."""
CLINICAL_DEVIATIONS_SHOWN = 10
"""The newest clinical protocol deviations not closed that a dashboard lists; the count says how many in all."""
AREAS: dict[str, tuple[str, ...]] = {
    N_("Manufacturing"): ("collection", "collection_custody", "lot", "passage", "batch_step", "bag", "bag_custody",
                      "placebo_fill", "label_print"),
    N_("QC and release"): ("qc_result", "specification", "deviation", "excursion", "hold"),
    N_("Trial"): ("subject", "visit", "allocation", randomization.RECORD_TYPE),
    N_("Ward"): ("bedside_check", "infusion"),
    N_("People and signatures"): ("user", "login", "api_token", "signature"),
    N_("Safety"): ("adverse_event", "sae_report", "clinical_deviation"),
}
"""The audit trail's record types grouped by the area of work that writes them."""


@dataclass(frozen=True)
class Settings:
    """The site's numbers the panels depend on (from configuration, passed in by the view)."""

    timezone: str
    passage_interval_days: int
    passage_limit: int
    steps: Sequence[StepDef] = DEFAULT_STEPS
    equipment_due_days: int = 30


# --- lab ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotInProcess:
    lot: Lot
    last_passage: Passage | None
    next_passage_by: datetime | None  # None once no further passage is expected (harvested, at the limit)

    @property
    def passage_due(self) -> bool:
        return self.next_passage_by is not None and self.next_passage_by <= utcnow()


@dataclass(frozen=True)
class LabPanel:
    lots: list[LotInProcess]
    awaiting_lot: list[Collection]
    quarantine: list[tuple[Bag, str | None]]  # the first page; the lab's bag list has the rest
    quarantine_count: int = 0

    @property
    def passages_due(self) -> int:
        return sum(1 for row in self.lots if row.passage_due)


def next_passage_by(lot: Lot, last: Passage | None, *, interval_days: int, limit: int) -> datetime | None:
    """When the next passage falls due: the last harvest (or the lot's start, for P0) plus the interval.

    None when no passage is expected any more: the lot's final harvest is recorded, or the last passage
    is at the passage limit.
    """
    if lot.harvested_cells is not None or (last is not None and last.number >= limit):
        return None
    since = last.harvested_at if last is not None else lot.created_at
    return since + timedelta(days=interval_days)


def lab_panel(session: Session, settings: Settings) -> LabPanel:
    """Lots in process with their last passage and whether one is due, cords awaiting a lot, quarantine."""
    lots = lot_service.lots_with_status(session, "in_process")
    passages = release_gaps.of_lots(session, Passage, [lot.id for lot in lots])
    rows = []
    for lot in lots:
        effective = sorted(corrections.effective(passages.get(lot.id, [])), key=lambda p: p.number)
        last = effective[-1] if effective else None
        rows.append(LotInProcess(lot, last, next_passage_by(lot, last, interval_days=settings.passage_interval_days,
                                                            limit=settings.passage_limit)))
    return LabPanel(rows, collections.awaiting_lot(session), bags.list_bags(session, status="quarantine").rows,
                    bags.count_bags(session, status="quarantine"))


# --- QA -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotForReview:
    lot: Lot
    gaps: list[Reason]

    @property
    def gap_codes(self) -> list[str]:
        return sorted({g.code for g in self.gaps})


@dataclass(frozen=True)
class OpenDeviation:
    deviation: Deviation
    lot_number: str | None


@dataclass(frozen=True)
class OpenExcursion:
    excursion: Excursion
    item_code: str


@dataclass(frozen=True)
class QaPanel:
    lots: list[LotForReview]
    deviations: list[OpenDeviation]
    excursions: list[OpenExcursion]
    # calibrations and maintenance overdue or due within ``Settings.equipment_due_days`` (docs/rules.md, "Equipment")
    instruments_due: list[validity.Due] = field(default_factory=list)
    due_days: int = 30


def _item_codes(session: Session, excursions: Sequence[Excursion]) -> dict[tuple[str, int], str]:
    """The bag id or DIN of each excursion's item, two statements for any number of excursions."""
    wanted = defaultdict(set)
    for row in excursions:
        wanted[row.item_type].add(row.item_id)
    codes = {("bag", b.id): b.bag_code for b in session.exec(select(Bag).where(Bag.id.in_(wanted["bag"])))}
    codes |= {("collection", c.id): c.din
              for c in session.exec(select(Collection).where(Collection.id.in_(wanted["collection"])))}
    return codes


def qa_panel(session: Session, settings: Settings, reviewer: Actor) -> QaPanel:
    """Lots awaiting review with what still blocks their release by this reviewer; deviations; excursions."""
    waiting = release.awaiting_review(session)
    gaps = release_gaps.gaps_of(session, waiting, reviewer, settings.steps)
    open_deviations = deviations.listing(session, status="not_closed")
    lot_ids = {d.lot_id for d in open_deviations if d.lot_id is not None}
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids))).all())
    excursions = custody.list_excursions(session, status="open")
    codes = _item_codes(session, excursions)
    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    return QaPanel([LotForReview(lot, gaps[lot.id]) for lot in waiting],
                   [OpenDeviation(d, numbers.get(d.lot_id)) for d in open_deviations],
                   [OpenExcursion(e, codes.get((e.item_type, e.item_id), str(e.item_id))) for e in excursions],
                   instruments.falls_due(session, today=today, days=settings.equipment_due_days),
                   settings.equipment_due_days)


# --- QC -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotAwaitingQc:
    lot: Lot
    missing: list[str]  # codes of required tests without a result, in the specification's order


def qc_panel(session: Session) -> list[LotAwaitingQc]:
    """Lots that take results now and still miss a required test (``qc.work_list``, read in bulk)."""
    lots = qc.testable_lots(session)
    specs = release_gaps.specifications_of(session, lots)
    results = release_gaps.of_lots(session, QcResult, [lot.id for lot in lots])
    rows = []
    for lot in lots:
        tested = {r.test_code for r in results.get(lot.id, [])}
        missing = [t.code for t in specs[lot.spec_version].tests if t.required and t.code not in tested]
        if missing:
            rows.append(LotAwaitingQc(lot, missing))
    return rows


# --- trial coordinator --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitDue:
    visit: Visit
    subject_code: str
    status: str
    allocated: bool
    randomized: bool  # a bag is allocated only once the subject has an arm


@dataclass(frozen=True)
class CoordinatorPanel:
    balance: randomization.Balance
    week_start: date
    week_end: date
    due_this_week: list[VisitDue]
    needs_allocation: list[VisitDue]
    bag_unusable: list[deallocation.FlaggedVisit]  # allocated bags that can no longer be given
    # visits of randomized subjects whose window closed with nothing recorded: to be marked missed (which opens
    # their clinical protocol deviation), oldest first, at most UNRECORDED_SHOWN
    window_closed: list[VisitDue] = field(default_factory=list)


def week_of(day: date) -> tuple[date, date]:
    """The ISO week (Monday to Sunday) holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def coordinator_panel(session: Session, settings: Settings, today: date) -> CoordinatorPanel:
    """Subject counts and arm balance; visits still to do whose window meets the rest of this week; infusion
    visits of randomized subjects whose window is open or opens within NEAR_WINDOW_DAYS and have no bag."""
    monday, sunday = week_of(today)
    horizon = today + timedelta(days=NEAR_WINDOW_DAYS)
    statement = (select(Visit, Subject.subject_code, Subject.arm, Allocation.id)
                 .join(Subject, Subject.id == Visit.subject_id)
                 .outerjoin(Allocation, Allocation.visit_id == Visit.id)
                 .where(Visit.status == "planned", Visit.window_end >= today, Visit.window_start <= horizon)
                 .order_by(Visit.target_date, Subject.subject_code, Visit.id))
    due, unallocated = [], []
    for visit, code, arm, allocation_id in session.exec(statement):
        row = VisitDue(visit, code, visits.status_of(visit, today=today, timezone=settings.timezone),
                       allocation_id is not None, arm is not None)
        if visit.window_start <= sunday:
            due.append(row)
        if visit.kind == INFUSION and arm is not None and allocation_id is None:
            unallocated.append(row)
    flagged = deallocation.flagged_visits(session, timezone=settings.timezone, today=today)
    closed = (select(Visit, Subject.subject_code)
              .join(Subject, Subject.id == Visit.subject_id)
              .where(Visit.status == "planned", Visit.window_end < today, Subject.arm.is_not(None))
              .order_by(Visit.window_end, Subject.subject_code, Visit.id).limit(UNRECORDED_SHOWN))
    window_closed = [VisitDue(visit, code, "missed", False, True) for visit, code in session.exec(closed)]
    return CoordinatorPanel(randomization.balance(session), monday, sunday, due, unallocated, flagged, window_closed)


# --- ward ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BagOnWard:
    bag: Bag
    expired: bool


@dataclass(frozen=True)
class WardPanel:
    today: date
    due: list[infusions.DueInfusion]
    on_ward: list[BagOnWard]


def ward_panel(session: Session, today: date) -> WardPanel:
    """Today's allocated infusions and the bags received on the ward, each with its expiry."""
    now = utcnow()
    return WardPanel(today, infusions.due_today(session, today=today),
                     [BagOnWard(b, b.expires_at <= now) for b in infusions.bags_on_ward(session)])


# --- safety: investigators and QA --------------------------------------------------------------------

@dataclass(frozen=True)
class SafetyPanel:
    """Serious events whose sponsor report is due or overdue (investigators and QA); for the investigators
    also the drafts to confirm and the grade-5 events whose death path is still to record."""

    clocks: list[sae.SaeClock]
    drafts: list[adverse_events.EventRow]
    deaths: list[adverse_events.EventRow]

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.clocks if c.overdue)

    @property
    def empty(self) -> bool:
        return not (self.clocks or self.drafts or self.deaths)


def safety_panel(session: Session, roles: frozenset[str], *, now: datetime | None = None) -> SafetyPanel:
    """Three statements; ``now`` is the clock the SAE deadlines are read against (tests inject one)."""
    investigator = "investigator" in roles
    return SafetyPanel(sae.clocks(session, now=now),
                       adverse_events.drafts_to_confirm(session) if investigator else [],
                       adverse_events.death_paths_open(session) if investigator else [])


# --- auditor and administrator ------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaCount:
    area: str
    total: int
    by_type: list[tuple[str, int]]


OUTSIDE_SHOWN = 20


@dataclass(frozen=True)
class AuditorPanel:
    entries: int
    areas: list[AreaCount]
    outside: list[RowChange]  # the newest rows changed outside the application that QA has not reviewed
    more_outside: bool = False  # the log holds older ones than these


def auditor_panel(session: Session) -> AuditorPanel:
    """How many audit entries there are, per area and record type: the counts the database keeps as entries
    are written (``AuditTypeCount``), one statement of a few rows however long the trail.

    The chain is not verified here: a verification walks every entry, so it runs when asked for. The rows
    changed outside the application and not yet reviewed are read from the row-change log the database
    writes itself, newest first: one statement of a few rows, at the top of the panel.
    """
    statement = select(AuditTypeCount.record_type, AuditTypeCount.entries).where(AuditTypeCount.entries > 0)
    per_type = dict(session.exec(statement).all())
    areas, placed = [], set()
    for area, types in AREAS.items():
        found = [(t, per_type[t]) for t in types if t in per_type]
        placed.update(types)
        areas.append(AreaCount(area, sum(n for _, n in found), found))
    other = sorted((t, n) for t, n in per_type.items() if t not in placed)
    if other:
        areas.append(AreaCount(N_("Other"), sum(n for _, n in other), other))
    outside = row_changes.newest(session, limit=OUTSIDE_SHOWN + 1)
    return AuditorPanel(sum(per_type.values()), areas, outside[:OUTSIDE_SHOWN], len(outside) > OUTSIDE_SHOWN)


def locked_accounts(session: Session) -> list[User]:
    """Accounts locked after too many wrong passwords: an administrator unlocks them with a reason."""
    return list(session.exec(select(User).where(User.locked_at.is_not(None)).order_by(User.username)))


# --- the chart and the whole page ---------------------------------------------------------------------

@dataclass(frozen=True)
class WeekCount:
    monday: date
    count: int

    @property
    def key(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        return f"W{self.monday.isocalendar()[1]:02d}"


def infusions_per_week(session: Session, *, timezone: str, today: date, weeks: int = CHART_WEEKS) -> list[WeekCount]:
    """Completed infusions per ISO week (site time) over the last ``weeks`` weeks, this week last."""
    zone = ZoneInfo(timezone)
    this_monday, _ = week_of(today)
    first = this_monday - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, time(0), tzinfo=zone)
    counts: dict[date, int] = defaultdict(int)
    ended = select(Infusion.ended_at).where(Infusion.status == "completed", Infusion.ended_at >= start)
    for moment in session.exec(ended):
        counts[week_of(moment.astimezone(zone).date())[0]] += 1
    return [WeekCount(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0)) for i in range(weeks)]


@dataclass(frozen=True)
class Dashboard:
    """The panels of the roles the person holds; a panel is None for a role they do not hold."""

    lab: LabPanel | None = None
    qc: list[LotAwaitingQc] | None = None
    qa: QaPanel | None = None
    coordinator: CoordinatorPanel | None = None
    ward: WardPanel | None = None
    auditor: AuditorPanel | None = None
    locked_accounts: list[User] | None = None
    holds: list[tuple[Hold, str]] | None = None  # open holds with their lot numbers (QA, investigators)
    partial_infusions: list[infusions.PartialInfusion] | None = None  # recent ones (coordinator, investigators)
    safety: SafetyPanel | None = None  # SAE reports due (investigators, QA), drafts and death paths (investigators)
    # clinical protocol deviations not closed, newest first, and how many (coordinator, investigators)
    clinical_deviations: tuple[list[clinical_deviations.DeviationRow], int] | None = None


def for_user(session: Session, *, user: Actor, settings: Settings) -> Dashboard:
    """Every panel the person's roles call for, read once."""
    roles = user.roles
    today = visits.site_today(settings.timezone)
    return Dashboard(
        lab=lab_panel(session, settings) if "lab" in roles else None,
        qc=qc_panel(session) if "qc" in roles else None,
        qa=qa_panel(session, settings, user) if "qa" in roles else None,
        coordinator=coordinator_panel(session, settings, today) if "coordinator" in roles else None,
        ward=ward_panel(session, today) if "nurse" in roles else None,
        auditor=auditor_panel(session) if "auditor" in roles else None,
        locked_accounts=locked_accounts(session) if "admin" in roles else None,
        holds=holds.listing(session, open_only=True) if roles & {"qa", "investigator"} else None,
        partial_infusions=infusions.partial_since(session, utcnow() - timedelta(days=PARTIAL_INFUSION_DAYS))
        if roles & {"coordinator", "investigator"} else None,
        safety=safety_panel(session, roles) if roles & {"investigator", "qa"} else None,
        clinical_deviations=clinical_deviations.not_closed(session, limit=CLINICAL_DEVIATIONS_SHOWN)
        if roles & {"coordinator", "investigator"} else None,
    )
