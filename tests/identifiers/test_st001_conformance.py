"""ST-001 conformance: every data structure cellchain writes is one of the ISBT 128 structures of
docs/identifiers.md, in exactly its form, and reads back; the published examples read as published.

Each label builder of ``labelling/data.py`` (and the storage labels) is run on plain rows, and every code it
prints (each linear code and each 2D code's structures) is parsed by the same parser the scanners use.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from cellchain.core import config
from cellchain.core.config import DEFAULTS
from cellchain.core.errors import Invalid, Refused
from cellchain.identifiers import isbt128
from cellchain.identifiers.isbt128 import WRITTEN, ChainOfIdentity, Din, parse_structure
from cellchain.identifiers.scans import parse_scan
from cellchain.labelling import data
from cellchain.labelling.data import LabelSettings, Recipient
from cellchain.labelling.place_labels import place_label

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = LabelSettings.from_config(DEFAULTS)
LETTERS = DEFAULTS["LOCAL_DATA_IDENTIFIERS"]
COI = ChainOfIdentity.issue("A9999", 2026, 3)
NOW = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)

# STANDARDS.md, "Published examples": 13-character DIN -> K
PUBLISHED_K = [("G123417654321", "A"), ("A999818123456", "N"), ("A999921123456", "3"), ("W000009123456", "G"),
               ("A999820123456", "E"), ("A999917123456", "9")]


def _bag(**extra) -> SimpleNamespace:
    row = {"kind": "ucmsc", "din": "A999926000001", "product_code": "D0001", "collection_type": "V",
           "division": "A0", "expires_at": NOW, "saline_lot": None, "anticoagulant": "ACD-A",
           "anticoagulant_volume_ml": 5.0, "anticoagulant_lot": "ACD2611", "volume_ml": 50.0,
           "total_cells": 72_000_000, "preservation": "fresh", "thawed_at": None, "quality_status": "released"}
    return SimpleNamespace(**{**row, **extra})


def _subject(coi: str | None = COI.text) -> SimpleNamespace:
    return SimpleNamespace(subject_code="SUBJ-0003", birth_date=date(1968, 10, 25), screening_number="SCR-1",
                           chain_of_identity=coi)


def every_label() -> dict[str, dict]:
    collection = SimpleNamespace(din="A999926000001", collected_at=NOW, eligibility="pending")
    return {
        "collection": data.collection_label(collection, SETTINGS),
        "bag": data.bag_label(_bag(), None, SETTINGS),
        "allocated bag": data.bag_label(_bag(), Recipient("SUBJ-0003", date(1968, 10, 25), COI.text), SETTINGS),
        "wristband before randomization": data.wristband_label(_subject(None), SETTINGS),
        "wristband": data.wristband_label(_subject(), SETTINGS),
        "culture vessel": data.vessel_label("A999926000001-L01", "A999926000001", passage=2, vessel_no=3,
                                            vessels=4, dated="Seeded", letter=LETTERS["vessel"]),
        "QC tube": data.qc_tube_label("A999926000001", "A999926000001", number=3, test_code="sterility",
                                      spec_version="1", letter=LETTERS["qc_tube"]),
        "cryovial": data.vial_label("MCB-A999926000001-V001", "A999926000001", letter=LETTERS["vial"],
                                    level="MCB", passage=2, cells_per_vial=1_000_000, cryoprotectant="10% DMSO",
                                    frozen_at=NOW, tz=SETTINGS.tz),
        **{f"{kind} label": place_label(kind, code, "", LETTERS)
           for kind, code in [("box", "BX-0001"), ("position", "BX-0001-B3"), ("location", "R1")]},
    }


def _codes(label: dict) -> list[str]:
    return [v for k, v in label.items() if (k.endswith("_barcode") or k.endswith("_2d")) and v]


def _written(data_text: str) -> list[isbt128.ParsedStructure]:
    parsed = parse_structure(data_text, SETTINGS.tz)
    return list(parsed.fields["structures"]) if parsed.kind == "compound" else [parsed]


@pytest.mark.parametrize("name", sorted(every_label()))
def test_every_structure_a_label_writes_is_a_listed_st001_structure_that_reads_back(name: str) -> None:
    label = every_label()[name]
    for code in _codes(label):
        parsed = parse_structure(code, SETTINGS.tz)
        assert parsed.kind in WRITTEN and parsed.data == code
        if parsed.kind == "compound":
            assert code.startswith("=+") and parsed.fields["reference"] == "000"
            assert isbt128.encode_compound([s.data for s in parsed.fields["structures"]]) == code
        for structure in _written(code):
            assert structure.kind in WRITTEN, f"{name} writes {structure.data}, not a listed structure"
            identifier = WRITTEN[structure.kind][0]
            assert structure.data.startswith(identifier) or (structure.kind == "local" and structure.data[0] == "&")
            parse_scan(structure.data, tz=SETTINGS.tz)  # and the scanners read it alone too


def test_no_label_writes_a_container_lot_or_misuses_the_chain_of_identity_structure() -> None:
    written = [s for label in every_label().values() for code in _codes(label) for s in _written(code)]
    assert not [s.data for s in written if s.data.startswith("&)")]
    cois = [s for s in written if s.data.startswith("&/")]
    assert cois and all(s.kind == "chain_of_identity" and s.fields["chain_of_identity"] == COI.text for s in cois)


def test_the_patient_structures_carry_location_code_and_length() -> None:
    band = every_label()["wristband"]
    assert band["subject_barcode"] == "&#0008SUBJ0003"
    assert band["subject_2d"] == "=+03000&#0008SUBJ0003=#0019681025&/" + COI.text
    assert band["coi_eye_readable"] == "CH A9999 26 000003" and band["coi_check"] == COI.check
    assert parse_scan(band["subject_barcode"]).fields["subject_id"] == "SUBJ-0003"
    bag = every_label()["allocated bag"]["compound_2d"]
    assert bag.endswith("&#0008SUBJ0003=#0019681025&/" + COI.text)
    assert parse_scan(bag).fields["subject_id"] == "SUBJ-0003"


def test_a_wristband_before_randomization_has_no_chain_of_identity() -> None:
    band = every_label()["wristband before randomization"]
    assert band["coi_barcode"] == "" and "&/" not in band["subject_2d"]


def test_vessel_and_qc_tube_ids_are_local_structures_under_their_site_letters() -> None:
    labels = every_label()
    assert labels["culture vessel"]["compound_2d"].endswith(f"&{LETTERS['vessel']}A999926000001-L01-P2-V03")
    assert labels["QC tube"]["compound_2d"].endswith(f"&{LETTERS['qc_tube']}A999926000001-Q03")


# --- the published examples ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("din", "k"), PUBLISHED_K)
def test_published_dins_read_keyed_with_k_and_as_barcodes_with_type_3_flags(din: str, k: str) -> None:
    parsed = Din.parse(din)
    assert parsed.check == k
    keyed = parse_scan(f"{parsed.eye_readable} {k}")
    assert keyed.kind == "din" and keyed.fields["din"] == din and keyed.fields["check"] == k
    barcode = parse_scan(parsed.barcode_data())
    assert barcode.fields["flags"] == f"{60 + isbt128.MOD37_ALPHABET.index(k)}"


def test_the_published_type_3_barcode_reads_and_a_wrong_flag_is_refused() -> None:
    assert parse_scan("=G12341765432170").fields["din"] == "G123417654321"
    with pytest.raises(Invalid, match="din_flags_mismatch"):
        parse_scan("=G12341765432171")


def test_the_published_patient_forms_read() -> None:
    assert parse_structure("=#0019681025").fields == {"location": "00", "birth_date": date(1968, 10, 25)}
    assert parse_scan("&#0008SUBJ0003").fields == {"subject_id": "SUBJ-0003", "location": "00"}


def test_the_old_non_standard_forms_are_refused() -> None:
    for text in ["=#19681025", "&#SUBJ-0003", "&)A999926000001", "&/A999926000001-P2-V03"]:
        with pytest.raises(Invalid):
            parse_structure(text)


def test_a_chain_of_identity_with_a_wrong_k_is_refused_like_a_din() -> None:
    wrong = COI.text[:-1] + ("0" if COI.check != "0" else "1")
    with pytest.raises(Refused):
        ChainOfIdentity.parse(wrong)


def test_concatenated_reads_of_the_codes_of_one_label_read_like_its_2d_code() -> None:
    bag = every_label()["allocated bag"]
    joined = bag["din_barcode"] + bag["product_code_barcode"] + bag["expiry_barcode"]
    scan = parse_scan(joined, tz=SETTINGS.tz)
    assert scan.fields["concatenated"] and scan.fields["bag_id"] == "A999926000001-D0001VA0"
    band = every_label()["wristband"]
    assert parse_scan(band["subject_barcode"] + "=#0019681025").fields["subject_id"] == "SUBJ-0003"


# --- the table in docs/identifiers.md -------------------------------------------------------------------------
def _docs_table() -> list[list[str]]:
    text = (ROOT / "docs" / "identifiers.md").read_text()
    section = text.split("## Every data structure cellchain writes", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| structure", "| ---"))]


def test_the_docs_table_lists_every_structure_written_with_its_st001_reference() -> None:
    rows = _docs_table()
    assert len(rows) == len(WRITTEN)
    for kind, (identifier, reference) in WRITTEN.items():
        shown = "&" if kind == "local" else identifier  # the local row writes `&` + the kind's letter
        assert any(row[3] == reference and row[1].startswith(f"`{shown}`") for row in rows), (identifier, reference)


def test_every_example_in_the_docs_table_reads_as_its_structure() -> None:
    kinds = {reference: kind for kind, (_, reference) in WRITTEN.items()}
    for row in _docs_table():
        for example in re.findall(r"`([^`]+)`", row[2]):
            assert parse_structure(example).kind == kinds[row[3]], example


# --- the site's settings --------------------------------------------------------------------------------------
@pytest.mark.parametrize("codes", [{"ucmsc": "S1234", "placebo": "S1235"}, {"ucmsc": "YA001", "placebo": "YA002"},
                                   {"ucmsc": "D0001", "placebo": "D0002"}])
def test_a_site_may_use_s_codes_clinical_trial_codes_or_local_d_codes(tmp_path, codes) -> None:
    loaded = config.load(str(tmp_path), {"PRODUCT_CODES": codes, "SECRET_KEY": "x"})
    assert loaded["PRODUCT_CODES"] == codes
    bag = data.bag_label(_bag(product_code=codes["ucmsc"]), None, SETTINGS)
    assert parse_scan(bag["product_code_barcode"]).fields["product_code"] == codes["ucmsc"]


@pytest.mark.parametrize("settings", [{"PRODUCT_CODES": {"ucmsc": "E0001", "placebo": "D0002"}},
                                      {"PRODUCT_CODES": {"ucmsc": "Y0001", "placebo": "D0002"}},
                                      {"PATIENT_LOCATION_CODE": "7"},
                                      {"LOCAL_DATA_IDENTIFIERS": {"vial": "a", "box": "b", "position": "c",
                                                                  "location": "d"}}])
def test_settings_outside_the_standard_are_refused_when_loaded(tmp_path, settings) -> None:
    with pytest.raises(config.ConfigError):
        config.load(str(tmp_path), {**settings, "SECRET_KEY": "x"})


def test_the_location_code_setting_is_written_in_both_patient_structures() -> None:
    settings = LabelSettings.from_config({**DEFAULTS, "PATIENT_LOCATION_CODE": "12"})
    band = data.wristband_label(_subject(), settings)
    assert band["subject_2d"].startswith("=+03000&#1208SUBJ0003=#1219681025")
