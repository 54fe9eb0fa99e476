"""Label templates rendered to PDF and ZPL: what prints is the data, and a scanner gives it back exactly.

Every PDF page is rasterised at 300 dpi and decoded with zxing-cpp; every ZPL barcode field is read back
with the ZPL II rules (^FH hex escapes, Code 128 invocation codes), independently of the renderer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from cellchain.labelling.pdf import code128_codewords, render_pdf
from cellchain.labelling.templates import available_kinds, is_printed, load_template
from cellchain.labelling.zpl import render_zpl
from tests.factories.label_reading import MOD37, check_value, code128_values_from_zpl, scan_pages, zpl_symbols

KINDS = ["bag", "collection", "culture_vessel", "qc_tube", "wristband", "shipper", "cryovial"]
SYMBOLS = {"barcode128": "Code128", "datamatrix": "DataMatrix", "qr": "QRCode"}


# --- realistic ISBT 128 data (validation FIN A9999) ----------------------------------------------------
def din_fields(sequence: int) -> dict[str, str]:
    din = f"A999926{sequence:06d}"
    k = check_value(din)
    return {"din_barcode": f"={din}{60 + k}", "din_eye_readable": f"{din[:5]} {din[5:7]} {din[7:]}",
            "din_check": MOD37[k]}


def bag(n: int = 1, **extra: Any) -> dict[str, Any]:
    din = din_fields(n)
    return {**din, "collection_facility": "Validation Cord Collection Centre (FIN A9999)",
            "product_code_barcode": "=<D0001V00", "product_code_eye_readable": "D0001V00",
            "product_description": "UC-MSC, umbilical cord mesenchymal stromal cells, cryopreserved",
            "anticoagulant": "in CryoStor CS10 with ACD-A, lot ACD2611", "volume": "20 mL",
            "cell_content": "70 x 10^6 viable cells", "storage_temperature": "At or below -150 °C",
            "recipient_id": "SUBJ-0007", "recipient_birth_date": "1971-03-14",
            "expiry_barcode": "&>0263301200", "expiry_local": "2026-11-26 12:00 CET",
            "expiry_utc": "2026-11-26 11:00 UTC",
            "compound_2d": f"=+03000{din['din_barcode']}=<D0001V00&>0263301200",
            "releasing_establishment": "Cell Therapy Unit, Validation University Hospital",
            "statement": "Caution: New Drug - Limited by Federal (or United States) law to investigational use",
            **extra}


def collection(n: int = 1, **extra: Any) -> dict[str, Any]:
    din = din_fields(n)
    return {**din, "collection_barcode": "&*0263300930", "collected_local": "2026-11-26 09:30 CET",
            "compound_2d": f"=+02000{din['din_barcode']}&*0263300930",
            "product_description": "Human umbilical cord", "collection_facility": "Validation Cord Centre",
            "quarantine_text": "QUARANTINE - donor eligibility pending", **extra}


def culture_vessel(n: int = 1, **extra: Any) -> dict[str, Any]:
    din = din_fields(n)
    return {**din, "lot_id": "LOT2026001", "passage": "P2", "vessel_no": "3 of 12",
            "dated": "Seeded 2026-11-30",
            "compound_2d": f"=+03000{din['din_barcode']}&)LOT2026001&/COI-{n}-P2-03", **extra}


def qc_tube(n: int = 1, **extra: Any) -> dict[str, Any]:
    din = din_fields(n)
    return {**din, "sample_id": f"QC-LOT2026001-{n:02d}", "test_name": "Sterility (USP <71>)",
            "spec_version": "Spec UCMSC-1", "lot_id": "LOT2026001",
            "compound_2d": f"=+03000{din['din_barcode']}&)LOT2026001&/QC-LOT2026001-{n:02d}", **extra}


def wristband(n: int = 7, **extra: Any) -> dict[str, Any]:
    return {"subject_barcode": f"&#SUBJ-{n:04d}", "subject_id": f"SUBJ-{n:04d}",
            "subject_2d": f"=+02000&#SUBJ-{n:04d}=#19710314", "screening_number": "SCR-0019",
            "birth_date": "1971-03-14", "trial_name": "UC-MSC in liver transplantation (CT-2026-01)", **extra}


def shipper(n: int = 42, **extra: Any) -> dict[str, Any]:
    return {"shipment_barcode": f"SHP2026{n:05d}", "shipment_id": f"SHP2026{n:05d}",
            "verify_url": f"https://cellchain.example.org/v/SHP2026{n:05d}",
            "ship_from": "Cell Therapy Unit\nValidation University Hospital",
            "ship_to": "Liver Transplant Ward 4B\nValidation University Hospital",
            "contents": "1 bag UC-MSC DIN A9999 26 000001 8 D0001V00", "shipped_at": "2026-11-26 08:15 CET",
            "temperature_requirement": "Keep at or below -150 °C", "emergency_contact": "+1 555 0100",
            **extra}


def cryovial(n: int = 1, **extra: Any) -> dict[str, Any]:
    din = din_fields(n)
    code = f"WCB-A999926{n:06d}-01-V{n:03d}"
    return {**din, "vial_code": code, "bank_line": "WCB · frozen at P4", "contents": "5e+06 cells · 10% DMSO",
            "frozen": "Frozen 2026-11-30", "compound_2d": f"=+02000{din['din_barcode']}&a{code}", **extra}


DATA: dict[str, Callable[..., dict[str, Any]]] = {
    "bag": bag, "collection": collection, "culture_vessel": culture_vessel, "qc_tube": qc_tube,
    "wristband": wristband, "shipper": shipper, "cryovial": cryovial}


def expected_symbols(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(symbology, exact data) of every symbol the template prints for this data, in template order."""
    template = load_template(kind)
    return [(SYMBOLS[e.type], data[e.field]) for e in template.elements
            if e.type in SYMBOLS and e.field and is_printed(e, data)]


# --- tests ---------------------------------------------------------------------------------------------
def test_local_check_helper_matches_published_examples() -> None:
    assert MOD37[check_value("G123417654321")] == "A" and 60 + check_value("G123417654321") == 70
    others = ["A999818123456", "A999921123456", "W000009123456"]
    assert [MOD37[check_value(d)] for d in others] == ["N", "3", "G"]


def test_a_template_exists_for_every_label_kind() -> None:
    assert set(KINDS) <= set(available_kinds())


@pytest.mark.parametrize("kind", KINDS)
def test_every_symbol_on_each_label_kind_scans_back_exactly(kind: str) -> None:
    labels = [DATA[kind](3), DATA[kind](11, reprint=True)]
    assert scan_pages(render_pdf(kind, labels)) == [sorted(expected_symbols(kind, d)) for d in labels]


@pytest.mark.parametrize("kind", KINDS)
def test_page_is_exactly_the_label_size(kind: str) -> None:
    template = load_template(kind)
    page = pymupdf.open(stream=render_pdf(kind, [DATA[kind]()]), filetype="pdf")[0]
    assert page.rect.width == pytest.approx(template.width_mm * 72 / 25.4, abs=0.01)
    assert page.rect.height == pytest.approx(template.height_mm * 72 / 25.4, abs=0.01)


@pytest.mark.parametrize("kind", KINDS)
def test_eye_readable_text_prints_without_data_identifier(kind: str) -> None:
    data = DATA[kind]()
    text = pymupdf.open(stream=render_pdf(kind, [data]), filetype="pdf")[0].get_text()
    for element in load_template(kind).elements:
        if element.human_readable_field:
            assert data[element.human_readable_field] in text
            if data[element.field] != data[element.human_readable_field]:
                assert data[element.field] not in text  # the barcode data with its "=", "&>" ... identifier
    if "din_eye_readable" in data:
        assert data["din_eye_readable"] in text and data["din_check"] in text


def test_bag_label_carries_every_required_statement_and_value() -> None:
    data = bag()
    text = " ".join(pymupdf.open(stream=render_pdf("bag", [data]), filetype="pdf")[0].get_text().split())
    for statement in ["Caution: New Drug - Limited by Federal (or United States) law to investigational use",
                      "Do not irradiate", "Do not use a leukocyte-reduction filter",
                      "For use by intended recipient only"]:
        assert statement in text
    for name in ["collection_facility", "product_description", "anticoagulant", "volume", "cell_content",
                 "storage_temperature", "recipient_id", "recipient_birth_date", "expiry_local", "expiry_utc",
                 "releasing_establishment"]:
        assert data[name] in text


def test_recipient_lines_stay_blank_until_a_bag_is_allocated() -> None:
    data = bag(recipient_id="", recipient_birth_date=None)
    text = pymupdf.open(stream=render_pdf("bag", [data]), filetype="pdf")[0].get_text()
    assert "Intended recipient" in text and "SUBJ-" not in text and "Born" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_zpl_has_one_format_per_label_and_each_barcode_holds_the_data(kind: str) -> None:
    labels = [DATA[kind](n) for n in (2, 5, 9)]
    zpl = render_zpl(kind, labels)
    assert zpl.count("^XA") == zpl.count("^XZ") == 3
    assert zpl_symbols(zpl) == [expected_symbols(kind, d) for d in labels]


def test_zpl_code128_replays_the_pdf_symbol_values() -> None:
    for value in ["=A99992600000168", "=<D0001V00", "&>0263301200", "&#SUBJ-0007", "0123456789", "=A^B~C>D"]:
        fd = re.search(r"\^BC[^\^]*\^FH\^FD(.*?)\^FS", render_zpl("bag", [bag(din_barcode=value)]))[1]
        assert code128_values_from_zpl(fd) == code128_codewords(value)[:-2]  # same symbol, same width


def test_zpl_escapes_what_would_otherwise_be_zpl_syntax() -> None:
    tricky = "=A^B~C_D>E\\F"
    zpl = render_zpl("bag", [bag(din_barcode=tricky, compound_2d=tricky,
                                 collection_facility="Lab ^XZ ~JR _")])
    assert zpl.count("^XZ") == 1 and "~JR" not in zpl
    assert zpl_symbols(zpl)[0][0] == ("Code128", tricky)
    assert ("DataMatrix", tricky) in zpl_symbols(zpl)[0]


def test_zpl_page_follows_dpi_and_wristband_is_turned_for_the_printer() -> None:
    assert "^PW813\n^LL813" in render_zpl("bag", [bag()])
    assert "^PW1219\n^LL1219" in render_zpl("bag", [bag()], dpi=300)
    band = render_zpl("wristband", [wristband()])
    assert "^PW203\n^LL2032" in band and "^BCR," in band and "^A0N" not in band


def test_twenty_labels_are_one_pdf_of_twenty_pages_in_order() -> None:
    labels = [bag(n) for n in range(1, 21)]
    document = pymupdf.open(stream=render_pdf("bag", labels), filetype="pdf")
    assert document.page_count == 20
    assert labels[19]["din_eye_readable"] in document[19].get_text()
    assert labels[0]["din_eye_readable"] not in document[19].get_text()


def test_reprint_is_marked_only_when_flagged() -> None:
    document = pymupdf.open(stream=render_pdf("bag", [bag(1), bag(2, reprint=True)]), filetype="pdf")
    assert "REPRINT" not in document[0].get_text() and "REPRINT" in document[1].get_text()
    formats = re.findall(r"\^XA.*?\^XZ", render_zpl("bag", [bag(1), bag(2, reprint=True)]), flags=re.S)
    assert "REPRINT" not in formats[0] and "REPRINT" in formats[1]


GOOD_ELEMENT = 'type = "text"\ntext = "ok"\nx_mm = 1\ny_mm = 1\n'


def write_template(tmp_path: Path, second_element: str, name: str = "odd.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'[label]\nkind = "odd"\nwidth_mm = 50\nheight_mm = 20\n\n[[element]]\n{GOOD_ELEMENT}\n'
                    f"[[element]]\n{second_element}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("element", "words"), [
    ('type = "barcode39"\nfield = "x"\nx_mm = 1\ny_mm = 1', "unknown type 'barcode39'"),
    ('type = "barcode128"\nfield = "din"\nx_mm = 1\ny_mm = 1\nmodule_mm = 0.25\nhuman_readable_field = "t"',
     "missing key(s) height_mm"),
    ('type = "text"\nfield = "a"\nx_mm = 1\ny_mm = 1\nsize = 8', "unknown key(s) size"),
    ('type = "barcode128"\nfield = "din"\nx_mm = 1\ny_mm = 1\nheight_mm = 8\nmodule_mm = 0.1\n'
     'human_readable_field = "t"', "module_mm >= 0.17"),
    ('type = "text"\nx_mm = 1\ny_mm = 1', "exactly one of 'field' or 'text'"),
    ('type = "line"\nx_mm = 1\ny_mm = 1\nx2_mm = 9\ny2_mm = 9', "horizontal or vertical"),
    ('type = "text"\ntext = "x"\nx_mm = 80\ny_mm = 1', "outside"),
    ('type = "text"\ntext = "x"\nx_mm = 1\ny_mm = 1\nfont = "Comic"', "unknown font"),
])
def test_malformed_template_is_refused_naming_file_and_element(tmp_path: Path, element: str,
                                                               words: str) -> None:
    with pytest.raises(ValueError) as refused:
        render_pdf(write_template(tmp_path, element), [{}])
    assert "odd.toml element 2" in str(refused.value) and words in str(refused.value)


def page_width_pt(kind_or_path: str | Path) -> float:
    return pymupdf.open(stream=render_pdf(kind_or_path, [{}]), filetype="pdf")[0].rect.width


def test_edited_template_changes_output_without_restart(tmp_path: Path) -> None:
    path = write_template(tmp_path, GOOD_ELEMENT)
    assert page_width_pt(path) == pytest.approx(50 * 72 / 25.4)
    path.write_text(path.read_text().replace("width_mm = 50", "width_mm = 60"), encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000  # a coarse file system clock must not hide the edit
    os.utime(path, ns=(stamp, stamp))
    assert page_width_pt(path) == pytest.approx(60 * 72 / 25.4)


def test_missing_value_stops_the_job_naming_label_and_field() -> None:
    broken = bag(2)
    del broken["din_barcode"]
    for render in (render_pdf, render_zpl):
        with pytest.raises(ValueError, match=r"label 2: bag.toml element \d+ \(barcode128 'din_barcode'\)"):
            render("bag", [bag(1), broken])


def test_symbol_or_text_that_would_be_clipped_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        render_pdf("bag", [bag(product_code_barcode="=<" + "X" * 30)])
    with pytest.raises(ValueError, match="does not fit"):
        render_zpl("bag", [bag(product_description="very long words " * 20)])


def test_barcode_data_outside_printable_ascii_is_refused_rather_than_altered() -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        render_pdf("bag", [bag(compound_2d="=+01000=<D0001V00\n")])


def test_an_empty_job_is_refused() -> None:
    with pytest.raises(ValueError, match="no labels"):
        render_pdf("bag", [])


def test_datamatrix_returns_every_printable_ascii_character(tmp_path: Path) -> None:
    """reportlab's own C40 encoder garbles ``:;<=>?@`` (ISBT ``=``, ``<``, ``>``); ours must not."""
    every = "".join(chr(c) for c in range(32, 127))
    symbol = 'type = "datamatrix"\nfield = "all"\nx_mm = 20\ny_mm = 0\nmodule_mm = 0.4'
    path = write_template(tmp_path, symbol)
    assert scan_pages(render_pdf(path, [{"all": every}, {"all": every[::-1][:41]}])) == [
        [("DataMatrix", every)], [("DataMatrix", every[::-1][:41])]]


def test_a_kind_name_cannot_reach_outside_the_labels_folder() -> None:
    with pytest.raises(ValueError, match="not a label kind"):
        render_pdf("../labels/bag", [bag()])


def test_text_the_label_fonts_cannot_show_is_refused_rather_than_printed_blank() -> None:
    for render in (render_pdf, render_zpl):
        with pytest.raises(ValueError, match=r"cannot print character '\U0001f600' \(U\+1F600\)"):
            render("bag", [bag(collection_facility="北京 302 \U0001f600")])
        with pytest.raises(ValueError, match="cannot print character"):
            render("bag", [bag(recipient_id="SUBJ-0007\x1b[2J")])
    assert "°C" in render_zpl("bag", [bag(storage_temperature="2 °C to 8 °C")]).replace("_C2_B0", "°")
