"""The look-back as CSV and PDF (docs/rules.md, "Quality: look-back"): the same rows its page shows, for
the investigators' and QA's files and for the physicians who must follow the subjects up."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from reportlab.platypus import Flowable

from cellchain.core import pdf_document
from cellchain.core.pdf_document import H2, SMALL, TITLE, para, table, when
from cellchain.core.words.labels import label
from cellchain.quality.recall.lookback import Lookback
from cellchain.quality.rules.holds import item_words

CSV_COLUMNS = ("section", "kind", "id", "from", "status", "custody_state", "position", "subject_id", "week",
               "bag_id", "lot_id", "infusion_started_at", "infusion_ended_at")


def _utc(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""


def to_csv(found: Lookback) -> str:
    """One row per derived item, then one per subject infused: plain codes, times in UTC."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for i in found.items:
        writer.writerow(["item", i.kind, i.code, i.parent, i.status, i.custody_state or "", i.position or "",
                         "", "", "", "", "", ""])
    for r in found.subjects:
        writer.writerow(["subject", "", "", "", "", "", "", r.subject_code, r.week, r.bag_code, r.lot_number or "",
                         _utc(r.started_at), _utc(r.ended_at)])
    return buffer.getvalue()


def render(found: Lookback, *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    title = _("Look-back from %(item)s", item=item_words(found.kind, found.code))
    story: list[Flowable] = [
        para(title, TITLE),
        para(_("As of %(when)s. Every item derived from it, with its status and where it is now, and every subject "
               "who received any of it. 21 CFR 1271.290; Directive 2004/23/EC art. 8.", when=when(found.made_at, tz)),
             SMALL),
        para(_("Subjects infused (%(subjects)s)", subjects=len(found.subjects)), H2)]
    subjects = [(r.subject_code, _("week %(week)s", week=r.week), r.bag_code, r.lot_number or "",
                 when(r.started_at, tz), when(r.ended_at, tz)) for r in found.subjects]
    story.append(table((_("Subject"), _("Visit"), _("Bag"), _("Lot"), _("Infusion started"), _("Ended")), subjects,
                       (26, 18, 48, 34, 34, 34)) if subjects else para(_("No subject received any of it.")))
    story.append(para(_("Items (%(items)s)", items=len(found.items)), H2))
    rows = [(label(i.kind), i.code, i.parent, label(i.status), label(i.custody_state) if i.custody_state else "",
             i.position or "") for i in found.items]
    story.append(table((_("Kind"), _("Id"), _("From"), _("Status"), _("Custody"), _("Stored at")), rows,
                       (18, 50, 44, 26, 26, 56)))
    return pdf_document.render(story, title=title, site=site, tz=tz, wide=True)
