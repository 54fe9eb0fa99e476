"""The values a label prints, in the site's label languages, and Chinese in a bold weight where the template
sets bold.

Every label kind is built by the builders of ``labelling/data.py`` from plain rows, in the worst case each
kind has (a thawed bag's storage instruction, 99 culture vessels, the longest test code, a long lot number),
and rendered to PDF and to ZPL at 203, 300 and 600 dpi: it must fit its template and its codes must scan
back exactly when the PDF is drawn in black and white dots at 203 and 300 dpi (zxing-cpp).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pymupdf
import pytest

from cellchain.core.config import DEFAULTS
from cellchain.identifiers.isbt128 import ChainOfIdentity
from cellchain.labelling import data
from cellchain.labelling.data import LabelSettings, Recipient
from cellchain.labelling.pdf import render_pdf
from cellchain.labelling.place_labels import in_unit, place_label
from cellchain.labelling.site import fonts
from cellchain.labelling.templates import load_template, parse_template
from cellchain.labelling.zpl import render_zpl
from cellchain.quality.rules.spec_limits import DEFAULT_SPEC
from tests.factories.label_reading import page_text, zpl_symbols
from tests.labelling.test_rendering import expected_symbols
from tests.labelling.test_site_labels import binary_scan

NOW = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
COI = ChainOfIdentity.issue("A9999", 2026, 3)
SITE = {**DEFAULTS, "FACILITY_NAME": "北京302医院细胞治疗中心", "FACILITY_ADDRESS": "北京市丰台区西四环中路100号",
        "FACILITY_TELEPHONE": "010-0000 0000"}
CHINESE = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")


def site(languages: list[str]) -> LabelSettings:
    """The site in Beijing printing in ``languages``; printing in English alone, it names itself in English."""
    config = SITE if "zh" in languages else {**DEFAULTS, "FACILITY_ADDRESS": "1 Validation Road",
                                             "FACILITY_TELEPHONE": "010-0000 0000"}
    return LabelSettings.from_config({**config, "LABEL_LANGUAGES": languages},
                                     verify_url_base="https://cellchain.test/labels/shipments/")


def bag_row(**extra: Any) -> SimpleNamespace:
    row = {"kind": "ucmsc", "din": "A999926000001", "product_code": "D0001", "collection_type": "V",
           "division": "A0", "bag_code": "A999926000001-D0001VA0", "expires_at": NOW, "saline_lot": None,
           "anticoagulant": "ACD-A", "anticoagulant_volume_ml": 12.5, "anticoagulant_lot": "ACD-2026-110045",
           "volume_ml": 50.0, "total_cells": 72_340_000, "preservation": "fresh", "thawed_at": None,
           "quality_status": "quarantine"}
    return SimpleNamespace(**{**row, **extra})


def labels(settings: LabelSettings) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every label kind, as (template, data), in the longest form each takes."""
    languages = settings.label_languages
    recipient = Recipient("SUBJ-0003", date(1968, 10, 25), COI.text)
    subject = SimpleNamespace(subject_code="SUBJ-0003", birth_date=date(1968, 10, 25), screening_number="SCR-0019",
                              chain_of_identity=COI.text)
    longest_test = max((t.code for t in DEFAULT_SPEC.tests), key=len)
    letters = DEFAULTS["LOCAL_DATA_IDENTIFIERS"]
    shipped = [bag_row(division=d, bag_code=f"A999926000001-D0001V{d}", quality_status="released")
               for d in ("A0", "B0", "C0")]
    built = {
        "fresh bag": ("bag", data.bag_label(bag_row(), recipient, settings)),
        "frozen bag": ("bag", data.bag_label(bag_row(preservation="cryopreserved"), recipient, settings)),
        "thawed bag": ("bag", data.bag_label(bag_row(preservation="cryopreserved", thawed_at=NOW), recipient,
                                             settings)),
        "placebo bag": ("bag", data.bag_label(bag_row(kind="placebo", product_code="D0002", division="00",
                                                      saline_lot="NS-2026-04-15", total_cells=None), None, settings)),
        "bag without anticoagulant": ("bag", data.bag_label(bag_row(anticoagulant=None), None, settings)),
        "collection": ("collection", data.collection_label(
            SimpleNamespace(din="A999926000001", collected_at=NOW, eligibility="pending"), settings)),
        "wristband": ("wristband", data.wristband_label(subject, settings)),
        "culture vessel": ("culture_vessel", data.vessel_label(
            "A999926000001", "A999926000001", passage=10, vessel_no=99, vessels=99,
            dated=data.vessel_dated(None, NOW, settings.tz, languages), languages=languages)),
        "QC tube": ("qc_tube", data.qc_tube_label("A999926000001", "A999926000001", number=12, test_code=longest_test,
                                                  spec_version="UCMSC-1", languages=languages)),
        "cryovial": ("cryovial", data.vial_label(
            "MCB-A999926000001-V001", "A999926000001", letter="a", level="MCB", passage=3, cells_per_vial=5_000_000,
            cryoprotectant="10% DMSO", frozen_at=NOW, tz=settings.tz, languages=languages)),
        "shipper": ("shipper", data.shipper_label("SHP-0123456789", shipped, ship_to="Liver transplant ward 4B",
                                                  shipped_at=NOW, settings=settings)),
        "storage box": ("storage", place_label("box", "BX-0001", "LN2-01 > R1", letters, languages)),
        "rack": ("storage", place_label("location", "R1", in_unit("LN2-01", languages), letters, languages)),
    }
    return {name: (kind, {**values, "languages": list(languages)}) for name, (kind, values) in built.items()}


NAMES = list(labels(site(["en"])))


@pytest.mark.parametrize("name", NAMES)
def test_each_label_with_its_values_in_chinese_and_english_fits_and_its_codes_scan_at_203_and_300_dpi(
        name: str) -> None:
    kind, values = labels(site(["zh", "en"]))[name]
    pdf = render_pdf(kind, [values])  # a value that would not fit refuses the label
    assert CHINESE.search(page_text(pdf))
    expected = sorted(expected_symbols(kind, values))
    for dpi in (203, 300):
        assert binary_scan(pdf, dpi) == [expected]
    for dpi in (203, 300, 600):
        assert sorted(zpl_symbols(render_zpl(kind, [values], dpi=dpi))[0]) == expected


def test_a_bag_label_for_the_site_says_how_to_store_it_and_what_it_is_in_chinese_and_english() -> None:
    fresh, frozen, thawed, placebo = (labels(site(["zh", "en"]))[name][1]
                                      for name in ("fresh bag", "frozen bag", "thawed bag", "placebo bag"))
    text = page_text(render_pdf("bag", [fresh]))
    for words in ["2 °C 至 8 °C 储存", "Store at 2 °C to 8 °C", "UC-MSC，同种异体，供输注用",
                  "UC-MSC, allogeneic, for infusion", "7.2 x 10^7 个细胞 cells",
                  "抗凝剂 Anticoagulant: ACD-A 12.5 mL, 批号 lot ACD-2026-110045"]:
        assert words in text
    text = page_text(render_pdf("bag", [frozen]))
    assert "-150 °C 或以下冻存（液氮气相）" in text
    assert "Store frozen at or below -150 °C (vapour-phase liquid nitrogen)" in text
    text = page_text(render_pdf("bag", [thawed]))
    assert "已复苏 2026-11-24 10:30 UTC+8，勿再冻存" in text
    assert "THAWED 2026-11-24 10:30 UTC+8; do not refreeze" in text
    text = page_text(render_pdf("bag", [placebo]))
    for words in ["安慰剂：0.9% 氯化钠", "Placebo: sodium chloride 0.9%", "无细胞（安慰剂） No cells (placebo)",
                  "0.9% 氯化钠 sodium chloride, 批号 lot NS-2026-04-15"]:
        assert words in text


def test_a_site_printing_labels_in_english_only_prints_no_chinese_on_any_label() -> None:
    for name, (kind, values) in labels(site(["en"])).items():
        text = page_text(render_pdf(kind, [values]))
        assert not CHINESE.search(text), (name, text)
    fresh = labels(site(["en"]))["fresh bag"][1]
    assert fresh["storage_temperature"] == "Store at 2 °C to 8 °C"
    assert fresh["product_description"] == "UC-MSC, allogeneic, for infusion"
    assert fresh["cell_content"] == "7.2 x 10^7 cells"
    assert fresh["anticoagulant"] == "Anticoagulant: ACD-A 12.5 mL, lot ACD-2026-110045"
    assert labels(site(["en"]))["placebo bag"][1]["cell_content"] == "No cells (placebo)"


def test_english_first_puts_each_language_in_the_order_the_site_lists_them() -> None:
    fresh = labels(site(["en", "zh"]))["fresh bag"][1]
    assert fresh["storage_temperature"] == "Store at 2 °C to 8 °C\n2 °C 至 8 °C 储存"
    assert fresh["cell_content"] == "7.2 x 10^7 cells 个细胞"


# --- Chinese in bold --------------------------------------------------------------------------------------
BOLD_AND_REGULAR = parse_template({
    "label": {"kind": "weights", "width_mm": 60.0, "height_mm": 20.0},
    "element": [
        {"type": "text", "field": "status", "x_mm": 2.0, "y_mm": 2.0, "font": "Helvetica-Bold", "size_pt": 12},
        {"type": "text", "field": "status", "x_mm": 2.0, "y_mm": 11.0, "font": "Helvetica", "size_pt": 12},
    ]}, "weights.toml")
STATUS = {"status": "待验 QUARANTINE"}


def _ink(pdf: bytes, top_mm: float, bottom_mm: float) -> int:
    page = pymupdf.open(stream=pdf, filetype="pdf")[0]
    pix = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
    rows = slice(round(top_mm / 25.4 * 300), round(bottom_mm / 25.4 * 300))
    return int((image[rows] < 128).sum())


def _stroked(pdf: bytes) -> list[str]:
    """The text drawn with a stroke on the first page (pymupdf's text trace: type 1 is stroked text)."""
    spans = pymupdf.open(stream=pdf, filetype="pdf")[0].get_texttrace()
    return ["".join(chr(c[0]) for c in span["chars"]) for span in spans if span["type"] == 1]


def test_chinese_set_in_bold_is_drawn_filled_and_stroked_in_the_pdf_and_prints_darker() -> None:
    pdf = render_pdf(BOLD_AND_REGULAR, [STATUS])
    stream = pymupdf.open(stream=pdf, filetype="pdf")[0].read_contents().decode("latin-1")
    assert stream.count("2 Tr") == 1  # the bold line only: fill, then stroke
    assert _stroked(pdf) == ["待验 QUARANTINE"]
    assert _ink(pdf, 1.0, 10.0) > 1.1 * _ink(pdf, 10.0, 19.0)


def test_the_headings_product_status_and_statement_of_a_site_bag_label_are_bold_in_chinese_too() -> None:
    values = labels(site(["zh", "en"]))["fresh bag"][1]
    stroked = _stroked(render_pdf("bag", [values]))
    for bold in ["待验 QUARANTINE", "UC-MSC，同种异体，供输注用", "2 °C 至 8 °C 储存", "仅供临床试验使用",
                 "有效期至 EXPIRES", "7.2 x 10^7 个细胞 cells"]:
        assert bold in stroked
    assert "采集机构 Collection facility" not in stroked and "细胞含量 Cell content" not in stroked  # regular captions
    assert "Store at 2 °C to 8 °C" not in stroked  # English prints in Helvetica-Bold itself
    assert _stroked(render_pdf("bag", [labels(site(["en"]))["fresh bag"][1]])) == []


def _graphic_dots(zpl: str) -> list[int]:
    """The dark dots of each ^GF graphic field, in order."""
    return [bin(int(hex_data, 16)).count("1") for hex_data in re.findall(r"\^GFA,\d+,\d+,\d+,([0-9A-F]+)\^FS", zpl)]


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_chinese_set_in_bold_is_drawn_with_more_dots_on_a_zebra_head(dpi: int) -> None:
    bold, regular = _graphic_dots(render_zpl(BOLD_AND_REGULAR, [STATUS], dpi=dpi))
    assert bold > 1.1 * regular
    dots_per_mm = {203: 8.0, 300: 12.0, 600: 24.0}[dpi]
    heavy = fonts.raster("仅供临床试验使用", fonts.CJK, 7, dots_per_mm, bold=True)
    light = fonts.raster("仅供临床试验使用", fonts.CJK, 7, dots_per_mm)
    assert heavy.height == light.height and heavy.width == light.width + 2 * fonts.bold_margin(7, dots_per_mm)
    assert bin(int(heavy.rows.hex(), 16)).count("1") > bin(int(light.rows.hex(), 16)).count("1")


def test_a_bold_chinese_line_on_a_zebra_head_starts_where_the_regular_one_would() -> None:
    zpl = render_zpl(BOLD_AND_REGULAR, [STATUS], dpi=203)
    origins = [int(x) for x in re.findall(r"\^FO(\d+),\d+\^GFA", zpl)]
    assert origins == [16 - fonts.bold_margin(12, 8.0), 16]  # 2 mm at 8 dots a mm, less the stroke's margin


# --- identifiers after a Chinese caption ------------------------------------------------------------------
# (label, caption as printed, identifier): each line's identifier is a value set in Courier-Bold in its template
CAPTIONED_IDENTIFIERS = [
    ("culture vessel", "批号 Lot ", "A999926000001"),
    ("QC tube", "批号 Lot ", "A999926000001"),
    ("fresh bag", "身份链 COI ", COI.eye_readable),
    ("wristband", "身份链 COI ", COI.eye_readable),
]


def _spans(pdf: bytes) -> list[dict[str, Any]]:
    page = pymupdf.open(stream=pdf, filetype="pdf")[0]
    return [span for block in page.get_text("dict")["blocks"] for line in block.get("lines", [])
            for span in line["spans"]]


@pytest.mark.parametrize(("name", "caption", "identifier"), CAPTIONED_IDENTIFIERS)
def test_an_identifier_after_a_chinese_caption_prints_in_the_monospace_font_in_the_pdf(
        name: str, caption: str, identifier: str) -> None:
    kind, values = labels(site(["zh", "en"]))[name]
    spans = {span["text"]: span for span in _spans(render_pdf(kind, [values]))}
    assert spans[identifier]["font"] == "Courier-Bold"
    assert spans[caption]["font"].startswith(fonts.CJK)
    assert spans[caption]["bbox"][2] <= spans[identifier]["bbox"][0] + 0.01  # caption, then the identifier
    assert not any(identifier in text and caption.split()[0] in text for text in spans)  # not in the caption's


def test_an_identifier_after_an_english_caption_prints_in_the_monospace_font_in_the_pdf() -> None:
    for name in ("culture vessel", "QC tube"):
        kind, values = labels(site(["en"]))[name]
        fonts_of = {span["text"]: span["font"] for span in _spans(render_pdf(kind, [values]))}
        assert fonts_of["Lot A999926000001"] == "Courier-Bold", name


def _graphics(zpl: str) -> list[tuple[int, int, str]]:
    """Each ^GF graphic field: its origin and its hex data."""
    return [(int(x), int(y), hex_data) for x, y, hex_data in
            re.findall(r"\^FO(\d+),(\d+)\^GFA,\d+,\d+,\d+,([0-9A-F]+)\^FS", zpl)]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize(("name", "caption", "identifier"), CAPTIONED_IDENTIFIERS)
def test_an_identifier_after_a_chinese_caption_is_its_own_monospace_field_on_a_zebra_head(
        name: str, caption: str, identifier: str, dpi: int) -> None:
    kind, values = labels(site(["zh", "en"]))[name]
    template = load_template(kind)
    size = next(e.size_pt for e in template.elements if e.type == "text" and e.prefix and e.prefix.strip() in caption)
    dots_per_mm = {203: 8.0, 300: 12.0}[dpi]
    turned = template.zpl_rotate
    graphics = _graphics(render_zpl(kind, [values], dpi=dpi))
    drawn = {hex_data: (x, y) for x, y, hex_data in graphics}

    def hex_of(text: str, font: str, bold: bool = False) -> str:
        return fonts.raster(text, font, size, dots_per_mm, turned=turned, bold=bold).rows.hex().upper()

    # the identifier in DejaVu Sans Mono Bold (struck zero), as the DIN's eye-readable text is drawn
    assert hex_of(identifier, fonts.MONO) in drawn
    assert hex_of(caption, fonts.CJK, bold=True) in drawn
    assert hex_of(caption + identifier, fonts.CJK, bold=True) not in drawn
    caption_at, identifier_at = drawn[hex_of(caption, fonts.CJK, bold=True)], drawn[hex_of(identifier, fonts.MONO)]
    along = 1 if turned else 0  # a turned label runs along the printer's y
    assert identifier_at[along] > caption_at[along]


@pytest.mark.parametrize(("name", "check"), [("fresh bag", f"K {COI.check}"), ("wristband", COI.check)])
def test_the_chain_of_identity_identifier_after_its_chinese_caption_ends_before_its_check_character(
        name: str, check: str) -> None:
    kind, values = labels(site(["zh", "en"]))[name]
    spans = {span["text"]: span for span in _spans(render_pdf(kind, [values]))}
    ends = spans[COI.eye_readable]["bbox"][2]
    assert ends < spans[check]["bbox"][0]
    frame = next((e for e in load_template(kind).elements if e.type == "box" and e.field == "coi_check"), None)
    if frame is not None:  # the wristband frames K: the identifier ends before the frame
        assert ends < frame.x_mm * 72 / 25.4
