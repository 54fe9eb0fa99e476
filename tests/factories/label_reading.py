"""Reading printed labels back as a scanner and a reader would, independently of the renderers.

PDF pages are rasterised at 300 dpi and decoded with zxing-cpp; ZPL barcode fields are read back with
the ZPL II rules (^FH hex escapes, Code 128 invocation codes); DIN check characters are computed here
with plain arithmetic, not with the encoder under test.
"""

from __future__ import annotations

import re

import numpy as np
import pymupdf
import zxingcpp

MOD37 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def check_value(din: str) -> int:
    """ISO/IEC 7064 Mod 37-2 as ISBT 128 ST-001 gives it; cellchain.identifiers.isbt128 owns the real one."""
    s = 0
    for ch in din:
        s = ((s + MOD37.index(ch)) * 2) % 37
    return (38 - s) % 37


def din_barcode(din: str) -> str:
    return f"={din}{60 + check_value(din)}"


def page_text(pdf: bytes, page: int = 0) -> str:
    return " ".join(pymupdf.open(stream=pdf, filetype="pdf")[page].get_text().split())


def scan_pages(pdf: bytes) -> list[list[tuple[str, str]]]:
    """What a scanner reads from each page printed at 300 dpi (``.text``: no AIM prefix)."""
    pages = []
    for page in pymupdf.open(stream=pdf, filetype="pdf"):
        pix = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
        pages.append(sorted((r.format.name, r.text) for r in zxingcpp.read_barcodes(image)))
    return pages


# --- reading ZPL back by the ZPL II rules ---------------------------------------------------------------
def unhex(fd: str) -> str:
    return re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m[1], 16)]), fd.encode()).decode("utf-8")


INVOKE = {"0": 30, "<": 62, "=": 94, **{c: 95 + i for i, c in enumerate("123456789:;")}}
START = {103: "A", 104: "B", 105: "C"}
SWITCH = {"A": {99: "C", 100: "B"}, "B": {99: "C", 101: "A"}, "C": {100: "B", 101: "A"}}


def code128_values_from_zpl(fd: str) -> list[int]:
    """Symbol values the printer builds: ">x" invocation codes, B as ASCII, A and C as digit pairs."""
    text, i, subset, values = unhex(fd), 0, "B", []
    if not text.startswith(">"):
        values.append(104)  # no start code given: subset B
    while i < len(text):
        if text[i] == ">":
            values.append(INVOKE[text[i + 1]])
            i += 2
            changes = START if len(values) == 1 else SWITCH[subset]
            subset = changes.get(values[-1], subset)
        elif subset in "AC":
            values.append(int(text[i:i + 2]))
            i += 2
        else:
            values.append(ord(text[i]) - 32)
            i += 1
    return values


def code128_from_zpl(fd: str) -> str:
    values = code128_values_from_zpl(fd)
    subset, out = START[values[0]], []
    for value in values[1:]:
        if value in SWITCH[subset]:
            subset = SWITCH[subset][value]
        else:
            out.append(f"{value:02d}" if subset == "C" else chr(value + 32))
    return "".join(out)


def zpl_symbols(zpl: str) -> list[list[tuple[str, str]]]:
    formats = re.findall(r"\^XA(.*?)\^XZ", zpl, flags=re.S)
    read = {"BC": ("Code128", code128_from_zpl), "BX": ("DataMatrix", unhex),
            "BQ": ("QRCode", lambda fd: unhex(fd)[3:])}  # QR field data starts "<ec>A,"
    return [[(read[cmd][0], read[cmd][1](fd)) for cmd, fd in
             re.findall(r"\^(BC|BX|BQ)[^\^]*\^FH\^FD(.*?)\^FS", body)] for body in formats]
