"""The TrueType fonts of the labels, shipped in ``static/fonts/`` (licences in ``static/fonts/LICENSES.txt``).

- **WenQuanYi Micro Hei** prints Chinese (and the Latin letters beside it). reportlab embeds TrueType-outline
  fonts only, not the CFF-outline Noto CJK, so this Droid-based TrueType font is the one embedded in every
  label PDF that carries Chinese, subset to the characters used.
- **DejaVu Sans Mono Bold** prints identifiers on Zebra printers: its zero carries a stroke, so 0 and O, and 1,
  I and l, differ at a glance, which the printer's own scalable font ``^A0`` does not ensure.

Text set in a PDF standard font (Helvetica, Courier) stays in it when every character is in that font's
WinAnsi set; anything else (Chinese) prints in the CJK font. Both renderers ask ``font_for`` so the PDF and
the ZPL wrap and refuse the same text. For ZPL, text in a TrueType font is drawn into a bitmap at the print
head's own dot pitch (``raster``) and sent as a ``^GF`` graphic field.

WenQuanYi Micro Hei has no bold face. Where a template sets a line in a bold font (headings, the product
name, the status, the statement) and the line prints in the CJK font, both renderers thicken it the standard
synthetic way (``synthetic_bold``): the PDF fills and strokes the glyphs (text render mode 2) with a line
``BOLD_STROKE_EM`` of the size wide, and the ZPL bitmap is drawn with Pillow's ``stroke_width``, half of
that on each side of the outline, so the two print the same weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from cellchain.core.config import ROOT

FONT_DIR = ROOT / "static" / "fonts"
CJK = "WenQuanYiMicroHei"
MONO = "DejaVuSansMono-Bold"
FILES: dict[str, tuple[str, int]] = {CJK: ("wqy-microhei.ttc", 0), MONO: ("DejaVuSansMono-Bold.ttf", 0)}
# The identifier font of the templates, drawn on a Zebra head in MONO (see the module docstring).
ZPL_RASTER = {"Courier-Bold": MONO, "Courier": MONO}
# The fonts a template sets eye-readable identifiers in: monospace, 0/O and 1/I told apart.
IDENTIFIER_FONTS = frozenset({*ZPL_RASTER, MONO})
# The stroke of synthetic bold, a fraction of the font size: 0.5 dot each side for 7 pt at 203 dpi, which
# thickens Chinese strokes without closing the counters of the denser characters.
BOLD_STROKE_EM = 1 / 20


def path_of(name: str) -> Path:
    return FONT_DIR / FILES[name][0]


@cache
def register() -> None:
    """Make the TrueType fonts known to reportlab (once per process)."""
    for name, (filename, index) in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename), subfontIndex=index))


@cache
def _glyphs(name: str) -> frozenset[int]:
    register()
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


def is_truetype(font: str) -> bool:
    return font in FILES


def missing(text: str, font: str) -> str | None:
    """The first character of ``text`` that ``font`` cannot draw, or None."""
    if is_truetype(font):
        glyphs = _glyphs(font)
        return next((c for c in text if c != "\n" and ord(c) not in glyphs), None)
    try:
        text.encode("cp1252")  # what the PDF standard fonts draw
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def font_for(text: str, font: str) -> str:
    """The font ``text`` prints in when a template sets it in ``font``: that font if it has every character,
    else the CJK font; a ValueError names a character neither has (it would print blank or as a box)."""
    if missing(text, font) is None:
        return font
    bad = missing(text, CJK)
    if bad is not None:
        raise ValueError(f"cannot print character {bad!r} (U+{ord(bad):04X}) with the label fonts")
    return CJK


def is_identifier_font(font: str) -> bool:
    """Whether a template sets text in ``font`` to be read as an identifier (``IDENTIFIER_FONTS``)."""
    return font in IDENTIFIER_FONTS


def synthetic_bold(wanted: str, drawn: str) -> bool:
    """Whether text a template sets in ``wanted`` but that prints in ``drawn`` needs thickening: the template
    asks for a bold face and the text prints in the CJK font, which has none."""
    return drawn == CJK and "Bold" in wanted


@dataclass(frozen=True)
class Bitmap:
    """One line of text as printer dots: ``rows`` of packed bits, 1 = dark, left bit first."""

    width: int
    height: int
    rows: bytes

    @property
    def row_bytes(self) -> int:
        return (self.width + 7) // 8


@lru_cache(maxsize=256)
def _pil_font(name: str, pixels: int) -> ImageFont.FreeTypeFont:
    filename, index = FILES[name]
    return ImageFont.truetype(str(FONT_DIR / filename), pixels, index=index)


def bold_margin(size_pt: float, dots_per_mm: float) -> int:
    """The whole dots a synthetic bold line's bitmap has on each side for the stroke (``raster``)."""
    return math.ceil(_bold_stroke(_pixels(size_pt, dots_per_mm)))


def _pixels(size_pt: float, dots_per_mm: float) -> int:
    return max(1, round(size_pt * 25.4 / 72 * dots_per_mm))


def _bold_stroke(pixels: int) -> float:
    """Pillow's stroke_width, which widens each side of the outline: half the PDF's stroke line."""
    return pixels * BOLD_STROKE_EM / 2


@lru_cache(maxsize=4096)  # a job's captions and statements repeat on every label
def raster(text: str, font: str, size_pt: float, dots_per_mm: float, *, turned: bool = False,
           bold: bool = False) -> Bitmap:
    """``text`` in the TrueType ``font`` at ``size_pt``, drawn in whole dots without grey (a thermal head
    prints a dot or none); the box is the font's ascent plus descent tall, the baseline where the PDF puts it.
    ``bold`` thickens the glyphs (synthetic bold), the box widened by ``bold_margin`` dots each side.
    ``turned`` gives it a quarter turn clockwise, for labels the printer feeds lengthwise."""
    pixels = _pixels(size_pt, dots_per_mm)
    ascent = ascent_dots(font, size_pt, dots_per_mm)
    height = max(1, ascent + round(-pdfmetrics.getFont(font).face.descent / 1000 * pixels))
    pil = _pil_font(font, pixels)
    margin = bold_margin(size_pt, dots_per_mm) if bold else 0
    width = max(1, round(pil.getlength(text)) + 2 * margin)
    image = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    stroke = _bold_stroke(pixels) if bold else 0
    draw.text((margin, ascent), text, font=pil, fill=1, anchor="ls", stroke_width=stroke, stroke_fill=1)
    if turned:
        image = image.transpose(Image.Transpose.ROTATE_270)
    return Bitmap(image.width, image.height, image.tobytes())


def ascent_dots(font: str, size_pt: float, dots_per_mm: float) -> int:
    """The dots from the top of ``raster``'s box to the baseline: two fonts on one line share the baseline
    when each box starts this much above it."""
    register()
    return round(pdfmetrics.getFont(font).face.ascent / 1000 * _pixels(size_pt, dots_per_mm))


def text_width_dots(text: str, font: str, size_pt: float, dots_per_mm: float) -> int:
    """How wide ``raster`` draws ``text`` (before any turn)."""
    return max(1, round(_pil_font(font, _pixels(size_pt, dots_per_mm)).getlength(text)))
