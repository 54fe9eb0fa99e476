"""ISBT 128 encoding and parsing: the published check characters, error detection and exact round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellchain.core.errors import Invalid, Refused
from cellchain.identifiers.isbt128 import (
    DATE_STRUCTURES,
    MOD37_ALPHABET,
    PRODUCT_DEFAULTS,
    TEXT_STRUCTURES,
    ChainOfIdentity,
    Din,
    ProductCode,
    check_character,
    check_value,
    encode_birth_date,
    encode_compound,
    encode_local,
    encode_moment,
    encode_patient_id,
    encode_text,
    format_din,
    parse_birth_date,
    parse_compound,
    parse_din_barcode,
    parse_keyed_din,
    parse_local,
    parse_moment,
    parse_patient_id,
    parse_structure,
    parse_text,
    product_family,
    site_datetime,
)
from tests.factories.strategies import ALNUM, dins, product_codes

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [ZoneInfo("UTC"), BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")]

PUBLISHED = [
    ("G123417654321", "A"),
    ("A999818123456", "N"),
    ("A999921123456", "3"),
    ("W000009123456", "G"),
    ("A999820123456", "E"),
    ("A999917123456", "9"),
]
SAMPLE_DINS = [din for din, _ in PUBLISHED] + ["A999926000001", "Z123499999999"]

# --- strategies -------------------------------------------------------------------------------------
aware_datetimes = st.datetimes(min_value=datetime(2000, 1, 3), max_value=datetime(2999, 12, 28),
                               timezones=st.sampled_from([UTC, *ZONES]))
zones = st.sampled_from(ZONES)
maker_lots = st.text(ALNUM, min_size=10, max_size=10)
patient_ids = st.text(ALNUM, min_size=1, max_size=99)
locations = st.text("0123456789", min_size=2, max_size=2)
cois = st.builds(ChainOfIdentity.issue, st.sampled_from(["A9999", "W0000", "G1234"]), st.integers(0, 99),
                 st.integers(1, 999_999))


@st.composite
def structures(draw: st.DrawFn) -> str:
    """Any single (non-compound) structure, encoded."""
    kind = draw(st.sampled_from(["din", "product", "date", "text", "dob", "patient", "coi", "local"]))
    if kind == "din":
        return draw(dins).barcode_data()
    if kind == "product":
        return draw(product_codes).encode()
    if kind == "date":
        date_kind = draw(st.sampled_from(sorted(DATE_STRUCTURES)))
        when = draw(aware_datetimes)
        if date_kind == "expiry_date":
            when = datetime.combine(when.date(), time(23, 59), tzinfo=UTC)
        return encode_moment(date_kind, when, ZoneInfo("UTC"))
    if kind == "text":
        return encode_text("container_lot", draw(maker_lots))
    if kind == "patient":
        return encode_patient_id(draw(patient_ids), draw(locations))
    if kind == "coi":
        return draw(cois).barcode_data()
    if kind == "local":
        return encode_local(draw(st.sampled_from("abcdefz")), draw(st.text(ALNUM + "-", min_size=1, max_size=32)))
    return encode_birth_date(draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))),
                             draw(locations))


# --- Mod 37-2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("din", "k"), PUBLISHED)
def test_check_character_matches_every_published_example(din: str, k: str) -> None:
    assert check_character(din) == k
    assert Din.parse(din).check == k


def test_published_barcode_example_carries_type3_flags_70() -> None:
    din = Din.parse("G123417654321")
    assert check_value(din.text) == 10
    assert din.flags_type3 == "70"
    assert din.barcode_data() == "=G12341765432170"


@pytest.mark.parametrize("din", SAMPLE_DINS)
def test_every_single_character_substitution_is_caught(din: str) -> None:
    k = check_character(din)
    for i, original in enumerate(din):
        for ch in MOD37_ALPHABET:
            if ch == original:
                continue
            changed = din[:i] + ch + din[i + 1:]
            assert check_character(changed) != k, changed
            with pytest.raises((Invalid, Refused)):
                parse_keyed_din(changed + k)


@pytest.mark.parametrize("din", SAMPLE_DINS)
def test_every_adjacent_transposition_is_caught(din: str) -> None:
    k = check_character(din)
    for i in range(len(din) - 1):
        if din[i] == din[i + 1]:
            continue
        swapped = din[:i] + din[i + 1] + din[i] + din[i + 2:]
        assert check_character(swapped) != k, swapped
        with pytest.raises((Invalid, Refused)):
            parse_keyed_din(swapped + k)


@given(st.text(MOD37_ALPHABET, min_size=13, max_size=13), st.integers(0, 12), st.sampled_from(MOD37_ALPHABET))
def test_any_substitution_over_the_whole_alphabet_changes_the_check_value(text: str, i: int, ch: str) -> None:
    changed = text[:i] + ch + text[i + 1:]
    assert (check_value(changed) == check_value(text)) == (changed == text)


def test_check_value_refuses_characters_outside_the_alphabet_and_wrong_lengths() -> None:
    for bad in ["A99992612345a", "A9999261234-6", "A99992612345", "", "A9999261234567"]:
        with pytest.raises(Invalid):
            check_value(bad)


# --- DIN ----------------------------------------------------------------------------------------------
def test_din_exposes_text_check_flags_eye_readable_and_barcode() -> None:
    din = Din.parse("A999818123456")
    assert (din.fin, din.year, din.sequence) == ("A9998", "18", "123456")
    assert din.text == "A999818123456"
    assert din.check == "N"
    assert din.flags_type3 == "83"
    assert din.eye_readable == "A9998 18 123456"
    assert din.barcode_data() == "=A99981812345683"


@given(dins)
def test_type3_flags_are_always_60_to_96(din: Din) -> None:
    assert 60 <= int(din.flags_type3) <= 96
    assert int(din.flags_type3) == 60 + check_value(din.text)


@pytest.mark.parametrize(("text", "words"), [
    ("A99992612345", "13 characters"),
    ("A9999261234567", "13 characters"),
    ("a999926123456", "upper-case"),
    ("O999926123456", "other than O and 0"),
    ("0999926123456", "other than O and 0"),
    ("A99A926123456", "4 digits"),
    ("A99992A123456", "year"),
    ("A9999261234X6", "sequence"),
    ("A9999 2612345", "upper-case"),
])
def test_din_parse_is_strict_and_names_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(Invalid) as err:
        Din.parse(text)
    assert words in err.value.fields["din"]


def test_din_cannot_be_built_from_invalid_parts() -> None:
    with pytest.raises(Invalid):
        Din("O9999", "26", "123456")


def test_format_din_pads_and_checks_ranges() -> None:
    assert format_din("A9999", 26, 1) == "A999926000001"
    assert format_din("A9999", 2026, 999_999) == "A999926999999"
    for fin, year, seq in [("A9999", 26, 0), ("A9999", 26, 1_000_000), ("A9999", 100, 1), ("A9999", -1, 1),
                           ("O9999", 26, 1), ("A9999", 26, True)]:
        with pytest.raises(Invalid):
            format_din(fin, year, seq)


@given(dins)
def test_keyed_din_round_trips_with_and_without_spaces(din: Din) -> None:
    assert parse_keyed_din(din.text + din.check) == din
    assert parse_keyed_din(f"{din.eye_readable} {din.check}") == din


def test_keyed_din_with_wrong_check_character_is_refused() -> None:
    with pytest.raises(Refused) as err:
        parse_keyed_din("A9998 18 123456 M")
    assert err.value.reasons[0].code == "din_check_character_mismatch"
    assert "A9998 18 123456" in err.value.reasons[0].message


def test_keyed_din_without_check_character_is_refused_as_invalid() -> None:
    with pytest.raises(Invalid) as err:
        parse_keyed_din("A9998 18 123456")
    assert "check character K" in err.value.fields["din"]


@pytest.mark.parametrize("text", ["A99 9818123456N", "A9998  18 123456 N", " A999818123456N",
                                  "A999818123456n"])
def test_keyed_din_refuses_odd_spacing_and_lower_case(text: str) -> None:
    with pytest.raises((Invalid, Refused)):
        parse_keyed_din(text)


@given(dins)
def test_din_barcode_round_trips(din: Din) -> None:
    parsed = parse_din_barcode(din.barcode_data())
    assert parsed.din == din and parsed.flags == din.flags_type3


def test_din_barcode_with_wrong_type3_flags_is_refused() -> None:
    with pytest.raises(Refused) as err:
        parse_din_barcode("=G12341765432171")
    assert err.value.reasons[0].code == "din_flags_mismatch"


@pytest.mark.parametrize("flags", ["00", "01", "19", "20", "59"])
def test_din_barcode_accepts_non_type3_flags_without_self_check(flags: str) -> None:
    assert parse_din_barcode("=G123417654321" + flags).flags == flags


@pytest.mark.parametrize("data", ["=G12341765432197", "=G12341765432199", "=G1234176543217A",
                                  "=G1234176543217", "G12341765432170", "=G123417654321700",
                                  "=g12341765432170"])
def test_din_barcode_refuses_bad_flags_length_or_identifier(data: str) -> None:
    with pytest.raises(Invalid):
        parse_din_barcode(data)


# --- product code --------------------------------------------------------------------------------------
@given(product_codes)
def test_product_code_round_trips(pc: ProductCode) -> None:
    assert ProductCode.parse(pc.encode()) == pc
    assert len(pc.encode()) == 10


def test_product_code_takes_the_configured_code() -> None:
    pc = ProductCode(PRODUCT_DEFAULTS["uc_msc"])
    assert pc.encode() == "=<D0001V00"
    assert ProductCode("D0002", "V", "A0").text == "D0002VA0"


@pytest.mark.parametrize("data", ["=<D0001V0", "=<D0001V000", "=<10001V00", "=<d0001V00", "=<D0001V0a",
                                  "=>D0001V00", "=<D00-1V00", "=<D0001 00"])
def test_product_code_parse_is_strict(data: str) -> None:
    with pytest.raises(Invalid) as err:
        ProductCode.parse(data)
    assert "product_code" in err.value.fields


# --- dates ------------------------------------------------------------------------------------------------
@given(st.sampled_from(sorted(DATE_STRUCTURES)), aware_datetimes, zones)
def test_every_date_structure_round_trips_in_site_time(kind: str, when: datetime, tz: ZoneInfo) -> None:
    local = when.astimezone(tz)
    if kind == "expiry_date":
        when = local = datetime.combine(local.date(), time(23, 59), tzinfo=tz)
    data = encode_moment(kind, when, tz)
    ident, timed = DATE_STRUCTURES[kind]
    assert data.startswith(ident) and len(data) == (12 if timed else 8)
    parsed = parse_moment(data, tz)
    if timed:
        assert parsed.replace(tzinfo=None) == local.replace(second=0, microsecond=0, tzinfo=None)
        assert parsed.tzinfo is tz
    else:
        assert parsed == local.date()
    assert parse_structure(data, tz).kind == kind


def test_date_encoding_uses_last_three_digits_of_year_and_day_of_year() -> None:
    when = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)
    assert encode_moment("collection_date", when, ZoneInfo("UTC")) == "=*026328"
    assert encode_moment("expiry_datetime", when, ZoneInfo("UTC")) == "&>0263280905"
    assert encode_moment("production_datetime", when, BERLIN) == "&}0263281005"


def test_date_encoding_converts_to_site_time_across_midnight() -> None:
    when = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert encode_moment("collection_datetime", when, BERLIN) == "&*0270010030"


def test_naive_datetimes_are_refused_by_encoders() -> None:
    with pytest.raises(Invalid):
        encode_moment("expiry_datetime", datetime(2026, 1, 1, 12, 0), BERLIN)


def test_date_only_expiry_before_2359_is_refused_rather_than_extended() -> None:
    with pytest.raises(Invalid):
        encode_moment("expiry_date", datetime(2026, 1, 1, 12, 0, tzinfo=BERLIN), BERLIN)
    assert encode_moment("expiry_date", datetime(2026, 1, 1, 23, 59, 30, tzinfo=BERLIN), BERLIN) == "=>026001"


def test_missing_time_means_2359_site_time() -> None:
    parsed = parse_moment("=>026001")
    assert parsed == date(2026, 1, 1)
    assert site_datetime(parsed, BERLIN) == datetime(2026, 1, 1, 23, 59, tzinfo=BERLIN)
    assert site_datetime(parse_moment("&>0260011200"), BERLIN).tzinfo is BERLIN


@pytest.mark.parametrize("data", ["=>026000", "=>026366", "=>024367", "&>0263282400", "&>0263281260",
                                  "=>02632", "=>0263281", "&>026328120", "=>02a328", "=> 26328",
                                  "&>02632812000", "=>-26328", "=>+26328"])
def test_date_parsing_refuses_impossible_days_times_and_lengths(data: str) -> None:
    with pytest.raises(Invalid):
        parse_moment(data)


def test_leap_day_366_is_accepted_in_a_leap_year() -> None:
    assert parse_moment("=>024366") == date(2024, 12, 31)
    assert parse_moment("&*0000602359") == datetime(2000, 2, 29, 23, 59)


def test_encoders_refuse_years_outside_cyy() -> None:
    with pytest.raises(Invalid):
        encode_moment("collection_date", datetime(1999, 6, 1, tzinfo=UTC), ZoneInfo("UTC"))
    with pytest.raises(Invalid):
        encode_moment("no_such_kind", datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("UTC"))


# --- text structures, patient structures and the chain-of-identity identifier (ST-001, ST-028) ----------
@given(maker_lots)
def test_container_lot_holds_the_makers_ten_character_lot(value: str) -> None:
    data = encode_text("container_lot", value)
    assert data == "&)" + value and len(data) == 12
    assert parse_text(data) == ("container_lot", value)


def test_container_lot_refuses_anything_but_ten_letters_or_digits() -> None:
    # a manufacturing lot number (13 characters and more) is not a container maker's lot
    for value in ["A999926000001", "LOT-1", "LOT1", "", "lot1234567", "A" * 11, "A" * 9]:
        with pytest.raises(Invalid):
            encode_text("container_lot", value)
    for data in ["&)", "&)LOT 123456", "&)A999926000001L01", "&%ABC"]:
        with pytest.raises(Invalid):
            parse_text(data)
    assert set(TEXT_STRUCTURES) == {"container_lot"}


@given(patient_ids, locations)
def test_patient_identification_carries_location_and_length(value: str, location: str) -> None:
    data = encode_patient_id(value, location)
    assert data == f"&#{location}{len(value):02d}{value}"
    assert parse_patient_id(data) == (location, value)
    assert parse_structure(data).fields == {"location": location, "patient_id": value}


def test_patient_identification_published_form_reads() -> None:
    assert encode_patient_id("SUBJ0003", "00") == "&#0008SUBJ0003"
    assert parse_structure("&#0008SUBJ0003").fields == {"location": "00", "patient_id": "SUBJ0003"}


@pytest.mark.parametrize("data", ["&#SUBJ-0003", "&#0008SUBJ-003", "&#0009SUBJ0003", "&#0007SUBJ0003",
                                  "&#00", "&#0A08SUBJ0003", "&#0008subj0003", "&#0000"])
def test_patient_identification_without_location_length_or_with_other_characters_is_refused(data: str) -> None:
    with pytest.raises(Invalid):
        parse_structure(data)


def test_patient_identification_encoder_refuses_hyphens_and_bad_locations() -> None:
    for value, location in [("SUBJ-0003", "00"), ("", "00"), ("X" * 100, "00"), ("SUBJ0003", "0"),
                            ("SUBJ0003", "A1")]:
        with pytest.raises(Invalid):
            encode_patient_id(value, location)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)), locations)
def test_birth_date_round_trips_as_location_and_yyyymmdd(born: date, location: str) -> None:
    data = encode_birth_date(born, location)
    assert data == "=#" + location + born.strftime("%Y%m%d")
    assert parse_birth_date(data) == born
    assert parse_structure(data).fields == {"location": location, "birth_date": born}


def test_birth_date_published_form_reads() -> None:
    assert encode_birth_date(date(1968, 10, 25)) == "=#0019681025"
    assert parse_structure("=#0019681025").fields == {"location": "00", "birth_date": date(1968, 10, 25)}


@pytest.mark.parametrize("data", ["=#19681025", "=#0020230229", "=#0020231301", "=#0020230100", "=#001980010",
                                  "=#00198001011", "=#0018991231", "=#001980-1-1", "=#A019681025"])
def test_birth_date_parse_is_strict(data: str) -> None:
    with pytest.raises(Invalid):
        parse_birth_date(data)


def test_birth_date_encoder_refuses_datetimes_and_bad_locations() -> None:
    with pytest.raises(Invalid):
        encode_birth_date(datetime(1980, 1, 1, tzinfo=UTC))
    with pytest.raises(Invalid):
        encode_birth_date(date(1980, 1, 1), "1")


@given(cois)
def test_chain_of_identity_identifier_round_trips_with_its_check_character(coi: ChainOfIdentity) -> None:
    data = coi.barcode_data()
    assert data == "&/CH" + coi.fin + coi.year + coi.serial + check_character(coi.fin + coi.year + coi.serial)
    assert len(data) == 18
    assert parse_structure(data).fields == {"chain_of_identity": coi.text}
    assert ChainOfIdentity.parse(coi.text) == coi


@pytest.mark.parametrize(("core", "k"), PUBLISHED)
def test_chain_of_identity_check_character_is_the_dins_mod_37_2(core: str, k: str) -> None:
    coi = ChainOfIdentity(core[:5], core[5:7], core[7:])
    assert coi.check == k and coi.text == f"CH{core}{k}"


def test_chain_of_identity_with_a_wrong_check_character_is_refused() -> None:
    good = ChainOfIdentity.issue("A9999", 2026, 3).text
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(Refused) as refused:
        parse_structure("&/" + wrong)
    assert refused.value.reasons[0].code == "coi_check_character_mismatch"


@pytest.mark.parametrize("data", ["&/COI-0001", "&/A999926000003K", "&/CHO999926000003K", "&/CHA99992600000",
                                  "&/CHA999926000003KK", "&/XXA9999260000034", "&/CHA99992600-0034"])
def test_chain_of_identity_other_forms_are_refused(data: str) -> None:
    with pytest.raises(Invalid):
        parse_structure(data)


# --- any structure and compound ---------------------------------------------------------------------------
@given(structures())
def test_parse_structure_recognises_every_encoded_structure(data: str) -> None:
    parsed = parse_structure(data)
    assert parsed.data == data
    assert parsed.kind in {"din", "product_code", "patient_birth_date", "patient_id", "chain_of_identity", "local",
                           *DATE_STRUCTURES, *TEXT_STRUCTURES}


def test_parse_structure_returns_named_fields() -> None:
    assert parse_structure("=G12341765432170").fields == {"din": "G123417654321", "check": "A", "flags": "70"}
    assert parse_structure("=<D0001V00").fields == {"product_code": "D0001", "collection_type": "V",
                                                    "division": "00"}
    assert parse_structure("&>0263281030").fields == {"expires_at": datetime(2026, 11, 24, 10, 30),
                                                      "has_time": True}
    assert parse_structure("&)LOT4200001").fields == {"lot": "LOT4200001"}
    assert parse_structure("&#0008SUBJ0001").fields == {"location": "00", "patient_id": "SUBJ0001"}
    coi = ChainOfIdentity.issue("A9999", 2026, 1).text
    assert parse_structure("&/" + coi).fields == {"chain_of_identity": coi}
    assert parse_structure("&eA999926000001-P2-V03").fields == {"letter": "e", "identifier": "A999926000001-P2-V03"}


@pytest.mark.parametrize("data", ["=%ABC", "&A12345", "==A999926", "=", "", "X999926123456", "=0999926123456",
                                  "=O99992612345670", "=<", "&>"])
def test_unknown_or_truncated_identifiers_are_invalid(data: str) -> None:
    with pytest.raises(Invalid):
        parse_structure(data)


@given(st.lists(structures(), min_size=1, max_size=8))
def test_compound_message_round_trips_exactly(items: list[str]) -> None:
    message = encode_compound(items)
    assert message == f"=+{len(items):02d}000" + "".join(items)
    assert [s.data for s in parse_compound(message)] == items
    assert parse_structure(message).fields["count"] == len(items)


def test_compound_with_several_variable_length_structures_splits_at_identifiers() -> None:
    items = ["&)LOT0000001", "&#0008SUBJ0001", ChainOfIdentity.issue("A9999", 26, 9).barcode_data(),
             "&aBX-0001", "=G12341765432170", "&eA999926000001-P2-V03", "&)X000000001"]
    assert [s.data for s in parse_compound(encode_compound(items, "123"))] == items
    assert parse_structure(encode_compound(items, "123")).fields["reference"] == "123"


@pytest.mark.parametrize("message", [
    "=+02000=G12341765432170",                 # count says 2, carries 1
    "=+00000",                                 # empty
    "=+01000=G1234176543217",                  # ends inside the DIN
    "=+0200=G12341765432170=<D0001V00",        # header too short
    "=+02000=G12341765432170=+01000=<D0001V00",  # nested
    "=+01000=%XYZ",                            # unknown identifier
    "=+0A000=<D0001V00",                       # non-digit header
    "=+01000=G12341765432171",                 # type 3 flags wrong (Refused)
])
def test_malformed_compound_messages_are_refused(message: str) -> None:
    with pytest.raises((Invalid, Refused)):
        parse_compound(message)


def test_encode_compound_refuses_invalid_members_and_counts() -> None:
    for items in [[], ["=<D0001V0"], [encode_compound(["=<D0001V00"])], ["=<D0001V00"] * 100]:
        with pytest.raises(Invalid):
            encode_compound(items)
    with pytest.raises(Invalid):
        encode_compound(["=<D0001V00"], reference="12")


def test_compound_date_times_are_aware_when_a_zone_is_given() -> None:
    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night Berlin moves to summer time
    message = encode_compound([encode_moment("expiry_datetime", when, BERLIN)])
    expires = parse_compound(message, BERLIN)[0].fields["expires_at"]
    assert expires == when and expires - when == timedelta(0)


@given(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), st.from_regex(r"[0-9A-Z-]{1,32}", fullmatch=True))
def test_a_local_identifier_on_a_vial_or_box_label_reads_back_exactly(letter: str, value: str) -> None:
    data = encode_local(letter, value)
    assert parse_local(data) == (letter, value)
    assert parse_structure(data).fields == {"letter": letter, "identifier": value}


@pytest.mark.parametrize(("letter", "value"), [("A", "V1"), ("/", "V1"), ("ab", "V1"), ("a", ""), ("a", "v1"),
                                               ("a", "X" * 33), ("a", "V&1")])
def test_local_identifiers_refuse_other_letters_and_characters(letter: str, value: str) -> None:
    with pytest.raises(Invalid):
        encode_local(letter, value)


def test_a_box_and_position_in_one_2d_code_split_at_their_identifiers() -> None:
    din = Din.parse("A999926000001").barcode_data()
    message = encode_compound([din, encode_local("b", "BOX-0001"), encode_local("c", "BOX-0001-A03")])
    kinds = [(s.kind, s.fields.get("identifier")) for s in parse_compound(message)]
    assert kinds == [("din", None), ("local", "BOX-0001"), ("local", "BOX-0001-A03")]


# --- product code families and concatenated reads --------------------------------------------------------
@pytest.mark.parametrize(("code", "family"), [("S1234", "cellular_therapy"), ("YA001", "clinical_trial"),
                                              ("YZ9A9", "clinical_trial"), ("D0001", "local"), ("DA1B2", "local"),
                                              ("E0001", None), ("Y0001", None), ("S12A4", None), ("D001", None)])
def test_product_codes_belong_to_the_families_a_site_may_configure(code: str, family: str | None) -> None:
    assert product_family(code) == family


@pytest.mark.parametrize("code", ["S1234", "YA001", "YZ123", "D0001"])
def test_every_configurable_product_code_encodes_and_reads_back(code: str) -> None:
    data = ProductCode(code, "V", "A0").encode()
    assert parse_structure(data).fields == {"product_code": code, "collection_type": "V", "division": "A0"}


@given(st.lists(structures(), min_size=2, max_size=5))
def test_a_concatenated_read_is_split_into_its_structures(items: list[str]) -> None:
    parsed = parse_structure("".join(items))
    assert parsed.kind == "compound" and parsed.fields["concatenated"] is True
    assert [s.data for s in parsed.fields["structures"]] == items


def test_the_published_concatenation_of_din_and_product_code_reads() -> None:
    parsed = parse_structure("=G12341765432170=<S1234V00")
    assert [s.kind for s in parsed.fields["structures"]] == ["din", "product_code"]
    assert parsed.fields["reference"] is None
