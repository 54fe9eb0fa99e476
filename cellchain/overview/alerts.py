"""What needs attention now, per role: computed from the records each time, never stored.

Each alert is a bounded SQL count (``COUNT`` with its conditions; never every row loaded and judged in
Python; the expired stock is the bag tally the database keeps less the bags not yet expired), so the top bar
can show the total on every page (docs/rules.md, "Alerts"):

- open temperature excursions awaiting QA's decision (QA);
- lots awaiting release (QA);
- bags expiring within ``EXPIRY_ALERT_HOURS`` and bags already expired still in stock (lab, nurse, coordinator);
- instruments past a calibration or maintenance due date (QA, lab: docs/rules.md, "Equipment");
- infusion visits due in the next ``VISIT_DUE_DAYS`` days with no bag allocated, and allocated bags that can
  no longer be given at their visit, by the reasons of ``trial/rules/allocated_bag.py`` (coordinator).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, or_
from sqlmodel import Session, select

from cellchain.core.types import UTCDateTime, utcnow
from cellchain.core.words import N_, translated
from cellchain.equipment import instruments
from cellchain.manufacturing import bags
from cellchain.manufacturing.models import Bag, Lot
from cellchain.materials.models import MaterialUse
from cellchain.quality.models import Hold
from cellchain.trial.models import Allocation, Visit
from cellchain.ward.models import Excursion

VISIT_DUE_DAYS = 7
# A bag still to be used: not given, not discarded, not thawed into nothing else (a bag's chain ends there).
SPENT_STATES = ("infused", "discarded")
EXPIRING_ROLES = frozenset({"lab", "nurse", "coordinator"})
ALERT_ROLES = ("lab", "nurse", "coordinator", "qa")


@dataclass(frozen=True)
class Alert:
    """One kind of thing needing attention: its code, the count, what it says, and where it is dealt with
    (an endpoint and its arguments, so the view builds the link)."""

    code: str
    count: int
    text: str
    endpoint: str
    args: tuple[tuple[str, str], ...] = ()


def _count(session: Session, statement) -> int:
    return int(session.exec(statement).one())


def open_excursions(session: Session) -> int:
    return _count(session, select(func.count()).select_from(Excursion).where(Excursion.status == "open"))


def lots_awaiting_release(session: Session) -> int:
    return _count(session, select(func.count()).select_from(Lot).where(Lot.status == "awaiting_release"))


def _in_stock():
    """A bag that may still be used: filled, not spent, not rejected."""
    return and_(Bag.custody_state.is_not(None), Bag.custody_state.not_in(SPENT_STATES),
                Bag.quality_status != "rejected")


def bags_expiring(session: Session, *, now: datetime, hours: int) -> int:
    return _count(session, select(func.count()).select_from(Bag).where(
        _in_stock(), Bag.expires_at > now, Bag.expires_at <= now + timedelta(hours=hours)))


def _stock_key(state: str | None, quality: str) -> bool:
    """``_in_stock`` for a (custody state, quality status) pair of the bag tally."""
    return state is not None and state not in SPENT_STATES and quality != "rejected"


def bags_expired(session: Session, *, now: datetime) -> int:
    """Expired bags not yet discarded or given: stock to take out (the discard page). The bags in stock from the
    tally the database keeps, less those not yet expired (from the expiry index): two small reads, never the
    bags already expired, however many there are."""
    in_stock = sum(n for key, n in bags.tally(session).items() if _stock_key(*key))
    return in_stock - sum(n for key, n in bags.unexpired(session, now=now).items() if _stock_key(*key))


def _unallocated_due(session: Session, *, today: date) -> int:
    allocated = exists().where(Allocation.visit_id == Visit.id)
    return _count(session, select(func.count()).select_from(Visit).where(
        Visit.kind == "infusion", Visit.status == "planned", Visit.target_date >= today,
        Visit.target_date <= today + timedelta(days=VISIT_DUE_DAYS), ~allocated))


def _window_closes(days: Iterable[date], zone: ZoneInfo):
    """The UTC instant each unplanned visit's window closes (the end of its last day at the site), as SQL:
    the same limit as ``trial/allocation.py:in_date_until``, one ``CASE`` branch per distinct last day."""
    # bound as the column's own type, so SQLite compares the same UTC text the column stores
    branches = [(Visit.window_end == day, literal(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
                                                  UTCDateTime()))
                for day in sorted(set(days))]
    return case(*branches, else_=None) if branches else None


def _open_allocated(today: date):
    return (Visit.status != "done", Visit.window_end >= today, Bag.custody_state.is_distinct_from("infused"))


def unusable_allocated(session: Session, *, today: date, zone: ZoneInfo) -> int:
    """Open infusion visits whose allocated bag can no longer be given: discarded, rejected, its lot on hold,
    or expiring before the planned infusion (or, unplanned, before the window closes)."""
    joined = (select(Visit.window_end).join(Allocation, Allocation.visit_id == Visit.id)
              .join(Bag, Bag.id == Allocation.bag_id).where(*_open_allocated(today), Visit.planned_at.is_(None))
              .distinct())
    closes = _window_closes(session.exec(joined).all(), zone)
    must_last = Visit.planned_at if closes is None else func.coalesce(Visit.planned_at, closes)
    # held: a hold on the bag, its lot, its cord or a material lot used in its lot (or its placebo fill's saline),
    # each matched exactly in SQL; a hold on a bank above the lot, or on a material lot used in a bank lot above
    # it (rare), is found by the coordinator's own list, which asks quality.holds
    held = or_(exists().where(Hold.lifted_at.is_(None), or_(Hold.lot_id == Bag.lot_id,
                                                           and_(Hold.item_kind == "bag", Hold.item_id == Bag.id))),
               exists().where(Hold.lifted_at.is_(None), Hold.item_kind == "collection", Lot.id == Bag.lot_id,
                              Hold.item_id == Lot.collection_id),
               exists().where(Hold.lifted_at.is_(None), Hold.item_kind == "material_lot",
                              MaterialUse.material_lot_id == Hold.item_id,
                              or_(MaterialUse.lot_id == Bag.lot_id,
                                  and_(Bag.lot_id.is_(None), MaterialUse.lot_id.is_(None),
                                       MaterialUse.din == Bag.din))))
    statement = (select(func.count()).select_from(Visit).join(Allocation, Allocation.visit_id == Visit.id)
                 .join(Bag, Bag.id == Allocation.bag_id)
                 .where(*_open_allocated(today),
                        or_(Bag.custody_state == "discarded", Bag.quality_status == "rejected", held,
                            Bag.expires_at < must_last)))
    return _count(session, statement)


def for_roles(session: Session, roles: frozenset[str], *, timezone: str, expiry_hours: int,
              now: datetime | None = None) -> list[Alert]:
    """Every alert the roles deal with that has something in it now, in a fixed order."""
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    found: list[Alert] = []
    if "qa" in roles:
        found += [Alert("excursions_open", open_excursions(session),
                        translated(N_("temperature excursions await your decision")), "reports.excursions"),
                  Alert("lots_awaiting_release", lots_awaiting_release(session),
                        translated(N_("lots wait for release review")), "qa.index")]
    if roles & {"qa", "lab"}:
        found.append(Alert("instruments_overdue", instruments.overdue_count(session, today=today),
                           translated(N_("instruments are past their calibration or maintenance due date")),
                           "equipment.index"))
    if roles & EXPIRING_ROLES:
        found.append(Alert("bags_expiring", bags_expiring(session, now=now, hours=expiry_hours),
                           translated(N_("bags expire within {hours} hours")).format(hours=expiry_hours),
                           "home.alerts_page"))
        if roles & {"lab", "nurse"}:
            found.append(Alert("bags_expired", bags_expired(session, now=now),
                               translated(N_("expired bags are still in stock: discard them")),
                               "handover.expired_page"))
    if "coordinator" in roles:
        found += [Alert("visits_due_without_bag", _unallocated_due(session, today=today),
                        translated(N_("infusion visits in the next {days} days have no bag allocated")).format(
                            days=VISIT_DUE_DAYS), "trial.index"),
                  Alert("allocated_bags_unusable", unusable_allocated(session, today=today, zone=zone),
                        translated(N_("allocated bags can no longer be given at their visit")), "trial.index")]
    return [alert for alert in found if alert.count]


def total(alerts: Iterable[Alert]) -> int:
    return sum(alert.count for alert in alerts)


def expiring_bags(session: Session, *, now: datetime, hours: int, limit: int = 100) -> list[Bag]:
    """The bags behind ``bags_expiring``, soonest first, at most ``limit`` (the alerts page lists them)."""
    statement = (select(Bag).where(_in_stock(), Bag.expires_at > now, Bag.expires_at <= now + timedelta(hours=hours))
                 .order_by(Bag.expires_at, Bag.id).limit(limit))
    return list(session.exec(statement))
