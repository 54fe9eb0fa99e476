"""Bag accountability: every bag made, where it ended, reconciled per lot (or per placebo DIN).

Each bag falls in exactly one column: infused, in stock (at the lab, in storage, dispatched or on the
ward), expired (not infused and past its expiry), or discarded. A lot reconciles when the bags made
equal the sum of those columns and nothing disagrees: a bag whose custody says infused without an
infusion record (or the reverse), or a bag whose custody state fits no column, is listed as a
discrepancy and the lot does not reconcile. "Returned" counts bags that came back from the ward at
least once; they are also counted in the column where they are now.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable
from sqlmodel import Session, select

from cellchain.core import pdf_document
from cellchain.core.pdf_document import FAIL_COLOUR, H2, SMALL, TITLE, para, table, when
from cellchain.core.types import utcnow
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
