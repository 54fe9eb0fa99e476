"""Subject dosing summary: per randomized subject, each planned infusion, its bag, planned and given dose.

Planned: the configured cells/kg times the weight recorded at allocation (the subject's registered
weight while no bag is allocated yet); placebo, the configured saline volume. Given: for UC-MSC the
bag's cells times the fraction of its volume infused (a bag run to 45 of 50 ml gave 90% of its cells);
for placebo the volume infused. Nothing is given until the infusion is completed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable
from sqlmodel import Session, select

from cellchain.core import pdf_document
from cellchain.core.pdf_document import H2, SMALL, TITLE, para, table, when
from cellchain.core.types import utcnow
from cellchain.core.words.numbers import cells, volume
from cellchain.manufacturing.models import Bag
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import dosing
from cellchain.ward.models import Infusion


@dataclass(frozen=True)
class DoseLine:
    visit: Visit
    allocation: Allocation | None
    bag: Bag | None
    infusion: Infusion | None
    planned: float
    given: float | None
    unit: str

    @property
    def status(self) -> str:
        if self.infusion is not None:
            return "infused" if self.infusion.status == "completed" else "infusing"
        return "allocated" if self.allocation is not None else "not_allocated"

    @property
    def given_pct(self) -> float | None:
        return None if self.given is None or not self.planned else self.given / self.planned * 100


@dataclass
class SubjectDoses:
    subject: Subject
    lines: list[DoseLine] = field(default_factory=list)


def _line(visit: Visit, subject: Subject, allocation: Allocation | None, bag: Bag | None,
          infusion: Infusion | None, *, cells_per_kg: float, placebo_volume_ml: float) -> DoseLine:
    done = infusion is not None and infusion.status == "completed" and infusion.volume_ml is not None
    if subject.arm == "B":
        return DoseLine(visit, allocation, bag, infusion, placebo_volume_ml, infusion.volume_ml if done else None,
                        "ml")
    weight = allocation.weight_kg if allocation is not None else subject.weight_kg
    planned = dosing.required_cells(weight, cells_per_kg)
    given = None
    if done and bag is not None and bag.total_cells:
        given = bag.total_cells * infusion.volume_ml / bag.volume_ml
    return DoseLine(visit, allocation, bag, infusion, planned, given, "cells")


def gather(session: Session, *, cells_per_kg: float, placebo_volume_ml: float) -> list[SubjectDoses]:
    subjects = list(session.exec(select(Subject).where(Subject.arm.is_not(None)).order_by(Subject.subject_code)))
    visits = list(session.exec(select(Visit).where(Visit.kind == "infusion").order_by(Visit.target_date)))
    allocations = {a.visit_id: a for a in session.exec(select(Allocation))}
    infusions = {i.visit_id: i for i in session.exec(select(Infusion))}
    bags = {b.id: b for b in session.exec(select(Bag).where(Bag.id.in_([a.bag_id for a in allocations.values()])))} \
        if allocations else {}
    by_subject = {s.id: SubjectDoses(s) for s in subjects}
    for visit in visits:
        doses = by_subject.get(visit.subject_id)
        if doses is None:
            continue
        allocation = allocations.get(visit.id)
        bag = bags.get(allocation.bag_id) if allocation else None
        doses.lines.append(_line(visit, doses.subject, allocation, bag, infusions.get(visit.id),
                                 cells_per_kg=cells_per_kg, placebo_volume_ml=placebo_volume_ml))
    return list(by_subject.values())


def amount(value: float | None, unit: str, cells_word: str = "{cells} cells") -> str:
    """``7.00e7 cells`` or ``50 ml``; a dash for nothing given yet (``cells_word``: the page's wording)."""
    if value is None:
        return "-"
    return cells_word.format(cells=cells(value)) if unit == "cells" else volume(value)


def render(summary: list[SubjectDoses], *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    story: list[Flowable] = [para("Subject dosing summary", TITLE),
                             para(f"As of {when(utcnow(), tz)}. Planned: cells/kg x weight at allocation (arm A) or "
                                  "the saline volume (arm B); given: the infused share of the bag.", SMALL)]
    for doses in summary:
        s = doses.subject
        story.append(para(f"{s.subject_code}: arm {s.arm}, {s.weight_kg:g} kg at registration", H2))
        rows = [(f"week {line.visit.week}", f"{line.visit.window_start} to {line.visit.window_end}",
                 line.bag.bag_code if line.bag else "", amount(line.planned, line.unit),
                 amount(line.given, line.unit), "" if line.given_pct is None else f"{line.given_pct:.0f}%",
                 line.status.replace("_", " "), when(line.infusion.started_at, tz) if line.infusion else "")
                for line in doses.lines]
        story.append(table(("Visit", "Window", "Bag", "Planned", "Given", "Given / planned", "Status", "Started"),
                           rows, (14, 34, 40, 22, 22, 14, 14, 20)) if rows else para("No infusion visits planned."))
    if not summary:
        story.append(para("No randomized subjects."))
    return pdf_document.render(story, title="Subject dosing summary", site=site, tz=tz)
