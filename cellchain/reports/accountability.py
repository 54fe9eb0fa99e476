"""Bag accountability: every bag made, where it ended, reconciled per lot (or per placebo DIN).

Each bag falls in exactly one column: infused, in stock (at the lab, in storage, dispatched or on the
ward), expired (not infused and past its expiry), or discarded. A lot reconciles when the bags made
equal the sum of those columns and nothing disagrees: a bag whose custody says infused without an
infusion record (or the reverse), or a bag whose custody state fits no column, is listed as a
discrepancy and the lot does not reconcile. "Returned" counts bags that came back from the ward at
least once; they are also counted in the column where they are now.

The page reads a page of lots at a time and counts each column in SQL (``page_of_lots``, ``placebo_groups``,
``totals``), never loading the bags themselves: with 30,000 bags the page stays one page of counts. The
per-bag CSV and PDF exports still list every bag (``gather``), as an export is asked for.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from cellchain.core import db, pdf_document
from cellchain.core.pdf_document import FAIL_COLOUR, H2, SMALL, TITLE, para, table, when
from cellchain.core.types import utcnow
from cellchain.manufacturing import bags
from cellchain.manufacturing.models import Bag, Lot
from cellchain.ward.models import CustodyEvent, Infusion

IN_STOCK_STATES = ("at_lab", "in_storage", "dispatched", "at_ward")
COLUMNS = ("infused", "in_stock", "expired", "discarded")


@dataclass(frozen=True)
class BagLine:
    bag: Bag
    state: str  # one of COLUMNS, or "unaccounted"
    returned: bool
    discrepancy: str = ""


@dataclass
class LotLines:
    """The bags of one lot (UC-MSC) or one placebo DIN, with their counts."""

    key: str
    kind: str
    lot_status: str
    lines: list[BagLine] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(line.state for line in self.lines)

    @property
    def made(self) -> int:
        return len(self.lines)

    @property
    def returned(self) -> int:
        return sum(line.returned for line in self.lines)

    @property
    def discrepancies(self) -> list[str]:
        return [f"{line.bag.bag_code}: {line.discrepancy}" for line in self.lines if line.discrepancy]

    @property
    def reconciled(self) -> bool:
        return self.made == sum(self.counts[c] for c in COLUMNS) and not self.discrepancies


def classify(bag: Bag, *, infused: bool, now: datetime) -> tuple[str, str]:
    """(column, discrepancy) for one bag; the infusion record and the custody state must agree."""
    if infused:
        agrees = bag.custody_state == "infused"
        return "infused", "" if agrees else f"an infusion record, but custody says {bag.custody_state or '(none)'}"
    if bag.custody_state == "infused":
        return "unaccounted", "custody says infused, but there is no infusion record"
    if bag.custody_state == "discarded":
        return "discarded", ""
    if bag.expires_at <= now:
        return "expired", ""
    if bag.custody_state in IN_STOCK_STATES:
        return "in_stock", ""
    return "unaccounted", f"custody state {bag.custody_state or '(none)'} fits no column"


def gather(session: Session, *, now: datetime | None = None) -> list[LotLines]:
    now = now or utcnow()
    infused = set(session.exec(select(Infusion.bag_id)))
    returned = set(session.exec(select(CustodyEvent.item_id).where(CustodyEvent.item_type == "bag",
                                                                   CustodyEvent.event == "returned")))
    lots = {lot.id: lot for lot in session.exec(select(Lot))}
    groups: dict[str, LotLines] = {}
    for bag in session.exec(select(Bag).order_by(Bag.din, Bag.division, Bag.id)):
        lot = lots.get(bag.lot_id)
        key = lot.lot_number if lot else f"{bag.din} (saline {bag.saline_lot or '-'})"
        group = groups.setdefault(key, LotLines(key, bag.kind, lot.status if lot else "placebo"))
        state, problem = classify(bag, infused=bag.id in infused, now=now)
        group.lines.append(BagLine(bag, state, bag.id in returned, problem))
    return list(groups.values())


# --- counted in SQL: what the page shows ---------------------------------------------------------------

@dataclass(frozen=True)
class GroupCounts:
    """One lot's (or placebo fill's) bags, counted by the database: made, each column, returned, and the
    bags that disagree (listed by ``discrepancies_of`` for the groups on the page only)."""

    key: str
    kind: str
    lot_status: str
    made: int
    counts: dict[str, int]
    returned: int
    discrepant: int
    discrepancies: tuple[str, ...] = ()

    @property
    def reconciled(self) -> bool:
        return self.made == sum(self.counts[c] for c in COLUMNS) and not self.discrepant


def _state(now: datetime):
    """The column of each bag, as ``classify`` decides it, as a SQL expression."""
    infused = Bag.id.in_(select(Infusion.bag_id))
    state = case((infused, "infused"), (Bag.custody_state == "infused", "unaccounted"),
                 (Bag.custody_state == "discarded", "discarded"), (Bag.expires_at <= now, "expired"),
                 (Bag.custody_state.in_(IN_STOCK_STATES), "in_stock"), else_="unaccounted")
    disagrees = or_(state == "unaccounted",
                    and_(infused, func.coalesce(Bag.custody_state, "") != "infused"))
    return state, disagrees


def _counted(now: datetime) -> list:
    state, disagrees = _state(now)
    returned = Bag.id.in_(select(CustodyEvent.item_id).where(CustodyEvent.item_type == "bag",
                                                             CustodyEvent.event == "returned"))
    return [func.count(Bag.id), *(func.sum(case((state == c, 1), else_=0)) for c in COLUMNS),
            func.sum(case((returned, 1), else_=0)), func.sum(case((disagrees, 1), else_=0))]


def _group(key: str, kind: str, lot_status: str, numbers: tuple) -> GroupCounts:
    made, *columns, returned, discrepant = (int(n or 0) for n in numbers)
    return GroupCounts(key, kind, lot_status, made, dict(zip(COLUMNS, columns, strict=True)), returned, discrepant)


def page_of_lots(session: Session, page: db.PageRequest, *, now: datetime | None = None) -> db.Page:
    """One page of the lots that have bags (by lot number), each with its bags counted in one grouped
    statement: two statements per page, whatever the number of lots or bags."""
    now = now or utcnow()
    has_bags = select(Bag.id).where(Bag.lot_id == Lot.id).exists()
    lots = db.keyset(session, select(Lot).where(has_bags), (Lot.lot_number,), page)
    by_lot = {row[0]: row[1:] for row in session.execute(
        select(Bag.lot_id, *_counted(now)).where(Bag.lot_id.in_([lot.id for lot in lots.rows])).group_by(Bag.lot_id))}
    groups = [_group(lot.lot_number, "ucmsc", lot.status, by_lot.get(lot.id, (0,) * (len(COLUMNS) + 3)))
              for lot in lots.rows]
    return db.Page(_with_discrepancies(session, groups, now, [lot.id for lot in lots.rows]), lots.next_key)


def placebo_groups(session: Session, *, now: datetime | None = None) -> list[GroupCounts]:
    """The placebo fills (bags without a lot), one group per DIN and saline lot, counted by the database."""
    now = now or utcnow()
    statement = (select(Bag.din, Bag.saline_lot, *_counted(now)).where(Bag.lot_id.is_(None))
                 .group_by(Bag.din, Bag.saline_lot).order_by(Bag.din, Bag.saline_lot))
    groups = [_group(f"{din} (saline {saline or '-'})", "placebo", "placebo", tuple(numbers))
              for din, saline, *numbers in session.execute(statement)]
    return _with_discrepancies(session, groups, now, None)


def totals(session: Session, *, now: datetime | None = None) -> GroupCounts:
    """Every bag made, in each column, as ``classify`` decides, from four counts that do not grow with the bags
    of the past: the tally of bags per custody state the database keeps (``bags.tally``), the bags not yet
    expired per state (``bags.unexpired``, from the expiry index), the infused bags per state and expiry (read
    from the infusions) and the bags returned. Numbers are combined here, never rows."""
    now = now or utcnow()
    every: Counter = Counter()
    for (state, _quality), n in bags.tally(session).items():
        every[state, 1] += n
    for (state, _quality), n in bags.unexpired(session, now=now).items():
        every[state, 1] -= n
        every[state, 0] += n
    past = case((Bag.expires_at <= now, 1), else_=0)
    infused = session.execute(select(Bag.custody_state, past, func.count()).where(Bag.id.in_(select(Infusion.bag_id)))
                              .group_by(Bag.custody_state, past)).all()
    returned = session.execute(select(func.count(func.distinct(CustodyEvent.item_id))).where(
        CustodyEvent.event == "returned", CustodyEvent.item_type == "bag")).scalar_one()
    not_infused: Counter = Counter(every)
    not_infused.subtract({(state, expired): n for state, expired, n in infused})
    counts = Counter({"infused": sum(n for _, _, n in infused)})
    for (state, expired), n in not_infused.items():
        if state == "infused":
            counts["unaccounted"] += n
        elif state == "discarded":
            counts["discarded"] += n
        elif expired:
            counts["expired"] += n
        else:
            counts["in_stock" if state in IN_STOCK_STATES else "unaccounted"] += n
    discrepant = counts["unaccounted"] + sum(n for state, _, n in infused if state != "infused")
    return GroupCounts("all", "", "", sum(every.values()), {c: counts[c] for c in COLUMNS}, returned, discrepant)


def _with_discrepancies(session: Session, groups: list[GroupCounts], now: datetime,
                        lot_ids: list[int] | None) -> list[GroupCounts]:
    """The disagreeing bags of the groups that have any, in words (rare: read only when counted)."""
    if not any(g.discrepant for g in groups):
        return groups
    _, disagrees = _state(now)
    where = Bag.lot_id.in_(lot_ids) if lot_ids is not None else Bag.lot_id.is_(None)
    infused = set(session.exec(select(Infusion.bag_id).join(Bag, Bag.id == Infusion.bag_id).where(where, disagrees)))
    found: dict[str, list[str]] = {}
    for bag, lot_number in session.execute(select(Bag, Lot.lot_number).outerjoin(Lot, Lot.id == Bag.lot_id)
                                           .where(where, disagrees).order_by(Bag.id)):
        key = lot_number or f"{bag.din} (saline {bag.saline_lot or '-'})"
        found.setdefault(key, []).append(f"{bag.bag_code}: {classify(bag, infused=bag.id in infused, now=now)[1]}")
    return [GroupCounts(g.key, g.kind, g.lot_status, g.made, g.counts, g.returned, g.discrepant,
                        tuple(found.get(g.key, ()))) for g in groups]


CSV_COLUMNS = ("lot_or_din", "kind", "bag_id", "state", "custody_state", "quality_status", "expires_at_utc",
               "returned", "discrepancy")


def to_csv(groups: list[LotLines]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for group in groups:
        for line in group.lines:
            bag = line.bag
            writer.writerow([group.key, group.kind, bag.bag_code, line.state, bag.custody_state or "",
                             bag.quality_status, bag.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "yes" if line.returned else "no", line.discrepancy])
    return buffer.getvalue()


def _summary(groups: list[LotLines]) -> Flowable:
    rows = [(g.key, g.kind, g.lot_status, g.made, *(g.counts[c] for c in COLUMNS), g.returned,
             "yes" if g.reconciled else "NO") for g in groups]
    colours = [("TEXTCOLOR", (-1, n), (-1, n), FAIL_COLOUR) for n, g in enumerate(groups, start=1) if not g.reconciled]
    return table(("Lot / DIN", "Kind", "Lot status", "Made", "Infused", "In stock", "Expired", "Discarded",
                  "Returned", "Reconciled"), rows, (62, 18, 26, 14, 16, 18, 16, 18, 18, 22), extra=colours)


def render(groups: list[LotLines], *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    story: list[Flowable] = [para("Bag accountability", TITLE),
                             para(f"Every bag made, as of {when(utcnow(), tz)}. Made = infused + in stock + "
                                  "expired + discarded; returned bags are counted where they are now.", SMALL),
                             para("Per lot", H2), _summary(groups)]
    for group in groups:
        story.append(para(f"{group.key}: {group.made} made", H2))
        rows = [(line.bag.bag_code, line.state.replace("_", " "), line.bag.custody_state or "",
                 when(line.bag.expires_at, tz), "yes" if line.returned else "", line.discrepancy)
                for line in group.lines]
        story.append(table(("Bag", "State", "Custody", "Expires", "Returned", "Discrepancy"), rows,
                           (50, 20, 22, 32, 16, 40)))
        if group.discrepancies:
            story.append(para("Does not reconcile: " + "; ".join(group.discrepancies), SMALL))
    return pdf_document.render(story, title="Bag accountability", site=site, tz=tz, wide=True)
