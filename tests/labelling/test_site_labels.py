"""Labels for the site in Beijing: Chinese and English, the CJK font embedded, Chinese on Zebra printers as
graphics, the trial's statement, QUARANTINE until release, and print quality at each printer resolution.

PDF pages are rasterised without anti-aliasing (a label printer's driver makes dots, not grey) at
203, 254, 300 and 600 dpi and decoded with zxing-cpp; ZPL barcode fields are read back by the ZPL II rules.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import numpy as np
import pymupdf
import pytest
import zxingcpp
from babel.messages.pofile import read_po

from cellchain.core.config import DEFAULTS, ROOT, ConfigError, load
from cellchain.labelling.pdf import render_pdf
from cellchain.labelling.site import fonts, words
from cellchain.labelling.zpl import render_zpl
from tests.factories.label_reading import zpl_symbols
from tests.labelling.test_rendering import DATA, expected_symbols

BILINGUAL = ["zh", "en"]
FACILITY = "北京302医院细胞治疗中心"
CN_STATEMENT = "仅供临床试验使用\nFor clinical trial use only"


def chinese(kind: str, n: int = 1, **extra: Any) -> dict[str, Any]:
    """A label of ``kind`` as the site prints it: captions in Chinese and English, a Chinese facility."""
    data = DATA[kind](n, languages=BILINGUAL, **extra)
    if kind == "bag":
        data.update(collection_facility=FACILITY, statement=CN_STATEMENT, quarantine_text="待验 QUARANTINE",
                    releasing_establishment=f"{FACILITY}\n北京市丰台区西四环中路100号\n电话 Tel. 010-0000 0000")
    if kind == "collection":
        data.update(collection_facility=FACILITY, quarantine_text="待验 QUARANTINE")
    return data


def binary_scan(pdf: bytes, dpi: int) -> list[list[tuple[str, str]]]:
    """What a scanner reads from each page drawn in black and white dots (no grey) at ``dpi``."""
    pymupdf.TOOLS.set_aa_level(0)
    try:
        pages = []
        for page in pymupdf.open(stream=pdf, filetype="pdf"):
            pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
            assert set(np.unique(image)) <= {0, 255}  # really dots, no grey
            pages.append(sorted((r.format.name, r.text) for r in zxingcpp.read_barcodes(image)))
        return pages
    finally:
        pymupdf.TOOLS.set_aa_level(8)


KINDS = list(DATA)


@pytest.mark.parametrize("dpi", [203, 254, 300, 600])
@pytest.mark.parametrize("kind", KINDS)
def test_chinese_labels_scan_back_exactly_when_printed_as_dots(kind: str, dpi: int) -> None:
    labels = [chinese(kind, 3), chinese(kind, 12)]
    assert binary_scan(render_pdf(kind, labels), dpi) == [sorted(expected_symbols(kind, d)) for d in labels]


@pytest.mark.parametrize("dpi", [203, 300, 600])
@pytest.mark.parametrize("kind", KINDS)
def test_chinese_labels_in_zpl_keep_every_barcode_field_exact_and_send_chinese_as_graphics(kind: str,
                                                                                         dpi: int) -> None:
    labels = [chinese(kind, 2), chinese(kind, 7)]
    zpl = render_zpl(kind, labels, dpi=dpi)
    assert zpl_symbols(zpl) == [expected_symbols(kind, d) for d in labels]
    assert "^GFA," in zpl
    fields = re.findall(r"\^FD(.*?)\^FS", zpl)
    assert not any("_E" in fd for fd in fields)  # no UTF-8 Chinese bytes in any field: no resident font has them


def test_the_cjk_font_is_embedded_in_the_pdf_and_the_chinese_text_reads_back() -> None:
    document = pymupdf.open(stream=render_pdf("bag", [chinese("bag")]), filetype="pdf")
    embedded = [f for f in document.get_page_fonts(0) if "WenQuanYi" in f[3]]
    assert embedded and all(f[1] == "ttf" for f in embedded)
    assert document.extract_font(embedded[0][0])[3]  # the font program itself is in the file
    text = document[0].get_text()
    for words_ in ["仅供临床试验使用", "For clinical trial use only", FACILITY, "采集机构", "Collection facility",
                   "待验 QUARANTINE", "北京市丰台区西四环中路100号"]:
        assert words_ in text


def test_an_english_only_site_prints_english_captions() -> None:
    text = pymupdf.open(stream=render_pdf("bag", [DATA["bag"](statement="For clinical trial use only")]),
                        filetype="pdf")[0].get_text()
    assert "Collection facility" in text and "采集机构" not in text


def test_quarantine_prints_on_an_unreleased_bag_and_not_on_a_released_one() -> None:
    held, released = chinese("bag", 1), chinese("bag", 2)
    del released["quarantine_text"]
    document = pymupdf.open(stream=render_pdf("bag", [held, released]), filetype="pdf")
    assert "待验 QUARANTINE" in document[0].get_text() and "QUARANTINE" not in document[1].get_text()
    formats = re.findall(r"\^XA.*?\^XZ", render_zpl("bag", [held, released]), flags=re.S)
    assert formats[0].count("^GFA,") > formats[1].count("^GFA,")  # the framed status, drawn as a graphic
    assert "^GB384,64,5" in formats[0] and "^GB384,64,5" not in formats[1]


def test_the_same_template_prints_at_203_300_and_600_dpi_in_the_heads_own_dots() -> None:
    label = [chinese("bag")]
    by_dpi = {dpi: render_zpl("bag", label, dpi=dpi) for dpi in (203, 300, 600)}
    modules = {dpi: re.findall(r"\^BY(\d+),", zpl) for dpi, zpl in by_dpi.items()}
    assert modules == {203: ["2"] * 3, 300: ["3"] * 3, 600: ["6"] * 3}  # 0.25 mm bars: 2, 3 and 6 dots
    bars = {dpi: re.findall(r"\^BCN,(\d+),", zpl) for dpi, zpl in by_dpi.items()}
    assert bars == {203: ["72"] * 3, 300: ["108"] * 3, 600: ["216"] * 3}  # 9 mm tall
    assert "^FO0,528^GB813," in by_dpi[203] and "^FO0,792^GB1219," in by_dpi[300]  # the line at 66 mm
    assert "^FO0,1584^GB2438," in by_dpi[600]
    scalable = {dpi: re.search(r"\^A0N,(\d+),", zpl)[1] for dpi, zpl in by_dpi.items()}
    assert scalable == {203: "20", 300: "30", 600: "59"}  # 7 pt: 2.47 mm, in whole dots
    for dpi, zpl in by_dpi.items():  # Data Matrix 0.5 mm modules
        assert re.search(r"\^BXN,(\d+),200", zpl)[1] == str({203: 4, 300: 6, 600: 12}[dpi])


def graphic_after(zpl: str, x: int, y: int) -> str:
    return re.search(rf"\^FO{x},{y}\^GFA,[^\^]*", zpl)[0]


def test_the_eye_readable_din_on_zebra_is_drawn_so_that_zero_and_letter_o_differ() -> None:
    zero, letter = DATA["bag"](1), DATA["bag"](1, din_eye_readable="A9999 26 OOOOO1")
    zpl_zero, zpl_letter = render_zpl("bag", [zero]), render_zpl("bag", [letter])
    assert "A9999 26 000001" not in zpl_zero  # not a resident-font text field
    din_field = re.search(r"\^BC[^\n]*\n(\^FO\d+,\d+)\^GFA", zpl_zero)[1]
    assert din_field in zpl_letter
    x, y = map(int, din_field[3:].split(","))
    assert graphic_after(zpl_zero, x, y) != graphic_after(zpl_letter, x, y)
    zero_glyph = fonts.raster("0", fonts.MONO, 10, 8.0)
    o_glyph = fonts.raster("O", fonts.MONO, 10, 8.0)
    assert zero_glyph.rows != o_glyph.rows


def test_the_product_statement_follows_the_jurisdiction() -> None:
    assert words.statement("cn_clinical_trial", BILINGUAL) == CN_STATEMENT
    assert words.statement("us_investigational", ["en"]) == words.STATEMENTS["us_investigational"]
    with pytest.raises(ValueError, match="LABEL_STATEMENT"):
        words.statement("eu", BILINGUAL)


@pytest.mark.parametrize(("key", "value"), [("LABEL_LANGUAGES", ["fr"]), ("LABEL_LANGUAGES", []),
                                            ("LABEL_STATEMENT", "eu"), ("LABEL_ZPL_DPI", 150)])
def test_a_label_setting_no_printer_could_follow_is_refused_at_start(tmp_path, key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        load(str(tmp_path), {key: value})


def _label_words() -> set[str]:
    found = set(words.MESSAGES) | set(DEFAULTS["PRODUCT_DESCRIPTIONS"].values())  # the product lines it ships with
    for path in sorted((ROOT / "labels").glob("*.toml")):
        for element in tomllib.loads(path.read_text(encoding="utf-8"))["element"]:
            found |= {element[key].strip() for key in ("text", "prefix") if element.get(key, "").strip()}
    return found


def test_every_label_word_has_its_chinese_in_the_label_context_of_the_catalogue() -> None:
    path = ROOT / "cellchain" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="zh")
    missing = sorted(m for m in _label_words() if not (catalogue.get(m, context=words.CONTEXT) or None)
                     or not catalogue.get(m, context=words.CONTEXT).string)
    assert missing == []
    assert words.say(words.QUARANTINE, BILINGUAL) == "待验 QUARANTINE"
