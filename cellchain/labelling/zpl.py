"""Render a label template and a batch of plain data dicts to ZPL II for Zebra printers.

The same template as the PDF, the same values in the same places: text lines are wrapped with the PDF
font metrics (``templates.layout_text``) and each Code 128 replays reportlab's symbol values, so the ZPL
symbol has the same subsets, the same modules and so the same width as the PDF one.

What a scanner reads must equal the data exactly, so field data is escaped with care:

- Every field uses ``^FH`` (hex indicator ``_``) and ``^CI28`` (UTF-8): ``^``, ``~``, ``_``, control and
  non-ASCII characters go as ``_XX`` bytes, so no data can end a field or start a command.
- Code 128 (``^BCo,h,N,N,N``, no printer-made interpretation line: we print the ISBT eye-readable text)
  starts with an explicit start code (``>:`` B, ``>;`` C) and switches subsets with ``>5``/``>6``/``>7``
  exactly where reportlab did; in subset B the characters ``>``, ``^`` and ``~`` must be written as the
  invocation codes ``>0``, ``><`` and ``>=`` (ZPL II guide, ^BC table "Code 128 Invocation Characters").
- Data Matrix (``^BXo,m,200,44,44,,g``): the printer's escape character ``g`` differs between firmware
  (``_`` or ``~``), so we name one that does not occur in the data. Forced to 44 x 44 like the PDF.
- QR (``^BQN,2,m``): field data ``<ec>A,<data>`` (error correction level, automatic input mode).

Text in a TrueType font is sent as a ``^GF`` graphic field drawn at the head's own dot pitch: Chinese (no
resident Zebra font has it) and the identifiers set in Courier-Bold in the template, drawn in DejaVu Sans
Mono Bold, whose zero is struck through so that 0/O and 1/I differ (``site/fonts.py``); Chinese the template
sets in bold is drawn with Pillow's ``stroke_width`` (synthetic bold, as the PDF strokes it). A Chinese
caption before an identifier ("批号 Lot A999926000001") is two graphic fields on one baseline: the caption in
the CJK font, the identifier in DejaVu Sans Mono Bold, never inside the caption's bitmap. Other text uses the
scalable ``^A0``. Every position, module, bar height and font size is in dots of the chosen head (203, 300
or 600 dpi), from the same template.

Wristband printers feed the band lengthwise: a template with ``zpl_rotate`` is turned 90 degrees clockwise
(every field gets orientation ``R``), and ^PW/^LL describe the band as it runs through the printer.

Not verified on a physical Zebra printer. Checked against the ZPL II guide and the zebrash renderer
(npm zpl-renderer-js 3.4.0), which agrees on positions, turning, text, Data Matrix and QR but mishandles
``>5`` (it emits FNC4 and stays in subset B, unlike the guide's table: 99 = CODE C).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics

from cellchain.labelling.pdf import (
    DATAMATRIX_MODULES,
    HR_GAP_MM,
    QUIET_128,
    QUIET_DM,
    QUIET_QR,
    code128_codewords,
    qr_modules,
)
from cellchain.labelling.site import fonts
from cellchain.labelling.templates import (
    MIN_MODULE_2D_MM,
    MIN_MODULE_128_MM,
    REPRINT_TEXT,
    Element,
    LabelTemplate,
    Run,
    barcode_value,
    human_readable,
    is_printed,
    layout_text,
    line_height_mm,
    resolve,
    wants_reprint,
)

PT_MM = 25.4 / 72
ZEBRA_DOTS_PER_MM = {203: 8.0, 300: 12.0, 600: 24.0}
_START = {103: "A", 104: "B", 105: "C"}
_SWITCH = {"A": {99: "C", 100: "B"}, "B": {99: "C", 101: "A"}, "C": {100: "B", 101: "A"}}
_B_SPECIAL = {30: ">0", 62: "><", 94: ">="}  # ">", "^", "~" in subset B
_DM_ESCAPES = "`|{}!$"


def render_zpl(kind_or_template: str | Path | LabelTemplate, labels: Iterable[Mapping[str, Any]], *,
               dpi: int = 203, labels_dir: Path | None = None) -> str:
    """Render a print job as ZPL: one ``^XA ... ^XZ`` format per label, positions in printer dots.

    ``dpi`` names the print head: 203, 300 and 600 are taken as Zebra's 8, 12 and 24 dots per mm;
    any other value is converted exactly. Refuses, like the PDF, any label that cannot print exactly."""
    template = resolve(kind_or_template, labels_dir)
    batch = list(labels)
    if not batch:
        raise ValueError("no labels to render")
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    frame = _Frame(template, dpi)
    return "".join(_label(frame, data, n) for n, data in enumerate(batch, start=1))


@dataclass(frozen=True)
class _Frame:
    """Millimetres to dots, and the quarter turn for templates the printer feeds lengthwise."""

    template: LabelTemplate
    dpi: int

    @property
    def dots_per_mm(self) -> float:
        """Zebra heads are built in dots per mm: "203 dpi" is 8/mm, "300 dpi" 12/mm, "600 dpi" 24/mm."""
        return ZEBRA_DOTS_PER_MM.get(self.dpi, self.dpi / 25.4)

    def dots(self, mm: float) -> int:
        return round(mm * self.dots_per_mm)

    def mm(self, dots: int) -> float:
        return dots / self.dots_per_mm

    def module_dots(self, module_mm: float, minimum_mm: float) -> int:
        """Whole dots per module, rounded down so a symbol never outgrows the space its template reserved,
        but up when down would fall below the minimum (0.25 mm is 2.95 dots at 300 dpi: 3 dots)."""
        dots = max(1, int(module_mm * self.dots_per_mm + 0.05))
        return dots if self.mm(dots) >= minimum_mm - 1e-9 else dots + 1

    @property
    def orientation(self) -> str:
        return "R" if self.template.zpl_rotate else "N"

    def origin(self, x_mm: float, y_mm: float, height_mm: float) -> str:
        """^FO of a field whose design box starts at (x, y) and is height_mm tall; turned clockwise,
        the design's top edge becomes the printout's right edge."""
        if not self.template.zpl_rotate:
            return f"^FO{self.dots(x_mm)},{self.dots(y_mm)}"
        return f"^FO{self.dots(self.template.height_mm - y_mm - height_mm)},{self.dots(x_mm)}"

    def box(self, width_mm: float, height_mm: float, thickness_mm: float) -> str:
        """^GB for a design rectangle (width and height swap when turned)."""
        w, h = (height_mm, width_mm) if self.template.zpl_rotate else (width_mm, height_mm)
        t = max(1, self.dots(thickness_mm))
        return f"^GB{max(t, self.dots(w))},{max(t, self.dots(h))},{t}^FS"


def _label(frame: _Frame, data: Mapping[str, Any], n: int) -> str:
    t = frame.template
    width, length = (t.height_mm, t.width_mm) if t.zpl_rotate else (t.width_mm, t.height_mm)
    parts = ["^XA", "^CI28", f"^PW{frame.dots(width)}", f"^LL{frame.dots(length)}", "^LH0,0"]
    for element in t.elements:
        if is_printed(element, data):
            parts.extend(_EMIT[element.type](frame, element, data, n))
    if wants_reprint(data):
        parts.extend(_reprint(frame))
    parts.append("^XZ")
    return "\n".join(parts) + "\n"


def field_hex(text: str) -> str:
    """Escape for ``^FH``: the characters ZPL would read as syntax, and anything not printable ASCII,
    become ``_XX`` UTF-8 bytes (``^CI28``)."""
    return "".join(c if " " <= c <= "~" and c not in "^~_" else
                   "".join(f"_{b:02X}" for b in c.encode("utf-8")) for c in text)


def code128_field_data(value: str) -> str:
    """The ^FD text that makes the printer build reportlab's Code 128 symbol for ``value``."""
    words = code128_codewords(value)
    subset = _START[words[0]]
    out = [_invoke(words[0])]
    for word in words[1:-2]:  # drop the check value and stop: the printer adds them
        if word in _SWITCH[subset]:
            out.append(_invoke(word))
            subset = _SWITCH[subset][word]
        elif subset == "C" or subset == "A":
            out.append(f"{word:02d}")  # ZPL takes subsets A and C as digit pairs
        elif word in _B_SPECIAL:
            out.append(_B_SPECIAL[word])
        elif word < 95:
            out.append(field_hex(chr(word + 32)))
        else:
            raise ValueError(f"unexpected Code 128 value {word} in {value!r}")
    return "".join(out)


def _invoke(word: int) -> str:
    """ZPL invocation code for symbol values 95-105: ``>1`` .. ``>9``, ``>:`` (start B), ``>;`` (start C)."""
    return ">" + chr(ord("1") + word - 95)


def _graphic_text(frame: _Frame, x_mm: float, y_mm: float, size_pt: float, text: str, font: str,
                  align: str, width_mm: float | None, bold: bool = False) -> str:
    """A line in a TrueType font as a ``^GF`` graphic field drawn at the head's dot pitch: Chinese, which no
    resident Zebra font has, and identifiers, in a font that tells 0 from O (``site/fonts.py``). A ``bold``
    line is drawn thickened, its bitmap starting its margin of dots earlier so the text stays in place."""
    bitmap = fonts.raster(text, font, size_pt, frame.dots_per_mm, turned=frame.template.zpl_rotate, bold=bold)
    across = fonts.text_width_dots(text, font, size_pt, frame.dots_per_mm)
    if align != "left" and width_mm:
        room = frame.dots(width_mm) - across
        x_mm += frame.mm(max(0, room // 2 if align == "center" else room))
    if bold:
        x_mm = max(0.0, x_mm - frame.mm(fonts.bold_margin(size_pt, frame.dots_per_mm)))
    tall = bitmap.width if frame.template.zpl_rotate else bitmap.height
    return f"{frame.origin(x_mm, y_mm, frame.mm(tall))}{_graphic_field(bitmap)}"


@lru_cache(maxsize=4096)
def _graphic_field(bitmap: fonts.Bitmap) -> str:
    """``^GFA,b,c,d,data``: ASCII hex, b = c = the bitmap's bytes, d = bytes a row."""
    total = len(bitmap.rows)
    return f"^GFA,{total},{total},{bitmap.row_bytes},{bitmap.rows.hex().upper()}^FS"


def _text_field(frame: _Frame, x_mm: float, y_mm: float, size_pt: float, text: str,
                align: str = "left", width_mm: float | None = None, font: str = "Helvetica",
                bold: bool = False) -> str:
    """One line: in a TrueType font as a graphic (``bold`` thickens it, ``fonts.synthetic_bold``), else in the
    printer's scalable font."""
    drawn = font if fonts.is_truetype(font) else fonts.ZPL_RASTER.get(font)
    if drawn is not None:
        return _graphic_text(frame, x_mm, y_mm, size_pt, text, drawn, align, width_mm, bold)
    height = size_pt * PT_MM
    block = ""
    if align != "left" and width_mm:
        block = f"^FB{frame.dots(width_mm)},1,0,{'C' if align == 'center' else 'R'},0"
        text = text.replace("\\", "\\\\")  # ^FB reads a backslash as an escape
    size = max(1, frame.dots(height))
    return (f"{frame.origin(x_mm, y_mm, height)}^A0{frame.orientation},{size},{size}{block}"
            f"^FH^FD{field_hex(text)}^FS")


def _emit_text(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    block = layout_text(frame.template, e, data, n)
    step = line_height_mm(e)
    fields: list[str] = []
    for i, runs in enumerate(block.runs):
        y_mm = e.y_mm + i * step
        if len(runs) > 1:
            fields += _runs_fields(frame, e, y_mm, runs)
        elif runs[0].text:
            run = runs[0]
            fields.append(_text_field(frame, e.x_mm, y_mm, e.size_pt, run.text, e.align, e.width_mm, run.font,
                                      run.bold))
    return fields


def _runs_fields(frame: _Frame, e: Element, y_mm: float, runs: tuple[Run, ...]) -> list[str]:
    """A line in two TrueType fonts (a Chinese caption, then an identifier): a ``^GF`` field a run, each
    starting where the one before it ends and all on one baseline, so the identifier is drawn in its own
    font (DejaVu Sans Mono Bold for Courier-Bold, as the DIN is) and not inside the caption's bitmap."""
    drawn = [run.font if fonts.is_truetype(run.font) else fonts.ZPL_RASTER[run.font] for run in runs]
    widths = [fonts.text_width_dots(run.text, font, e.size_pt, frame.dots_per_mm)
              for run, font in zip(runs, drawn, strict=True)]
    ascents = [fonts.ascent_dots(font, e.size_pt, frame.dots_per_mm) for font in drawn]
    room = frame.dots(e.width_mm or 0.0) - sum(widths)
    x_mm = e.x_mm + frame.mm({"center": max(0, room // 2), "right": max(0, room)}.get(e.align, 0))
    fields = []
    for run, font, width, ascent in zip(runs, drawn, widths, ascents, strict=True):
        run_y = y_mm + frame.mm(max(ascents) - ascent)
        fields.append(_graphic_text(frame, x_mm, run_y, e.size_pt, run.text, font, "left", None, run.bold))
        x_mm += frame.mm(width)
    return fields


def _symbol_fits(frame: _Frame, e: Element, width_dots: int, height_mm: float, n: int) -> None:
    """The printer rounds modules to whole dots, so check the fit in dots, as printed."""
    room_mm = e.max_width_mm if e.max_width_mm is not None else frame.template.width_mm - e.x_mm
    if width_dots > frame.dots(room_mm) + 1 or e.y_mm + height_mm > frame.template.height_mm + 0.01:
        raise ValueError(f"label {n}: {e.where}: symbol is {width_dots} dots wide at {frame.dpi} dpi; "
                         f"{frame.dots(room_mm)} available")


def _code128_dots(frame: _Frame, e: Element, value: str) -> tuple[int, int]:
    """The module and the bars' width of ``value``'s Code 128, in whole printer dots."""
    module = frame.module_dots(e.module_mm or 0.0, MIN_MODULE_128_MM)
    return module, (11 * len(code128_codewords(value)) + 2) * module


def code128_fits(template: LabelTemplate, e: Element, value: str, *, dpi: int = 203) -> bool:
    """Whether ``value``'s Code 128 fits ``e``'s room as a ``dpi`` print head prints it (modules in whole
    dots), so a label can leave out a linear code that would not print rather than fail."""
    frame = _Frame(template, dpi)
    module, bars = _code128_dots(frame, e, value)
    room_mm = e.max_width_mm if e.max_width_mm is not None else template.width_mm - e.x_mm
    return bars + 2 * QUIET_128 * module <= frame.dots(room_mm) + 1


def _emit_code128(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    value, height = barcode_value(e, data, n), e.height_mm or 0.0
    module, bars = _code128_dots(frame, e, value)
    quiet_mm = QUIET_128 * frame.mm(module)
    text_pt = e.hr_size_pt
    _symbol_fits(frame, e, bars + 2 * QUIET_128 * module, height + HR_GAP_MM + text_pt * PT_MM, n)
    fields = [f"{frame.origin(e.x_mm + quiet_mm, e.y_mm, height)}^BY{module},3,{frame.dots(height)}"
              f"^BC{frame.orientation},{frame.dots(height)},N,N,N^FH^FD{code128_field_data(value)}^FS"]
    text_y = e.y_mm + height + HR_GAP_MM
    text = human_readable(e, data, n)
    font = fonts.font_for(text, e.hr_font)
    bold = fonts.synthetic_bold(e.hr_font, font)
    if e.hr_align == "center":
        width_mm = frame.mm(bars + 2 * QUIET_128 * module)
        fields.append(_text_field(frame, e.x_mm, text_y, text_pt, text, "center", width_mm, font, bold))
    else:
        fields.append(_text_field(frame, e.x_mm + quiet_mm, text_y, text_pt, text, font=font, bold=bold))
    return fields


def _emit_datamatrix(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    value = barcode_value(e, data, n)
    module = frame.module_dots(e.module_mm or 0.0, MIN_MODULE_2D_MM)
    size_mm = (DATAMATRIX_MODULES + 2 * QUIET_DM) * frame.mm(module)
    _symbol_fits(frame, e, (DATAMATRIX_MODULES + 2 * QUIET_DM) * module, size_mm, n)
    escape = next((c for c in _DM_ESCAPES if c not in value), None)
    if escape is None:
        raise ValueError(f"label {n}: {e.where}: no free Data Matrix escape character for {value!r}")
    quiet_mm = frame.mm(QUIET_DM * module)
    inner_mm = frame.mm(DATAMATRIX_MODULES * module)
    return [f"{frame.origin(e.x_mm + quiet_mm, e.y_mm + quiet_mm, inner_mm)}"
            f"^BX{frame.orientation},{module},200,{DATAMATRIX_MODULES},{DATAMATRIX_MODULES},,{escape}"
            f"^FH^FD{field_hex(value)}^FS"]


def _emit_qr(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    """QR: ZPL prints ^BQ upright only, so a turned template cannot carry one."""
    if frame.template.zpl_rotate:
        raise ValueError(f"{e.where}: ZPL prints QR codes upright only; not allowed on a turned template")
    value = barcode_value(e, data, n)
    module = min(10, frame.module_dots(e.module_mm or 0.0, MIN_MODULE_2D_MM))
    across = (qr_modules(value, e.ec_level) + 2 * QUIET_QR) * module
    _symbol_fits(frame, e, across, frame.mm(across), n)
    quiet_mm = frame.mm(QUIET_QR * module)
    return [f"{frame.origin(e.x_mm + quiet_mm, e.y_mm + quiet_mm, 0)}^BQN,2,{module}"
            f"^FH^FD{e.ec_level}A,{field_hex(value)}^FS"]


def _emit_box(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    width, height = e.width_mm or 0.0, e.height_mm or 0.0
    fields = [f"{frame.origin(e.x_mm, e.y_mm, height)}{frame.box(width, height, e.thickness_mm)}"]
    block = layout_text(frame.template, e, data, n) if (e.field or e.text) else None
    run = block.runs[0][0] if block else None  # a box takes no prefix: its line is one run
    if run and run.text:
        text_y = e.y_mm + (height - e.size_pt * PT_MM) / 2
        fields.append(_text_field(frame, e.x_mm, text_y, e.size_pt, run.text, "center", width, run.font, run.bold))
    return fields


def _emit_line(frame: _Frame, e: Element, data: Mapping[str, Any], n: int) -> list[str]:
    x2, y2 = e.x2_mm or 0.0, e.y2_mm or 0.0
    left, top = min(e.x_mm, x2), min(e.y_mm, y2)
    width = abs(x2 - e.x_mm) or e.thickness_mm
    height = abs(y2 - e.y_mm) or e.thickness_mm
    return [f"{frame.origin(left, top, height)}{frame.box(width, height, e.thickness_mm)}"]


def _reprint(frame: _Frame) -> list[str]:
    spot = frame.template.reprint
    height = spot.size_pt * PT_MM
    pad = height * 0.2
    width = pdfmetrics.stringWidth(REPRINT_TEXT, "Helvetica-Bold", spot.size_pt) * PT_MM + 2 * pad
    box_h = height + 2 * pad
    return [f"{frame.origin(spot.x_mm, spot.y_mm, box_h)}{frame.box(width, box_h, 0.5)}",
            _text_field(frame, spot.x_mm, spot.y_mm + pad, spot.size_pt, REPRINT_TEXT, "center", width)]


_Emitter = Callable[[_Frame, Element, Mapping[str, Any], int], list[str]]
_EMIT: dict[str, _Emitter] = {
    "text": _emit_text,
    "barcode128": _emit_code128,
    "datamatrix": _emit_datamatrix,
    "qr": _emit_qr,
    "box": _emit_box,
    "line": _emit_line,
}
