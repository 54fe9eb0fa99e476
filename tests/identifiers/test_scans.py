"""parse_scan, the one entry for scanner and keyboard input: it returns a Scan or raises Invalid."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellchain.core.errors import Invalid
from cellchain.identifiers.isbt128 import (
    ChainOfIdentity,
    Din,
    ProductCode,
    encode_birth_date,
    encode_compound,
    encode_moment,
    encode_text,
)
from cellchain.identifiers.scans import (
    MAX_SCAN_LENGTH,
    Scan,
    format_bag_id,
    format_subject_id,
    parse_bag_id,
    parse_scan,
    wristband_data,
)
from tests.factories.strategies import ALNUM, dins, product_codes

DIN = Din.parse("A999926000001")
DIN_BARCODE = DIN.barcode_data()
KEYED = f"{DIN.eye_readable} {DIN.check}"
PRODUCT = ProductCode("D0001", "V", "00")
BAG_ID = "A999926000001-D0001V00"
BERLIN = ZoneInfo("Europe/Berlin")
COI = ChainOfIdentity.issue("A9999", 2026, 3)
SCANNER_ALPHABET = ALNUM + "=&<>*#+)/}]-  \r\n\t\x1d"


def refusal(raw: object, **kwargs: str) -> str:
    """The reason text of the Invalid that parse_scan must raise (and only ever under 'data')."""
    with pytest.raises(Invalid) as err:
        parse_scan(raw, **kwargs)  # type: ignore[arg-type]
    assert set(err.value.fields) == {"data"}
    return err.value.fields["data"]



def _outcome(raw: object) -> None:
    try:
        result = parse_scan(raw)  # type: ignore[arg-type]
    except Invalid as err:
        assert set(err.fields) == {"data"} and err.fields["data"]
    else:
        assert isinstance(result, Scan)
        json.dumps(result.as_dict())


# --- fuzzing: a Scan or Invalid, nothing else ------------------------------------------------------
@settings(max_examples=500)
@given(st.text())
def test_arbitrary_text_gives_a_scan_or_invalid_and_nothing_else(raw: str) -> None:
    _outcome(raw)


@settings(max_examples=500)
@given(st.binary(max_size=300), st.sampled_from(["utf-8", "latin-1", "ascii", "cp1252"]))
def test_arbitrary_bytes_decoded_give_a_scan_or_invalid(data: bytes, encoding: str) -> None:
    _outcome(data.decode(encoding, errors="replace"))


@settings(max_examples=1000)
@given(st.text(SCANNER_ALPHABET, max_size=80))
def test_scanner_like_text_gives_a_scan_or_invalid(raw: str) -> None:
    _outcome(raw)


@settings(max_examples=300)
@given(st.sampled_from([DIN_BARCODE, "=<D0001V00", "&>0263281030", "&#0008SUBJ0001", BAG_ID, KEYED,
                        encode_compound([DIN_BARCODE, "=<D0001V00", "&)LOT0000001"]), DIN_BARCODE + "=<D0001V00",
                        COI.barcode_data(), "=#0019681025"]),
       st.integers(0, 40), st.text(SCANNER_ALPHABET, max_size=3))
def test_mutated_valid_scans_give_a_scan_or_invalid(base: str, at: int, insert: str) -> None:
    _outcome(base[:at] + insert + base[at + len(insert):])


@pytest.mark.parametrize("raw", [None, 42, b"=A99992600000155", ["x"]])
def test_non_text_input_is_invalid(raw: object) -> None:
    assert "not_text" in refusal(raw)


# --- keyboard-wedge noise -----------------------------------------------------------------------------------
@pytest.mark.parametrize("aim", ["]C0", "]d2", "]Q3", "]E0", "]Cz"])
@pytest.mark.parametrize("tail", ["", "\r", "\n", "\r\n", "\t", " \r\n", "\r\n\r\n"])
def test_aim_prefix_and_trailing_cr_lf_tab_are_stripped(aim: str, tail: str) -> None:
    scan = parse_scan(aim + DIN_BARCODE + tail)
    assert scan.kind == "din" and scan.fields["din"] == DIN.text and scan.data == DIN_BARCODE


def test_surrounding_spaces_are_trimmed() -> None:
    assert parse_scan("  =<D0001V00  ").data == "=<D0001V00"


@pytest.mark.parametrize("raw", ["]C0]C0" + DIN_BARCODE, "]C" + DIN_BARCODE, "]0C" + DIN_BARCODE, "]", "]C0"])
def test_only_one_well_formed_aim_prefix_is_accepted(raw: str) -> None:
    refusal(raw)


@pytest.mark.parametrize("raw", ["\t" + DIN_BARCODE, DIN_BARCODE[:5] + "\r" + DIN_BARCODE[5:],
                                 DIN_BARCODE + "\x1d", DIN_BARCODE + "\x00", "\x1b[2J" + DIN_BARCODE,
                                 DIN_BARCODE + "\x7f", DIN_BARCODE + "\x1c\r\n", "\x0b" + DIN_BARCODE])
def test_control_characters_other_than_trailing_cr_lf_tab_are_refused(raw: str) -> None:
    assert "control_character" in refusal(raw)


@pytest.mark.parametrize("raw", ["", " ", "\r\n", "\t\t", "]C0", "]C0  \r\n"])
def test_empty_scans_are_refused(raw: str) -> None:
    assert refusal(raw).startswith(("empty", "bad_aim"))


def test_scans_over_200_characters_are_refused_as_too_long() -> None:
    assert "too_long" in refusal("A" * (MAX_SCAN_LENGTH + 1))
    assert "too_long" in refusal("]C0" + DIN_BARCODE * 13 + "\r\n")
    assert "too_long" in refusal("\r\n" * 10_000)


def test_the_200_character_limit_counts_the_data_not_the_scanner_noise() -> None:
    assert "unrecognised" in refusal("]C0" + "A" * MAX_SCAN_LENGTH + "\r\n")


@pytest.mark.parametrize("raw", ["=A99992600000155é", "=>０２６３２８", "=>٠٢٦٣٢٨", "\u00a0" + DIN_BARCODE,
                                 DIN_BARCODE + "\u2028", "А999926000001-D0001V00"])
def test_non_ascii_is_refused(raw: str) -> None:
    assert "not_ascii" in refusal(raw)


@pytest.mark.parametrize("raw", ["' OR 1=1 --", "<script>alert(1)</script>", "<script>",
                                 "'; DROP TABLE bags; --", "=<script>", "&#' OR 1=1 --", "{{7*7}}",
                                 "${jndi:ldap://x/a}", "../../etc/passwd", "=+01000&)' OR 1=1", "%00",
                                 "A999926000001-D0001V00' OR '1'='1"])
def test_injection_strings_are_refused_cleanly(raw: str) -> None:
    refusal(raw)


# --- DINs ------------------------------------------------------------------------------------------
@given(dins)
def test_din_barcode_scan_round_trips(din: Din) -> None:
    scan = parse_scan("]C0" + din.barcode_data() + "\r\n")
    assert scan.kind == "din"
    assert scan.fields == {"din": din.text, "check": din.check, "flags": din.flags_type3, "entry": "barcode"}


@given(dins, st.booleans())
def test_keyed_din_with_check_character_is_accepted(din: Din, spaced: bool) -> None:
    raw = f"{din.eye_readable} {din.check}" if spaced else din.text + din.check
    scan = parse_scan(raw)
    assert scan.kind == "din" and scan.fields["din"] == din.text and scan.fields["entry"] == "keyed"


def test_keyed_din_with_wrong_check_character_is_refused() -> None:
    wrong = "N" if DIN.check != "N" else "M"
    assert "din_check_character_mismatch" in refusal(f"{DIN.eye_readable} {wrong}")


@pytest.mark.parametrize("raw", [DIN.text, DIN.eye_readable, "]C0" + DIN.text])
def test_bare_din_without_check_character_is_refused(raw: str) -> None:
    assert "missing_check_character" in refusal(raw)


def test_bare_13_characters_that_are_not_a_din_say_why() -> None:
    assert "other than O and 0" in refusal("O999926000001")


def test_din_barcode_with_mismatched_type3_flags_is_refused() -> None:
    bad_flags = "60" if DIN.flags_type3 != "60" else "61"
    assert "din_flags_mismatch" in refusal("=" + DIN.text + bad_flags)


@pytest.mark.parametrize("raw", ["a9999 26 000001 " + DIN.check, "A9999 26 000001 " + DIN.check.lower() + "x",
                                 "A99 99 26 000001 " + DIN.check])
def test_malformed_keyed_dins_are_refused(raw: str) -> None:
    refusal(raw)


# --- other single structures -----------------------------------------------------------------------
@given(product_codes)
def test_product_code_scan_round_trips(pc: ProductCode) -> None:
    scan = parse_scan("]C0" + pc.encode())
    assert scan.kind == "product_code"
    assert scan.fields == {"product_code": pc.code, "collection_type": pc.collection_type,
                           "division": pc.division}


def test_expiry_and_collection_dates_are_recognised() -> None:
    assert parse_scan("=>026328").fields["expires_at"] == date(2026, 11, 24)
    expires = parse_scan("&>0263281030", tz=BERLIN).fields["expires_at"]
    assert expires == datetime(2026, 11, 24, 10, 30, tzinfo=BERLIN)
    assert parse_scan("=*026001").kind == "collection_date"
    assert parse_scan("&*0260011200").kind == "collection_datetime"
    assert parse_scan("&}0260011200").kind == "production_datetime"


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2998, 1, 1), timezones=st.just(UTC)))
def test_expiry_datetime_scan_round_trips(when: datetime) -> None:
    scan = parse_scan(encode_moment("expiry_datetime", when, BERLIN) + "\r\n", tz=BERLIN)
    local = when.astimezone(BERLIN)
    expected = local.replace(second=0, microsecond=0, tzinfo=None)
    assert scan.fields["expires_at"].replace(tzinfo=None) == expected


@pytest.mark.parametrize("raw", ["=>026000", "=>026367", "&>0263282400", "&>0263281260"])
def test_impossible_dates_are_refused(raw: str) -> None:
    refusal(raw)


def test_lot_birth_date_and_chain_of_identity_structures_are_recognised() -> None:
    assert parse_scan("&)LOT4200001").fields == {"lot": "LOT4200001"}
    assert parse_scan(encode_birth_date(date(1980, 2, 29))).fields == {"location": "00",
                                                                       "birth_date": date(1980, 2, 29)}
    assert parse_scan("=#0019681025").fields == {"location": "00", "birth_date": date(1968, 10, 25)}
    assert parse_scan(COI.barcode_data()) == Scan("chain_of_identity", {"chain_of_identity": COI.text},
                                                  COI.barcode_data())
    assert "coi_check_character_mismatch" in refusal("&/" + COI.text[:-1] + ("0" if COI.check != "0" else "1"))


@pytest.mark.parametrize("raw", ["&/COI-0001", "&)A999926000001", "&)A999926000001L01", "=#19681025",
                                 "&#SUBJ-0003", "&/A999926000001-P2-V03"])
def test_the_old_non_standard_forms_are_refused(raw: str) -> None:
    refusal(raw)


# --- subjects (wristbands) -------------------------------------------------------------------------
@given(st.integers(1, 9999))
def test_wristband_scan_is_a_subject(number: int) -> None:
    subject_id = format_subject_id(number)
    scan = parse_scan("]C0" + wristband_data(subject_id) + "\r\n")
    assert scan == Scan("subject", {"subject_id": subject_id, "location": "00"},
                        "&#0008" + subject_id.replace("-", ""))


def test_subject_id_format_is_prefix_dash_four_digits() -> None:
    assert format_subject_id(1) == "SUBJ-0001"
    assert wristband_data("SUBJ-0001") == "&#0008SUBJ0001"
    assert wristband_data("SUBJ-0003", location="12") == "&#1208SUBJ0003"
    assert format_subject_id(7, prefix="UCM") == "UCM-0007"
    for bad in [0, 10_000, -1]:
        with pytest.raises(Invalid):
            format_subject_id(bad)
    with pytest.raises(Invalid):
        wristband_data("SUBJ-1")


def test_subject_prefix_is_configurable() -> None:
    assert parse_scan("&#0007UCM0007", subject_prefix="UCM").fields["subject_id"] == "UCM-0007"
    assert "not_subject" in refusal("&#0008SUBJ0007", subject_prefix="UCM")


def test_the_published_patient_identification_reads_as_the_subject() -> None:
    assert parse_scan("&#0008SUBJ0003").fields == {"subject_id": "SUBJ-0003", "location": "00"}


@pytest.mark.parametrize("raw", ["&#0008SUBJ0000", "&#0007SUBJ001", "&#0009SUBJ00001", "&#0009MRN123456",
                                 "&#SUBJ0001", "&#SUBJ-0001", "SUBJ-0001", "&#subj-0001", "&#"])
def test_wristband_scans_must_carry_a_subject_id_of_this_site(raw: str) -> None:
    refusal(raw)


def test_malformed_prefix_configuration_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_scan(DIN_BARCODE, subject_prefix="subj")
    with pytest.raises(ValueError):
        parse_scan(DIN_BARCODE, bag_prefix="")


# --- bags ------------------------------------------------------------------------------------------
@given(dins, product_codes)
def test_bag_id_round_trips(din: Din, pc: ProductCode) -> None:
    bag_id = format_bag_id(din, pc)
    assert parse_bag_id(bag_id) == (din, pc)
    scan = parse_scan(bag_id + "\r\n")
    assert scan.kind == "bag" and scan.fields["bag_id"] == bag_id
    assert (scan.fields["din"], scan.fields["product_code"], scan.fields["division"]) == (din.text, pc.code,
                                                                                         pc.division)


def test_bag_id_format_and_optional_prefix() -> None:
    assert format_bag_id(DIN, PRODUCT) == BAG_ID
    assert parse_scan("BAG-" + BAG_ID).fields["bag_id"] == BAG_ID
    assert parse_scan("PL-" + BAG_ID, bag_prefix="PL").fields["bag_id"] == BAG_ID


@pytest.mark.parametrize("raw", ["A999926000001D0001V00", "A999926000001-D0001V0", "A999926000001-d0001V00",
                                 "O999926000001-D0001V00", "A999926000001-10001V00", "BAG-BAG-" + BAG_ID,
                                 "A999926000001 -D0001V00", "BAG " + BAG_ID])
def test_malformed_bag_ids_are_refused(raw: str) -> None:
    refusal(raw)


# --- compound 2D codes -----------------------------------------------------------------------------
def test_compound_scan_has_structures_and_convenience_fields() -> None:
    message = encode_compound([DIN_BARCODE, PRODUCT.encode(), "&>0263281030", "&)LOT4200001", "&#0008SUBJ0007",
                               COI.barcode_data()])
    scan = parse_scan("]d2" + message + "\r\n", tz=BERLIN)
    assert scan.kind == "compound"
    assert [s.kind for s in scan.fields["structures"]] == ["din", "product_code", "expiry_datetime",
                                                           "container_lot", "patient_id", "chain_of_identity"]
    assert scan.fields["chain_of_identity"] == COI.text
    assert scan.fields["din"] == DIN.text
    assert scan.fields["product_code"] == "D0001" and scan.fields["division"] == "00"
    assert scan.fields["bag_id"] == BAG_ID
    assert scan.fields["subject_id"] == "SUBJ-0007"
    assert scan.fields["expires_at"] == datetime(2026, 11, 24, 10, 30, tzinfo=BERLIN)
    assert json.loads(json.dumps(scan.as_dict()))["fields"]["expires_at"] == "2026-11-24T10:30:00+01:00"


@given(dins, product_codes, st.lists(st.text(ALNUM, min_size=10, max_size=10), max_size=1))
def test_compound_scan_round_trips(din: Din, pc: ProductCode, lots: list[str]) -> None:
    items = [din.barcode_data(), pc.encode(), *[encode_text("container_lot", lot) for lot in lots]]
    scan = parse_scan("]d2" + encode_compound(items))
    assert [s.data for s in scan.fields["structures"]] == items
    assert scan.fields["bag_id"] == format_bag_id(din, pc)


def test_compound_without_product_code_has_no_bag_id() -> None:
    scan = parse_scan(encode_compound([DIN_BARCODE]))
    assert scan.fields["din"] == DIN.text
    assert "bag_id" not in scan.fields and "product_code" not in scan.fields


@pytest.mark.parametrize("items", [[DIN_BARCODE, DIN_BARCODE], [PRODUCT.encode(), "=<D0002V00"],
                                   ["=>026328", "&>0263281030"], ["&)LOT0000001", "&)LOT0000002"],
                                   [DIN_BARCODE, "=" + ("B9999" + DIN.text[5:]) + "00"]])
def test_compound_repeating_a_kind_is_refused_as_ambiguous(items: list[str]) -> None:
    assert "ambiguous" in refusal(encode_compound(items))


@pytest.mark.parametrize("raw", ["=+02000" + DIN_BARCODE, "=+01000" + DIN_BARCODE[:-1], "=+", "=+01000",
                                 "=+01000=" + DIN.text + "61" if DIN.flags_type3 != "61" else "=+01000=x"])
def test_malformed_compound_scans_are_refused(raw: str) -> None:
    refusal(raw)


# --- concatenated reads and the scanner's known misreads --------------------------------------------------
def test_a_concatenated_read_of_din_and_product_code_names_the_bag() -> None:
    scan = parse_scan("]C0" + DIN_BARCODE + PRODUCT.encode() + "\r\n")
    assert scan.kind == "compound" and scan.fields["concatenated"] is True
    assert scan.fields["bag_id"] == BAG_ID and [s.kind for s in scan.fields["structures"]] == ["din", "product_code"]


def test_a_concatenated_read_of_a_wristband_names_the_subject_and_its_chain_of_identity() -> None:
    scan = parse_scan(wristband_data("SUBJ-0003") + "=#0019681025" + COI.barcode_data())
    assert scan.fields["subject_id"] == "SUBJ-0003" and scan.fields["chain_of_identity"] == COI.text


@pytest.mark.parametrize("raw", [DIN_BARCODE[1:], "<D0001V00", "#0019681025", ">0263281030"[:-4],
                                 "+01000" + DIN_BARCODE])
def test_a_read_without_its_leading_equals_sign_is_named(raw: str) -> None:
    assert refusal(raw).startswith("missing_data_identifier:")


@pytest.mark.parametrize("raw", [DIN_BARCODE.swapcase(), "=<d0001v00", "&#0008subj0003", "&Abx-0001",
                                 COI.barcode_data().swapcase(), (DIN_BARCODE + "=<D0001V00").swapcase()])
def test_a_caps_lock_read_is_named(raw: str) -> None:
    assert refusal(raw).startswith("caps_lock:")


@pytest.mark.parametrize("raw", ["hello", "=<x", "&#0008SUBJ-003", "subj-0001"])
def test_unreadable_text_is_not_mistaken_for_a_misread(raw: str) -> None:
    reason = refusal(raw)
    assert not reason.startswith(("caps_lock", "missing_data_identifier"))
