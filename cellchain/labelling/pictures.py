"""On-screen pictures of a record's codes: Code 128 drawn by python-barcode and QR drawn by qrcode, as PNG.

Printed labels are drawn elsewhere (reportlab for the PDF, the printer itself for ZPL); these pictures are
for the record's page, so a person can scan a code off the screen or hold the label against it.

The pictures carry no text. python-barcode draws text with a TrueType font, and the eye-readable line
belongs in the page's HTML anyway, where it can be read aloud, copied and wrapped on a narrow screen.
Each module is a whole number of pixels and the PNGs are one bit deep, so scaling by the browser is the
only blur a scanner has to cope with.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import barcode
import qrcode
import qrcode.constants
from barcode.writer import ImageWriter, mm2px
from qrcode.image.pil import PilImage

from cellchain.core.words import N_, translated

# Code 128: 0.2 mm modules at 254 dpi are exactly 2 pixels; the quiet zone is ten modules, as on the label.
_CODE128_DPI = 254
_CODE128_OPTIONS = {"module_width": 0.2, "module_height": 12.0, "quiet_zone": 2.0, "write_text": False,
                    "margin_top": 0.0, "margin_bottom": 0.0}
# QR: 4 pixels a module and the four-module quiet zone the QR specification asks for.
_QR_BOX_PIXELS = 4
_QR_BORDER_MODULES = 4

CODE128 = N_("Code 128")
QR = N_("QR code")


class _WholePixelWriter(ImageWriter):
    """python-barcode's PNG writer, with each bar's edges rounded to the nearest pixel.

    The stock writer adds up module widths in millimetres and lets the float error truncate, so a
    2-pixel module now and then comes out 1 or 3 pixels wide, and scanners then misread some symbols
    (``=<D0001VB0`` among them)."""

    def _paint_module(self, xpos: float, ypos: float, width: float, color: str) -> None:
        left, right = round(mm2px(xpos, self.dpi)), round(mm2px(xpos + width, self.dpi))
        top, bottom = round(mm2px(ypos, self.dpi)), round(mm2px(ypos + self.module_height, self.dpi))
        self._draw.rectangle([(left, top), (right - 1, bottom - 1)], fill=color)


def code128_png(data: str) -> bytes:
    """A Code 128 symbol of ``data`` (printable ASCII), as a one-bit PNG without text."""
    if not isinstance(data, str) or not data or not all(" " <= ch <= "~" for ch in data):
        raise ValueError(f"Code 128 pictures take printable ASCII text, got {data!r}")
    out = io.BytesIO()
    symbol = barcode.Code128(data, writer=_WholePixelWriter(format="PNG", mode="1", dpi=_CODE128_DPI))
    symbol.write(out, options=dict(_CODE128_OPTIONS))
    return out.getvalue()


def qr_png(data: str) -> bytes:
    """A QR code of ``data`` (error correction M, the smallest version that holds it), as a one-bit PNG."""
    if not isinstance(data, str) or not data:
        raise ValueError(f"a QR picture needs text to carry, got {data!r}")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=_QR_BOX_PIXELS,
                         border=_QR_BORDER_MODULES, image_factory=PilImage)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from the PNG's header (IHDR is always the first chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@dataclass(frozen=True)
class Picture:
    """One code as a page shows it: what it is, exactly what a scanner reads back, and the PNG. The symbology
    and the title are catalogue messages (``N_``), worded in the reader's language when the page is made."""

    symbology: str
    title: str
    data: str
    eye_readable: str
    png: bytes

    @property
    def src(self) -> str:
        """A ``data:`` URL, so the picture comes with the page and needs no route of its own."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def caption(self) -> str:
        """What the code is, as the page writes it under the picture ("Code 128, product code")."""
        return translated(N_("{symbology}, {title}")).format(symbology=translated(self.symbology),
                                                             title=translated(self.title))

    @property
    def alt(self) -> str:
        return translated(N_("{symbology} of the {title}: {text}")).format(
            symbology=translated(self.symbology), title=translated(self.title), text=self.eye_readable)

    @property
    def width(self) -> int:
        return png_size(self.png)[0]

    @property
    def height(self) -> int:
        return png_size(self.png)[1]


def code128(title: str, data: str, eye_readable: str | None = None) -> Picture:
    """A Code 128 picture of ``data``; ``eye_readable`` is the text the label prints under it."""
    return Picture(CODE128, title, data, eye_readable or data, code128_png(data))


def qr(title: str, data: str, eye_readable: str | None = None) -> Picture:
    return Picture(QR, title, data, eye_readable or data, qr_png(data))
