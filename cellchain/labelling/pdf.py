"""Render a label template and a batch of plain data dicts to ONE PDF, a page per label at label size.

Why it is built this way:

- One PDF per print job, each page exactly the label's physical size, so a label printer driver prints
  at 100 % without scaling (a scaled Code 128 changes its narrow bar and may stop scanning).
- The reportlab canvas is driven directly (no platypus), and 2D symbols are drawn as one filled path of
  horizontal runs, so a 500-bag job renders in seconds.
- Code 128 uses reportlab's ``Code128`` (narrow bar = ``module_mm``, quiet zones of 10 modules, no
  built-in human-readable line: we print the ISBT eye-readable text, which omits the data identifier).
- Data Matrix uses reportlab's ``ECC200DataMatrix`` for Reed-Solomon and module placement, with its
  C40 encoder replaced: reportlab 5's C40 maps ``:;<=>?@`` to the wrong values and pads a final lone
  value with a NUL, so ISBT 128 data (``=``, ``<``, ``>``) came back wrong from scanners. We encode in
  ASCII mode (digit pairs packed), which is correct and more compact for the mostly numeric ISBT data.
  Its symbol is always 44 x 44 modules (the only size reportlab implements).
- Text a standard font cannot show (Chinese) prints in the embedded TrueType CJK font (``site/fonts.py``),
  filled and stroked where the template asks for bold, since that font has no bold face.
- Identifiers (DIN, boxed check character) use Courier-Bold: a monospace in which 0 is a narrow oval and
  O round, 1 has a flag and foot and I has serifs; a standard PDF font, so no font file to install. A
  Chinese caption before an identifier ("批号 Lot ", "身份链 COI ") prints in the CJK font and the identifier
  after it in Courier-Bold still, on the same baseline (``templates.layout_text``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.ecc200datamatrix import ECC200DataMatrix
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from cellchain.labelling.site import fonts
from cellchain.labelling.templates import (
    REPRINT_TEXT,
    Element,
    LabelTemplate,
    barcode_value,
    human_readable,
    is_printed,
    layout_text,
    line_height_mm,
    resolve,
    run_width_pt,
    wants_reprint,
)

QUIET_128 = 10  # modules each side (ISBT 128)
QUIET_DM = 1
QUIET_QR = 4
HR_GAP_MM = 0.6  # between the bars and the eye-readable text
DATAMATRIX_MODULES = 44


def render_pdf(kind_or_template: str | Path | LabelTemplate, labels: Iterable[Mapping[str, Any]], *,
               labels_dir: Path | None = None) -> bytes:
    """Render every label of a print job into one PDF (one page per label) and return its bytes.

    A label whose data cannot print exactly (missing field, a symbol that does not fit, text that would
    be clipped) stops the whole job with a ValueError naming the label and element: half a job of
    cell-therapy labels is harder to reconcile than none.
    """
    template = resolve(kind_or_template, labels_dir)
    batch = list(labels)
    if not batch:
        raise ValueError("no labels to render")
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(template.width_mm * mm, template.height_mm * mm), invariant=1,
                    pageCompression=1)
    canvas.setTitle(f"cellchain {template.kind} labels")
    canvas.setCreator("cellchain")
    for number, data in enumerate(batch, start=1):
        _draw_label(canvas, template, data, number)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_label(canvas: Canvas, template: LabelTemplate, data: Mapping[str, Any], number: int) -> None:
    for element in template.elements:
        if is_printed(element, data):
            _DRAW[element.type](canvas, template, element, data, number)
    if wants_reprint(data):
        _draw_reprint(canvas, template)


def _top(template: LabelTemplate, y_mm: float) -> float:
    """Templates measure from the top-left; PDF from the bottom-left."""
    return (template.height_mm - y_mm) * mm


def _draw_text(canvas: Canvas, template: LabelTemplate, e: Element, data: Mapping[str, Any], n: int) -> None:
    block = layout_text(template, e, data, n)
    x, top, step = e.x_mm * mm, _top(template, e.y_mm), line_height_mm(e) * mm
    for i, runs in enumerate(block.runs):
        # runs in two fonts (a Chinese caption, then an identifier) share the baseline of the taller
        baseline = top - max(pdfmetrics.getAscent(run.font, e.size_pt) for run in runs) - i * step
        if len(runs) > 1:
            widths = [run_width_pt(run, e.size_pt) for run in runs]
            room = (e.width_mm or 0) * mm - sum(widths)
            left = x + {"center": room / 2, "right": room}.get(e.align, 0.0)
            for run, width in zip(runs, widths, strict=True):
                _show(canvas, left, baseline, run.text, run.font, e.size_pt, run.bold)
                left += width
            continue
        line, font, bold = runs[0].text, runs[0].font, runs[0].bold
        if e.align == "center":
            _show(canvas, x + (e.width_mm or 0) * mm / 2, baseline, line, font, e.size_pt, bold, "center")
        elif e.align == "right":
            _show(canvas, x + (e.width_mm or 0) * mm, baseline, line, font, e.size_pt, bold, "right")
        else:
            _show(canvas, x, baseline, line, font, e.size_pt, bold)


def _show(canvas: Canvas, x: float, baseline: float, text: str, font: str, size_pt: float, bold: bool,
          align: str = "left") -> None:
    """One line of text; ``bold`` draws it filled and stroked (text render mode 2) with a line of
    ``fonts.BOLD_STROKE_EM``: the synthetic bold of a font without a bold face (``site/fonts.py``)."""
    draw = {"center": canvas.drawCentredString, "right": canvas.drawRightString}.get(align, canvas.drawString)
    canvas.setFont(font, size_pt)
    if not bold:
        draw(x, baseline, text)
        return
    canvas.saveState()
    canvas.setLineWidth(size_pt * fonts.BOLD_STROKE_EM)
    canvas.setLineJoin(1)  # round joins: no spikes at the sharp corners of strokes
    draw(x, baseline, text, mode=2)
    canvas.restoreState()


def code128_codewords(value: str) -> list[int]:
    """reportlab's Code 128 symbol values (start, data with subset switches, check, stop); the ZPL
    renderer replays them so both outputs print the same symbol at the same width."""
    return list(_code128_values(value))


def code128_width_mm(value: str, module_mm: float) -> float:
    """Whole symbol width including both quiet zones: 11 modules a symbol, 13 for the stop."""
    return (11 * len(code128_codewords(value)) + 2 + 2 * QUIET_128) * module_mm


@lru_cache(maxsize=1024)
def _code128_values(value: str) -> tuple[int, ...]:
    symbol = Code128(value, humanReadable=0, quiet=0)
    symbol.validate()
    return tuple(symbol.encode())


def _symbol_fits(template: LabelTemplate, e: Element, width_mm: float, height_mm: float, n: int) -> None:
    """Refuse a symbol that would run past the label edge (or its max_width_mm): clipped bars scan wrong."""
    room = e.max_width_mm if e.max_width_mm is not None else template.width_mm - e.x_mm
    if width_mm > room + 0.01 or e.y_mm + height_mm > template.height_mm + 0.01:
        raise ValueError(f"label {n}: {e.where}: symbol {width_mm:.1f} x {height_mm:.1f} mm does not fit "
                         f"({room:.1f} mm wide available)")


def _draw_code128(canvas: Canvas, template: LabelTemplate, e: Element, data: Mapping[str, Any],
                  n: int) -> None:
    value, module, height = barcode_value(e, data, n), e.module_mm or 0.0, e.height_mm or 0.0
    width = code128_width_mm(value, module)
    text = human_readable(e, data, n)
    hr_font = fonts.font_for(text, e.hr_font)
    ascent, descent = pdfmetrics.getAscentDescent(hr_font, e.hr_size_pt)
    _symbol_fits(template, e, width, height + HR_GAP_MM + (ascent - descent) / mm, n)
    quiet = QUIET_128 * module * mm
    symbol = Code128(value, barWidth=module * mm, barHeight=height * mm, humanReadable=0, quiet=1,
                     lquiet=quiet, rquiet=quiet)
    top = _top(template, e.y_mm)
    symbol.drawOn(canvas, e.x_mm * mm, top - height * mm)
    bold = fonts.synthetic_bold(e.hr_font, hr_font)
    baseline = top - (height + HR_GAP_MM) * mm - ascent
    if e.hr_align == "center":
        _show(canvas, (e.x_mm + width / 2) * mm, baseline, text, hr_font, e.hr_size_pt, bold, "center")
    else:
        _show(canvas, e.x_mm * mm + quiet, baseline, text, hr_font, e.hr_size_pt, bold)


class _IsbtDataMatrix(ECC200DataMatrix):
    """ECC 200 in ASCII encodation; reportlab's C40 encoder corrupts ``:;<=>?@`` (see module docstring)."""

    def _encode_c40(self, value: str) -> list[int]:  # the name reportlab's encode() calls
        words: list[int] = []
        i = 0
        while i < len(value):
            pair = value[i:i + 2]
            if len(pair) == 2 and pair.isdigit() and pair.isascii():
                words.append(130 + int(pair))
                i += 2
                continue
            code = ord(value[i])
            words.extend([code + 1] if code < 128 else [235, code - 127])
            i += 1
        if len(words) > self.cw_data:
            raise ValueError(f"too much data for a {DATAMATRIX_MODULES} x {DATAMATRIX_MODULES} Data Matrix")
        if len(words) < self.cw_data:
            words.append(129)  # first pad; then the 253-state randomised pads of ISO/IEC 16022 5.2.3
        while len(words) < self.cw_data:
            pad = 129 + (149 * (len(words) + 1)) % 253 + 1
            words.append(pad - 254 if pad > 254 else pad)
        return words


@lru_cache(maxsize=512)
def _datamatrix_rows(value: str) -> tuple[tuple[bool, ...], ...]:
    symbol = _IsbtDataMatrix(value)
    symbol.validate()
    return tuple(tuple(bool(m) for m in row) for row in reversed(symbol.encode()))  # top row first


@lru_cache(maxsize=512)
def _qr_rows(value: str, ec_level: str) -> tuple[tuple[bool, ...], ...]:
    qr = QrCodeWidget(value, barLevel=ec_level).qr
    qr.make()
    return tuple(tuple(bool(m) for m in row) for row in qr.modules)


def qr_modules(value: str, ec_level: str) -> int:
    """Modules across the QR symbol (without quiet zone); its version follows from the data length."""
    return len(_qr_rows(value, ec_level))


def _fill_modules(canvas: Canvas, rows: tuple[tuple[bool, ...], ...], x: float, top: float,
                  module: float) -> None:
    """Draw dark modules as one path of runs on a whole-module grid: the coordinate system is moved to the
    symbol's top-left corner and scaled to one module, so every edge is a whole number and neighbouring
    modules share their edges exactly. A printer driver or rasteriser that turns the page into dots without
    grey (203 to 600 dpi) then leaves no white hairline between two dark modules, which rounded
    coordinates did."""
    ops = [f"q 1 0 0 1 {x:.6f} {top:.6f} cm {module:.6f} 0 0 {module:.6f} 0 0 cm"]
    for r, row in enumerate(rows):
        col = 0
        for dark, run in groupby(row):
            length = len(list(run))
            if dark:
                ops.append(f"{col} {-(r + 1)} {length} 1 re")
            col += length
    canvas.addLiteral("\n".join(ops) + "\nf Q")


def _draw_2d(canvas: Canvas, template: LabelTemplate, e: Element, data: Mapping[str, Any], n: int) -> None:
    value, module = barcode_value(e, data, n), e.module_mm or 0.0
    rows = _datamatrix_rows(value) if e.type == "datamatrix" else _qr_rows(value, e.ec_level)
    quiet = QUIET_DM if e.type == "datamatrix" else QUIET_QR
    size = (len(rows) + 2 * quiet) * module
    _symbol_fits(template, e, size, size, n)
    offset = quiet * module
    _fill_modules(canvas, rows, (e.x_mm + offset) * mm, _top(template, e.y_mm + offset), module * mm)


def _draw_box(canvas: Canvas, template: LabelTemplate, e: Element, data: Mapping[str, Any], n: int) -> None:
    """A frame, with a centred character: the boxed ISBT 128 check character K after the DIN."""
    width, height, top = (e.width_mm or 0) * mm, (e.height_mm or 0) * mm, _top(template, e.y_mm)
    canvas.setLineWidth(e.thickness_mm * mm)
    canvas.rect(e.x_mm * mm, top - height, width, height, stroke=1, fill=0)
    block = layout_text(template, e, data, n) if (e.field or e.text) else None
    run = block.runs[0][0] if block else None  # a box takes no prefix: its line is one run
    if run and run.text:
        baseline = top - height / 2 - pdfmetrics.getAscent(run.font, e.size_pt) * 0.45
        _show(canvas, e.x_mm * mm + width / 2, baseline, run.text, run.font, e.size_pt, run.bold, "center")


def _draw_line(canvas: Canvas, template: LabelTemplate, e: Element, data: Mapping[str, Any], n: int) -> None:
    canvas.setLineWidth(e.thickness_mm * mm)
    canvas.line(e.x_mm * mm, _top(template, e.y_mm), (e.x2_mm or 0) * mm, _top(template, e.y2_mm or 0))


def _draw_reprint(canvas: Canvas, template: LabelTemplate) -> None:
    """REPRINT in bold inside a frame, at the template's reprint place (chosen to cover no symbol)."""
    spot = template.reprint
    font = "Helvetica-Bold"
    width = pdfmetrics.stringWidth(REPRINT_TEXT, font, spot.size_pt)
    ascent = pdfmetrics.getAscent(font, spot.size_pt)
    pad = spot.size_pt * 0.2
    top = _top(template, spot.y_mm)
    canvas.setLineWidth(0.5 * mm)
    canvas.rect(spot.x_mm * mm, top - ascent - 2 * pad, width + 2 * pad, ascent + 2 * pad, stroke=1, fill=0)
    canvas.setFont(font, spot.size_pt)
    canvas.drawString(spot.x_mm * mm + pad, top - pad - ascent, REPRINT_TEXT)


_Drawer = Callable[[Canvas, LabelTemplate, Element, Mapping[str, Any], int], None]
_DRAW: dict[str, _Drawer] = {
    "text": _draw_text,
    "barcode128": _draw_code128,
    "datamatrix": _draw_2d,
    "qr": _draw_2d,
    "box": _draw_box,
    "line": _draw_line,
}
