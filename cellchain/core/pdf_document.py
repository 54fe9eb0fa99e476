"""What the chain-of-custody, accountability and dosing reports share: styles, tables, times, the page frame.

Every page names the site, the report, when it was printed (site time and UTC) and "page n", so a loose
page of a printout can still be placed. User-entered text is escaped before it reaches reportlab's
paragraph markup: a location typed as ``<b>`` must print as typed, not as bold.

A report is worded and set in the reader's language (docs/architecture.md, "Languages"): for Chinese every
paragraph, table cell and page frame uses reportlab's built-in CID font STSong-Light (Adobe's simplified
Chinese font that PDF readers carry, so nothing is embedded) and breaks lines between any two characters,
as Chinese is written without spaces.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from cellchain.core.words.moments import site_clock

_BASE = getSampleStyleSheet()
TITLE = ParagraphStyle("cc-title", parent=_BASE["Title"], fontSize=16, leading=19, spaceAfter=4)
H2 = ParagraphStyle("cc-h2", parent=_BASE["Heading2"], fontSize=12, leading=15, spaceBefore=8, spaceAfter=3)
BODY = ParagraphStyle("cc-body", parent=_BASE["BodyText"], fontSize=9, leading=11)
SMALL = ParagraphStyle("cc-small", parent=BODY, fontSize=7.5, leading=9)
PASS_COLOUR = colors.HexColor("#17663a")
FAIL_COLOUR = colors.HexColor("#a61b1b")
CHINESE_FONT = "STSong-Light"
# Each English style with its Chinese twin, by identity (two modules may reuse a style's name).
_localised: dict[int, tuple[ParagraphStyle, ParagraphStyle]] = {}


def reader_language() -> str:
    """The language the document is made in: the request's (or ``force_locale``'s), English outside one."""
    locale = get_locale()
    return "zh" if locale is not None and locale.language == "zh" else "en"


def font_for_reader(*, bold: bool = False) -> str:
    """The font that writes the reader's language: STSong-Light for Chinese, else Helvetica (bold if asked)."""
    if reader_language() == "zh":
        if CHINESE_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))
        return CHINESE_FONT
    return "Helvetica-Bold" if bold else "Helvetica"


def in_reader_font(style: ParagraphStyle) -> ParagraphStyle:
    """``style`` set in the reader's language's font; the style itself for English."""
    font = font_for_reader()
    if font != CHINESE_FONT:
        return style
    known = _localised.get(id(style))
    if known is None or known[0] is not style:
        known = (style, ParagraphStyle(f"{style.name}-{font}", parent=style, fontName=font, wordWrap="CJK"))
        _localised[id(style)] = known
    return known[1]


def table_font() -> list[tuple]:
    """A TableStyle command putting a table's plain (non-paragraph) cells in the reader's font."""
    return [("FONTNAME", (0, 0), (-1, -1), font_for_reader())] if reader_language() == "zh" else []


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    """Site time with its zone, as people at the site read clocks; empty for no time."""
    if moment is None:
        return ""
    return site_clock(moment, tz)


def para(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), in_reader_font(style))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
          *, style: ParagraphStyle = SMALL, extra: Sequence[tuple] = ()) -> Table:
    """A ruled table whose header repeats on each page; cells wrap (each is a paragraph)."""
    data = [[para(h, style) for h in header]]
    data += [[c if isinstance(c, Flowable) else para(c, style) for c in row] for row in rows]
    result = Table(data, colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
    result.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        *extra,
    ]))
    return result


def facts(pairs: Sequence[tuple[str, Any]], widths: tuple[float, float] = (45, 135)) -> Table:
    """Label / value lines, as on a record's cover."""
    result = Table([[para(k, BODY), para(v, BODY)] for k, v in pairs], colWidths=[w * mm for w in widths],
                   hAlign="LEFT")
    result.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TEXTCOLOR", (0, 0), (0, -1), colors.grey),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return result


def render(story: list[Flowable], *, title: str, site: str, tz: ZoneInfo, wide: bool = False) -> bytes:
    """The PDF of ``story`` with a header and footer on every page."""
    printed = datetime.now(UTC)
    stamp = _("printed %(site_time)s / %(utc)s UTC", site_time=when(printed, tz),
              utc=printed.strftime("%Y-%m-%d %H:%M"))
    font = font_for_reader()
    size = landscape(A4) if wide else A4

    def frame(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.drawString(15 * mm, size[1] - 10 * mm, f"{site} · {title}")
        canvas.drawString(15 * mm, 8 * mm, stamp)
        canvas.drawRightString(size[0] - 15 * mm, 8 * mm, _("page %(number)s", number=doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=size, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, author=site)
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
    return buffer.getvalue()
