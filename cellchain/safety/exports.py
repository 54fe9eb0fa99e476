"""The adverse-event listing and the summary by arm as CSV and PDF (docs/rules.md, "Safety: listing and
summary"). The same rows the page shows: ``events.listing`` and ``rules.summary.by_arm``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from reportlab.platypus import Flowable

from cellchain.core import pdf_document
from cellchain.core.pdf_document import H2, SMALL, TITLE, para, table, when
from cellchain.core.types import utcnow
from cellchain.core.words import translated
from cellchain.safety.events import EventRow
from cellchain.safety.rules.summary import ARM_NAMES, ArmCounts, by_arm
from cellchain.safety.rules.terms import GRADES

CSV_COLUMNS = ("event_id", "subject_id", "arm", "infusion_week", "status", "version", "term", "category",
               "special_interest", "onset_on", "resolved_on", "grade", "serious", "seriousness", "causality",
               "expectedness", "action_taken", "outcome", "biopsy_proven", "rejection_treatment", "aware_at")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(rows: Sequence[EventRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        e = row.event
        writer.writerow([_cell(v) for v in (
            e.id, row.subject_code, row.arm, row.week, e.status, e.version, e.term, e.category, e.special_interest,
            e.onset_on, e.resolved_on, e.grade, e.serious, ";".join(e.seriousness or ()), e.causality,
            e.expectedness, e.action_taken, e.outcome, e.biopsy_proven, e.rejection_treatment,
            e.aware_at.strftime("%Y-%m-%dT%H:%M:%SZ"))])
    return buffer.getvalue()


def summary_of(rows: Sequence[EventRow]) -> list[ArmCounts]:
    """The summary counts confirmed events only: a draft is not yet the investigator's assessment."""
    return by_arm(row.counted() for row in rows if row.event.status == "confirmed")


def _summary_table(arms: list[ArmCounts]) -> Flowable:
    header = (_("Arm"), _("Events"), _("Subjects"), *(_("Grade %(g)s", g=g) for g in GRADES), _("Serious"),
              _("Related"), _("Special interest"))
    data = [(f"{a.arm or '-'} ({a.name})", a.events, a.subjects_with_event, *(n for _, n in a.grade_counts()),
             a.serious, a.related, a.special_interest) for a in arms]
    return table(header, data, (40, 16, 18, 16, 16, 16, 16, 16, 18, 18, 24))


def render(rows: Sequence[EventRow], *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    arms = summary_of(rows)
    story: list[Flowable] = [
        para(_("Adverse events: listing and summary by arm"), TITLE),
        para(_("As of %(when)s. Open label: arm A is UC-MSC, arm B placebo. The summary counts events the "
               "investigator has confirmed; the listing shows drafts too. Grades CTCAE v5.0; seriousness ICH E2A; "
               "relatedness WHO-UMC (related: certain, probable, possible).", when=when(utcnow(), tz)), SMALL),
        para(_("Summary by arm"), H2), _summary_table(arms), para(_("Listing"), H2)]
    listing = [(e.id, row.subject_code, f"{row.arm or '-'} ({_arm_name(row.arm)})", e.term,
                e.category.replace("_", " "), _cell(e.onset_on), _cell(e.resolved_on), _cell(e.grade),
                ", ".join(e.seriousness) or _("no"), _cell(e.causality), _cell(e.expectedness),
                _cell(e.action_taken), _cell(e.outcome), e.status)
               for row in rows for e in (row.event,)]
    story.append(table(("#", _("Subject"), _("Arm"), _("Term"), _("Category"), _("Onset"), _("Resolved"), _("Grade"),
                        _("Serious"), _("Relatedness"), _("Expected"), _("Action"), _("Outcome"), _("Status")),
                       listing, (8, 22, 22, 34, 24, 18, 18, 11, 26, 20, 18, 20, 20, 16))
                 if listing else para(_("No adverse events recorded.")))
    return pdf_document.render(story, title=_("Adverse events"), site=site, tz=tz, wide=True)


def _arm_name(arm: str | None) -> str:
    return translated(ARM_NAMES[arm]) if arm in ARM_NAMES else ""
