"""POST /api/v1/scans: what a scanner or a person sends is parsed, identified, or refused with a reason.

Never a 500: malformed, over-long, control-character and injection input is a clean 400, and a
hypothesis fuzz sends arbitrary text (and arbitrary JSON) to prove it.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellchain.core import db
from cellchain.identifiers.scans import wristband_data
from tests.factories import labels as make
from tests.factories.label_reading import MOD37, check_value, din_barcode
from tests.factories.scanning import expected_url


@pytest.fixture
def made(app):
    """A collection with its lot and two bags (one allocated to a subject), and a lone collection."""
    with app.app_context():
        session = db.session()
        lot = make.lot(session)
        bags = make.bags(session, lot, 2)
        subject = make.subject(session)
        make.allocate(session, bags[1], subject)
        lone = make.collection(session)
        db.commit()
        return {"din": lot.lot_number, "lot": lot, "bags": bags, "subject": subject, "lone": lone.din}


def scan(api, data, as_: str = "lab"):
    return api.post("/api/v1/scans", as_=as_, json={"data": data})


def test_a_din_barcode_names_its_collection_with_or_without_scanner_noise(app, api, made) -> None:
    lone = made["lone"]
    for raw in [din_barcode(lone), f"]C0{din_barcode(lone)}\r\n", f"{din_barcode(lone)}\t"]:
        body = scan(api, raw).get_json()
        assert body["kind"] == "din" and body["data"] == din_barcode(lone)
        assert body["fields"]["din"] == lone and body["fields"]["entry"] == "barcode"
        assert body["record"]["type"] == "collection" and body["record"]["key"] == lone
        assert body["record"]["url"] == expected_url(app, "collection", lone)


def test_a_keyed_din_needs_its_check_character(api, made) -> None:
    din = made["lone"]
    k = MOD37[check_value(din)]
    ok = scan(api, f"{din[:5]} {din[5:7]} {din[7:]} {k}")
    assert ok.status_code == 200 and ok.get_json()["fields"]["entry"] == "keyed"
    wrong = MOD37[(check_value(din) + 1) % 37]
    refused = scan(api, din + wrong)
    assert refused.status_code == 400 and "din_check_character_mismatch" in refused.get_json()["fields"]["data"]
    missing = scan(api, din)
    assert missing.status_code == 400 and "missing_check_character" in missing.get_json()["fields"]["data"]


def test_a_din_barcode_with_wrong_type_3_flags_is_refused_before_lookup(api, made) -> None:
    good = din_barcode(made["lone"])
    flags = int(good[-2:])
    response = scan(api, good[:-2] + str(flags + 1 if flags < 96 else 60))
    assert response.status_code == 400 and "din_flags_mismatch" in response.get_json()["fields"]["data"]


def test_a_bag_id_and_a_bag_2d_code_name_the_bag(app, api, made) -> None:
    bag = made["bags"][0]
    for raw in [bag.bag_code, f"BAG-{bag.bag_code}"]:
        body = scan(api, raw).get_json()
        assert body["kind"] == "bag" and body["record"]["key"] == bag.bag_code
        assert body["record"]["summary"]["quality_status"] == "quarantine"
        assert body["record"]["url"] == expected_url(app, "bag", bag.bag_code)
    allocated, subject = made["bags"][1], made["subject"]
    two_d = (f"=+05000{din_barcode(allocated.din)}=<{allocated.product_code}V{allocated.division}"
             f"&>0263601200{wristband_data(subject.subject_code)}=#0019710314")
    body = scan(api, "]d2" + two_d + "\r").get_json()
    assert body["kind"] == "compound" and body["fields"]["subject_id"] == subject.subject_code
    assert body["record"]["type"] == "bag" and body["record"]["key"] == allocated.bag_code


def test_a_wristband_names_the_subject(app, api, made) -> None:
    code = made["subject"].subject_code
    body = scan(api, f"]C0{wristband_data(code)}\n", as_="nurse").get_json()
    assert body["kind"] == "subject" and body["fields"] == {"subject_id": code, "location": "00"}
    assert body["record"]["type"] == "subject" and body["record"]["url"] == expected_url(app, "subject", code)


def test_a_chain_of_identity_identifier_names_its_subject(app, api, made) -> None:
    subject = made["subject"]
    body = scan(api, f"&/{subject.chain_of_identity}", as_="nurse").get_json()
    assert body["kind"] == "chain_of_identity" and body["fields"] == {"chain_of_identity": subject.chain_of_identity}
    assert body["record"]["type"] == "subject" and body["record"]["key"] == subject.subject_code


def test_a_qc_tube_or_vessel_2d_code_names_the_lot(app, api, made) -> None:
    lot = made["din"]
    body = scan(api, f"=+02000{din_barcode(lot)}&f{lot}-Q03").get_json()
    assert body["record"]["type"] == "lot" and body["record"]["key"] == lot
    assert body["record"]["summary"]["status"] == "in_process"
    assert scan(api, f"&e{lot}-P2-V03").get_json()["record"]["url"] == expected_url(app, "lot", lot)
    # a lot number in the container-lot structure is not a container maker's lot: refused, never a lot
    assert scan(api, f"&){lot}").status_code == 400


def test_other_structures_parse_without_a_record(api) -> None:
    product = scan(api, "=<D0001VA0").get_json()
    assert product["kind"] == "product_code" and product["fields"]["division"] == "A0" and "record" not in product
    expiry = scan(api, "&>0263301200").get_json()
    assert expiry["kind"] == "expiry_datetime" and expiry["fields"]["expires_at"] == "2026-11-26T12:00:00+08:00"


def test_a_well_formed_scan_of_something_not_here_says_so(api) -> None:
    din = "A999926999999"
    body = scan(api, din_barcode(din)).get_json()
    assert "record" not in body and "no collection" in body["note"]


@pytest.mark.parametrize(("data", "reason"), [
    ("", "empty"), ("   \r\n", "empty"), ("A" * 1000, "too_long"), ("=A9999\x0026000001", "control_character"),
    ("\x1b[31m=<D0001VA0", "control_character"), ("Ä999926000001", "not_ascii"),
    ("'; DROP TABLE bags; --", "unrecognised"), ("<script>alert(1)</script>", "unrecognised"),
    ("]X", "bad_aim_identifier"), ("]C0\r\n", "empty"), ("]]C0=<D0001VA0", "bad_aim_identifier"),
    ("=+99000=<D0001VA0", "compound"), ("&#0008SUBJ0000", "not_subject"), ("&#SUBJ-0001", "patient_id"),
    ("A99992600000168", "missing_data_identifier"), ("=<d0001va0", "caps_lock"), ("=<D0001V", "product_code"),
])
def test_malformed_and_hostile_scans_are_refused_with_a_reason(api, data: str, reason: str) -> None:
    response = scan(api, data)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] and reason in body["fields"]["data"]


@pytest.mark.parametrize("body", [{"data": 123}, {"data": None}, {"data": ["=<D0001VA0"]}, {}, []])
def test_a_scan_must_be_text_in_a_json_object(api, client, body) -> None:
    response = client.post("/api/v1/scans", json=body, headers=api.headers("lab"))
    assert response.status_code == 400 and response.get_json()["fields"]


def test_scanning_needs_a_login(client) -> None:
    assert client.post("/api/v1/scans", json={"data": "=<D0001VA0"}).status_code == 401


ISBT_ALPHABET = string.ascii_uppercase + string.digits + "=&<>*#+)/-] \r\n\t"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.text(max_size=300), st.text(alphabet=ISBT_ALPHABET, max_size=60),
                      st.builds(lambda d, tail: "=" + d + tail, st.text(alphabet=ISBT_ALPHABET, max_size=20),
                                st.sampled_from(["", "\r\n", "70"]))))
def test_any_text_scan_ends_in_an_answer_or_a_clean_refusal(api, data: str) -> None:
    response = scan(api, data)
    assert response.status_code in (200, 400)
    body = response.get_json()
    assert ("kind" in body) if response.status_code == 200 else ("data" in body["fields"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=8))
def test_any_json_body_ends_in_an_answer_or_a_clean_refusal(api, client, body) -> None:
    response = client.post("/api/v1/scans", json=body, headers=api.headers("lab"))
    assert response.status_code in (200, 400)
