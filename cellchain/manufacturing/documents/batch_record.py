"""The printable batch record of a lot (reportlab).

What a QA reviewer signs off: the lot and its cord's DIN, the donor eligibility determination, every
SOP step with its performer and time, each second-person verification shown as a signature
manifestation (printed name, date and time, meaning: 21 CFR 11.50) and whether the step still reads
as it did when signed (Annex 11 section 8.2), the passages with their population doublings, and
whatever is still missing. Times are printed in the site's zone with UTC beside them. Every heading and
label is in the reader's language, set in its font (``core/pdf_document.py``, docs/architecture.md "Languages").
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cellchain.core.pdf_document import font_for_reader, in_reader_font, table_font
from cellchain.core.words import N_, translated
from cellchain.core.words.labels import label
from cellchain.core.words.moments import site_clock
from cellchain.core.words.numbers import cells, cells_and_power, volume
from cellchain.manufacturing.lots import LotView

_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=8.5, leading=10.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
H1, H2 = _STYLES["Heading1"], _STYLES["Heading2"]
_GRID = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
         ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTSIZE", (0, 0), (-1, -1), 8)]


def _grid() -> TableStyle:
    """The ruled grid of the record's tables, its plain cells in the reader's font."""
    return TableStyle([*_GRID, *table_font()])


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return ""
    return f"{site_clock(moment, tz)} ({moment.astimezone(UTC):%H:%M} UTC)"


def _p(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)), in_reader_font(style))


def _details(details: dict[str, Any]) -> str:
    """A step's details as the lot page shows them: each name in words, then its value."""
    return "; ".join(f"{label(k)}: {v}" for k, v in details.items())


def _instruments(entry) -> str:
    """The instruments a step (or a vial's thaw) used, each flagged if it was not fit for use then
    (docs/rules.md, "Equipment")."""
    if not entry.instruments:
        return ""
    names = [f"{u.instrument.code} {u.instrument.name}" + ("" if u.fit else " - " + translated(N_("NOT FIT WHEN USED"))
                                                           + ": " + "; ".join(r.message for r in u.problems))
             for u in entry.instruments]
    return translated(N_("Instruments used")) + ": " + ", ".join(names)


def _thaw(view: LotView, tz: ZoneInfo) -> list[list[str]]:
    """A lot thawed from a bank vial: the vial, when and by whom, its viability, and the thaw's instruments."""
    if view.thaw is None:
        return []
    vial = view.thaw.vial
    said = ", ".join((f"{vial.vial_code} ({view.thaw.bank.bank_code})", _when(vial.thawed_at, tz),
                      view.name(vial.thawed_by),
                      _("%(viability)s%% viable after thaw", viability=vial.post_thaw_viability_pct)))
    return [[_("Thawed"), " | ".join(t for t in (said, _instruments(view.thaw)) if t)]]


def _facts(view: LotView, tz: ZoneInfo, facility: str) -> Table:
    lot, cord = view.lot, view.collection
    rows = [[_("Facility"), facility], [_("Lot"), lot.lot_number], [_("Cord DIN"), cord.din],
            [_("Donor code"), cord.donor_code],
            [_("Collected"), _("%(when)s at %(site)s", when=_when(cord.collected_at, tz), site=cord.site)],
            [_("Donor eligibility"), label(cord.eligibility) + "".join(f"; {r['message']}"
                                                                        for r in cord.eligibility_reasons)],
            [_("Status"), label(lot.status)], [_("QC specification"), lot.spec_version],
            [_("Started"), _("%(when)s by %(who)s", when=_when(lot.created_at, tz), who=view.name(lot.created_by))],
            *_thaw(view, tz),
            [_("Harvest"), "" if lot.harvested_cells is None
             else _("%(cells)s cells at %(when)s", cells=cells_and_power(lot.harvested_cells),
                    when=_when(lot.harvested_at, tz))],
            [_("Formulation"), "" if view.formulated_cells is None else
             _("%(concentration)s cells/ml x %(volume)s = %(cells)s cells",
               concentration=cells(lot.formulated_cells_per_ml), volume=volume(lot.formulated_volume_ml),
               cells=cells_and_power(view.formulated_cells))]]
    table = Table([[_p(k), _p(v)] for k, v in rows], colWidths=[40 * mm, 130 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _verification(entry, tz: ZoneInfo) -> str:
    if entry.signature is None:
        return _("NOT VERIFIED - required") if entry.needs_verification else _("not required")
    sig = entry.signature
    unchanged = "" if entry.signature_intact else _(" - WARNING: step changed since signing")
    return _("%(signer)s, %(when)s, meaning: %(meaning)s", signer=sig.signer_name, when=_when(sig.signed_at, tz),
             meaning=label(sig.meaning)) + unchanged


def _materials(view: LotView, step_id: int) -> str:
    """The material lots used at the step (docs/rules.md, "Materials"): material, supplier lot, this site's
    code, quantity, expiry and the lot's status when it was used."""
    return "".join(f"; material: {m.material} lot {m.supplier_lot} ({m.code}), {m.quantity:g} {m.unit}, "
                   f"expires {m.expires_on.isoformat()}, {label(m.status_at_use)} when used"
                   for m in view.record.materials.get(step_id, []))


def _steps(view: LotView, tz: ZoneInfo) -> Table:
    rows = [[_("Step"), _("Performed by / at"), _("Details and material lots"),
             _("Second-person verification (e-signature)")]]
    for entry in view.record.entries:
        step = entry.step
        rows.append([_p(entry.title), _p(f"{entry.performer.full_name if entry.performer else ''}, "
                                         f"{_when(step.performed_at, tz)}"),
                     _p(" | ".join(t for t in (_details(step.details) + _materials(view, step.id), _instruments(entry))
                                   if t), SMALL),
                     _p(_verification(entry, tz), SMALL)])
    table = Table(rows, colWidths=[32 * mm, 42 * mm, 52 * mm, 50 * mm], repeatRows=1)
    table.setStyle(_grid())
    return table


def _passages(view: LotView, tz: ZoneInfo) -> Table:
    rows = [["P", _("Seeded"), _("Harvested"), _("Viability"), _("Seeded at"), _("Harvested at"), "PD",
             _("Cumulative PD")]]
    for p in view.passages:
        rows.append([f"P{p.number}", cells(p.seeded_cells), cells(p.harvested_cells), f"{p.viability_pct:g}%",
                     _p(_when(p.seeded_at, tz), SMALL), _p(_when(p.harvested_at, tz), SMALL),
                     f"{p.population_doublings:.2f}", f"{p.cumulative_doublings:.2f}"])
    table = Table(rows, colWidths=[10 * mm, 22 * mm, 22 * mm, 15 * mm, 37 * mm, 37 * mm, 14 * mm, 19 * mm],
                  repeatRows=1)
    table.setStyle(_grid())
    return table


def _bags(view: LotView) -> Table:
    """Each bag as the lot page lists it: its code, volume in ml and cells in grouped digits."""
    rows = [[_("Bag"), _("Volume"), _("Cells"), _("Quality status")]]
    rows += [[b.bag_code, volume(b.volume_ml), cells(b.total_cells) or _("not recorded"), label(b.quality_status)]
             for b in view.bags]
    table = Table(rows, colWidths=[60 * mm, 25 * mm, 40 * mm, 45 * mm], repeatRows=1)
    table.setStyle(_grid())
    return table


def _labels(view: LotView) -> Table:
    """The lot's labels reconciled (FACT-JACIE): printed in all, and each accounted for or not yet."""
    tally = view.labels
    rows = [[_p(text, SMALL) for text in (_("Labels printed"), _("Labels applied"), _("Labels voided"),
                                           _("Labels destroyed"), _("Labels not yet accounted for"))],
            [str(tally[k]) for k in ("printed", "applied", "voided", "destroyed", "unaccounted")]]
    table = Table(rows, colWidths=[34 * mm] * 5)
    table.setStyle(_grid())
    return table


def _footer(generated: str):
    font = font_for_reader()

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(15 * mm, 10 * mm, generated)
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, _("page %(number)s", number=doc.page))
        canvas.restoreState()
    return draw


def render_batch_record(view: LotView, *, tz: ZoneInfo, facility: str, printed_by: str,
                        printed_at: datetime) -> bytes:
    """The batch record PDF of ``view``'s lot."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=_("Batch record %(lot)s", lot=view.lot.lot_number))
    story: list[Any] = [_p(_("Batch record - lot %(lot)s", lot=view.lot.lot_number), H1), _facts(view, tz, facility),
                        Spacer(1, 4 * mm), _p(_("Passages"), H2)]
    story.append(_passages(view, tz) if view.passages else _p(_("No passage recorded.")))
    doublings = format(view.cumulative_doublings, ".2f")
    story += [_p(_("Cumulative population doublings: %(doublings)s", doublings=doublings)),
              _p(_("Steps"), H2)]
    story.append(_steps(view, tz) if view.record.entries else _p(_("No step recorded.")))
    story.append(_p(_("Completeness"), H2))
    if view.record.complete:
        story.append(_p(_("Complete: every step of the SOP is recorded and every required verification is signed.")))
    else:
        missing = len(view.record.missing)
        story.append(_p(_("INCOMPLETE - 1 item missing:") if missing == 1
                        else _("INCOMPLETE - %(count)s items missing:", count=missing)))
        story += [_p(f"- {reason.message} [{reason.code}]") for reason in view.record.missing]
    if view.bags:
        story += [_p(_("Bags filled"), H2),
                  _p(_("1 bag:") if len(view.bags) == 1 else _("%(count)s bags:", count=len(view.bags))), _bags(view)]
    if view.labels.get("printed"):
        story += [_p(_("Labels of the lot"), H2), _labels(view)]
    generated = _("Printed %(when)s by %(who)s from cellchain; lot %(lot)s", when=_when(printed_at, tz),
                  who=printed_by, lot=view.lot.lot_number)
    doc.build(story, onFirstPage=_footer(generated), onLaterPages=_footer(generated))
    return buffer.getvalue()
