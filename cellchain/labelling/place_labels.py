"""Labels of storage places: a box, each position of a box, a rack or shelf (``labels/storage.toml``).

A place's code travels as an ISBT 128 local data structure, ``&`` + the site's letter for the kind
(``LOCAL_DATA_IDENTIFIERS``) + the code (docs/identifiers.md), so a scan of the label reads as kind ``local``
and the scan resolver opens the place. The Data Matrix always carries it; the Code 128 is printed only
when it fits the label at the template's bar width, since a squeezed or clipped linear symbol scans wrong.

These labels mark where product is kept, not the product: they are not issued, reconciled or voided like
product labels (21 CFR 1271.250 concerns the product's own labels), so no print job is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cellchain.identifiers import isbt128
from cellchain.labelling.pdf import code128_width_mm, render_pdf
from cellchain.labelling.site import words
from cellchain.labelling.templates import resolve
from cellchain.labelling.zpl import code128_fits, render_zpl

TEMPLATE = "storage"
TITLES = {"box": words.STORAGE_BOX, "position": words.POSITION, "location": words.RACK_SHELF}


def in_unit(unit_code: str, languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> str:
    """Where a rack or shelf is: ``unit LN2-01`` (``储存设备 unit LN2-01`` in Chinese and English)."""
    return f"{words.say(words.STORAGE_UNIT, languages)} {unit_code}"


def place_label(kind: str, code: str, where: str, letters: Mapping[str, str],
                languages: Sequence[str] = words.DEFAULT_LANGUAGES) -> dict[str, Any]:
    """The data one label prints: ``kind`` box, position or location, its title in every label language;
    ``where`` the places above it."""
    data = isbt128.encode_local(letters[kind], code)
    template = resolve(TEMPLATE)
    linear = next(e for e in template.elements if e.type == "barcode128")
    room_mm = linear.max_width_mm if linear.max_width_mm is not None else template.width_mm - linear.x_mm
    # Printed only where it fits both the PDF and a 203 dpi Zebra head, which rounds modules to whole dots.
    fits = code128_width_mm(data, linear.module_mm or 0.0) <= room_mm and code128_fits(template, linear, data)
    return {"title": words.say(TITLES[kind], languages), "code": code, "where": where, "local_2d": data,
            "local_barcode": data, "linear": "yes" if fits else "", "languages": list(languages)}


def render(labels: Iterable[Mapping[str, Any]], fmt: str = "pdf") -> bytes:
    """One PDF (a page per label) or one ZPL job (a format per label), from the same template."""
    if fmt == "zpl":
        return render_zpl(TEMPLATE, labels).encode()
    return render_pdf(TEMPLATE, labels)
