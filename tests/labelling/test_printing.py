"""Every label kind printed from database rows: what a scanner reads back is what the database holds.

Each PDF page is rasterised at 300 dpi and decoded with zxing-cpp; the expected data is computed here
from the rows with plain arithmetic (ISO/IEC 7064 Mod 37-2 as ISBT 128 ST-001 gives it, cyyjjjhhmm in the site's zone),
not with the encoders under test. The ZPL of the same job must carry the same data in its ^FD fields.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pymupdf
import pytest

from cellchain.core import db
from cellchain.identifiers.isbt128 import ChainOfIdentity
from cellchain.labelling import label_items, print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.people import accounts
from cellchain.quality.rules.spec_limits import DEFAULT_SPEC
from tests.factories import labels as make
from tests.factories.label_reading import MOD37, check_value, din_barcode, page_text, scan_pages, zpl_symbols

TZ = make.TZ
VERIFY = "https://cellchain.test/labels/shipments/"


def eye_din(din: str) -> str:
    return f"{din[:5]} {din[5:7]} {din[7:]}"


def cyyjjjhhmm(moment: datetime) -> str:
    local = moment.astimezone(TZ)
    return f"{local.year % 1000:03d}{local.timetuple().tm_yday:03d}{local:%H%M}"


def settings(app) -> LabelSettings:
    return LabelSettings.from_config(app.config, verify_url_base=VERIFY)


def run(app, kind: str, build, *, fmt: str = "pdf", as_: str = "lab"):
    """Make rows with ``build(session)``, print them as ``kind``, commit; return (output, rows)."""
    with app.app_context():
        session = db.session()
        records = build(session)
        output = print_jobs.print_labels(session, actor=accounts.find_user(session, as_), kind=kind, records=records,
                                     settings=settings(app), fmt=fmt)
        db.commit()
    return output, records


def both_formats(app, kind: str, records) -> tuple[bytes, str]:
    """The PDF and the ZPL of the same labels (the ZPL job prints them again, as reprints)."""
    with app.app_context():
        session = db.session()
        actor = accounts.find_user(session, "lab")
        zpl = print_jobs.print_labels(session, actor=actor, kind=kind, records=records, settings=settings(app),
                                      fmt="zpl", reprint_reason="ZPL copy for the test")
        db.commit()
    return zpl


def test_collection_label_carries_the_din_and_collection_time_the_database_holds(app) -> None:
    pdf, (row,) = run(app, "collection", lambda s: [make.collection(s)])
    collected = "&*" + cyyjjjhhmm(row.collected_at)
    expected = sorted([("Code128", din_barcode(row.din)), ("Code128", collected),
                       ("DataMatrix", f"=+02000{din_barcode(row.din)}{collected}")])
    assert scan_pages(pdf) == [expected]
    text = page_text(pdf)
    local = row.collected_at.astimezone(TZ)
    assert eye_din(row.din) in text and MOD37[check_value(row.din)] in text
    assert f"{local:%Y-%m-%d %H:%M} UTC+8" in text and "QUARANTINE" in text
    assert app.config["FACILITY_NAME"] in text
    assert sorted(zpl_symbols(both_formats(app, "collection", [row]))[0]) == expected


@pytest.mark.parametrize("allocated", [False, True])
def test_bag_label_carries_identity_expiry_and_recipient_as_stored(app, allocated: bool) -> None:
    recipients = []

    def build(session):
        bag = make.bag(session, make.lot(session), division="B0")
        if allocated:
            recipients.append(make.subject(session))
            make.allocate(session, bag, recipients[0])
        return [bag]

    pdf, (bag,) = run(app, "bag", build)
    din, product = din_barcode(bag.din), f"=<{bag.product_code}{bag.collection_type}{bag.division}"
    expiry = "&>" + cyyjjjhhmm(bag.expires_at)
    compound = [din, product, expiry]
    for subject in recipients:
        patient = subject.subject_code.replace("-", "")
        compound += [f"&#00{len(patient):02d}{patient}", f"=#00{subject.birth_date:%Y%m%d}",
                     f"&/{subject.chain_of_identity}"]
    expected = sorted([("Code128", din), ("Code128", product), ("Code128", expiry),
                       ("DataMatrix", f"=+{len(compound):02d}000{''.join(compound)}")])
    assert scan_pages(pdf) == [expected]
    text = page_text(pdf)
    local = bag.expires_at.astimezone(TZ)
    assert f"{local:%Y-%m-%d %H:%M} UTC+8" in text
    assert f"{bag.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in text
    assert "7.2 x 10^7 个细胞 cells" in text and "50 mL" in text  # the site's labels: Chinese and English
    assert "抗凝剂 Anticoagulant: ACD-A 5 mL, 批号 lot ACD2611" in text
    assert "2 °C 至 8 °C 储存 Store at 2 °C to 8 °C" in text
    assert f"UC-MSC，同种异体，供输注用 {app.config['PRODUCT_DESCRIPTIONS']['ucmsc']}" in text
    assert ("SUBJ-" in text) is allocated and ("Born 1971-03-14" in text) is allocated
    coi = ChainOfIdentity.parse(recipients[0].chain_of_identity) if allocated else None
    assert (coi is not None and f"COI {coi.eye_readable}" in text and f"K {coi.check}" in text) is allocated
    assert sorted(zpl_symbols(both_formats(app, "bag", [bag]))[0]) == expected


def test_placebo_bag_label_names_the_saline_lot_and_no_cells(app) -> None:
    pdf, (bag,) = run(app, "bag", lambda s: [make.placebo_bag(s)])
    assert ("Code128", f"=<{bag.product_code}V00") in scan_pages(pdf)[0]
    text = page_text(pdf)
    assert "0.9% 氯化钠 sodium chloride, 批号 lot NS260415" in text and "无细胞（安慰剂） No cells (placebo)" in text
    assert f"安慰剂：0.9% 氯化钠 {app.config['PRODUCT_DESCRIPTIONS']['placebo']}" in text


def test_wristband_carries_subject_id_birth_date_and_chain_of_identity_but_not_the_arm(app) -> None:
    pdf, (subject,) = run(app, "wristband", lambda s: [make.subject(s, arm="B")], as_="coordinator")
    code = subject.subject_code
    patient = "&#0008" + code.replace("-", "")
    expected = sorted([("Code128", patient),
                       ("DataMatrix", f"=+03000{patient}=#00{subject.birth_date:%Y%m%d}&/{subject.chain_of_identity}")])
    assert scan_pages(pdf) == [expected]
    text = page_text(pdf)
    assert code in text and subject.screening_number in text and "1971-03-14" in text
    coi = ChainOfIdentity.parse(subject.chain_of_identity)
    assert f"COI {coi.eye_readable}" in text and coi.check in text
    assert "placebo" not in text.lower() and "arm" not in text.lower()
    assert sorted(zpl_symbols(both_formats(app, "wristband", [subject]))[0]) == expected


def test_culture_vessel_labels_name_lot_passage_and_each_vessel(app) -> None:
    seeded = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # 21 November in Shanghai

    def build(session):
        lot = make.lot(session)
        make.passage(session, lot, 2, seeded_at=seeded)
        return label_items.vessels(lot, 2, 3, app.config["PASSAGE_LIMIT"])

    pdf, vessels = run(app, "culture_vessel", build)
    lot = vessels[0].lot.lot_number
    expected = [sorted([("Code128", din_barcode(lot)),
                        ("DataMatrix", f"=+02000{din_barcode(lot)}&e{lot}-P2-V{n:02d}")])
                for n in (1, 2, 3)]
    assert scan_pages(pdf) == expected
    assert "Passage P2" in page_text(pdf, 2) and "Vessel 第3/3个 3 of 3" in page_text(pdf, 2)
    assert "接种 Seeded 2026-11-21" in page_text(pdf)
    assert [sorted(s) for s in zpl_symbols(both_formats(app, "culture_vessel", vessels))] == expected


def test_qc_tube_sheet_has_one_tube_per_required_test_of_the_lots_specification(app) -> None:
    pdf, samples = run(app, "qc_tube", lambda s: label_items.qc_samples(s, make.lot(s)))
    lot = samples[0].lot.lot_number
    required = [(n, t.code) for n, t in enumerate(DEFAULT_SPEC.tests, start=1) if t.required]
    assert [(s.number, s.test_code) for s in samples] == required
    expected = [[("DataMatrix", f"=+02000{din_barcode(lot)}&f{lot}-Q{n:02d}")] for n, _ in required]
    assert scan_pages(pdf) == expected
    assert all(f"Test: {code}" in page_text(pdf, i) for i, (_, code) in enumerate(required))
    assert zpl_symbols(both_formats(app, "qc_tube", samples)) == expected


def test_shipper_label_names_its_bags_and_links_to_their_verification(app) -> None:
    def build(session):
        lot = make.lot(session)
        bags = make.bags(session, lot, 3, quality_status="released")
        return [label_items.Shipment(tuple(bags), "Liver transplant ward 4B", datetime.now(UTC))]

    pdf, (shipment,) = run(app, "shipper", build)
    shipment_id = shipment.shipment_id
    expected = sorted([("Code128", shipment_id), ("QRCode", VERIFY + shipment_id)])
    assert scan_pages(pdf) == [expected]
    din = shipment.bags[0].din
    assert f"3 个细胞袋 bags {eye_din(din)} D0001V: A0 B0 C0" in page_text(pdf)
    with app.app_context():
        (row,) = print_jobs.shipment_prints(db.session(), shipment_id)
        assert row.content["bag_ids"] == sorted(b.bag_code for b in shipment.bags)
    assert sorted(zpl_symbols(both_formats(app, "shipper", [shipment]))[0]) == expected


def test_every_label_printed_is_recorded_with_the_hash_of_its_content(app) -> None:
    pdf, bags = run(app, "bag", lambda s: make.bags(s, make.lot(s), 4))
    assert pymupdf.open(stream=pdf, filetype="pdf").page_count == 4
    with app.app_context():
        rows = db.session().exec(make.select_prints()).all()
        assert [(r.item_key, r.label_kind, r.reprint, r.status) for r in rows] == [
            (b.bag_code, "bag", False, "printed") for b in bags]
        assert all(r.content_hash == print_jobs.content_hash(r.content) for r in rows)
        assert len({r.content_hash for r in rows}) == 4


def test_a_stored_value_the_label_fonts_cannot_show_refuses_the_job(app) -> None:
    app.config["FACILITY_NAME"] = "北京302医院 \U0001f3e5"
    with app.app_context():
        session = db.session()
        row = make.collection(session)
        with pytest.raises(print_jobs.Refused) as refused:
            print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="collection",
                                records=[row], settings=settings(app))
    assert refused.value.reasons[0].code == "label_cannot_print" and "U+1F3E5" in refused.value.message


def test_reprint_needs_a_reason_prints_reprint_and_keeps_the_original_hash(app) -> None:
    first, (bag,) = run(app, "bag", lambda s: [make.bag(s, make.lot(s))])
    with app.app_context():
        session = db.session()
        actor = accounts.find_user(session, "lab")
        with pytest.raises(print_jobs.Invalid) as refused:
            print_jobs.print_labels(session, actor=actor, kind="bag", records=[bag], settings=settings(app))
        assert "reason" in refused.value.fields
        again = print_jobs.print_labels(session, actor=actor, kind="bag", records=[bag], settings=settings(app),
                                    reprint_reason="label smudged during filling")
        db.commit()
        original, reprint = session.exec(make.select_prints()).all()
    assert "REPRINT" in page_text(again) and "REPRINT" not in page_text(first)
    assert scan_pages(again) == scan_pages(first)  # the same data, only marked
    assert (reprint.reprint, reprint.reason) == (True, "label smudged during filling")
    assert reprint.content_hash == original.content_hash


def test_a_job_can_mix_first_prints_and_reprints_and_marks_only_the_reprints(app) -> None:
    _, bags = run(app, "bag", lambda s: make.bags(s, make.lot(s), 2))
    with app.app_context():
        session = db.session()
        extra = make.bag(session, session.get(make.Lot, bags[0].lot_id), division="C0")
        pdf = print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag",
                                  records=[*bags, extra], settings=settings(app),
                                  reprint_reason="printer jammed")
    assert ["REPRINT" in page_text(pdf, i) for i in range(3)] == [True, True, False]


def test_the_whole_job_is_refused_when_any_bag_is_rejected(app) -> None:
    with app.app_context():
        session = db.session()
        lot = make.lot(session)
        good, bad = make.bag(session, lot), make.bag(session, lot, division="B0", quality_status="rejected")
        with pytest.raises(print_jobs.Refused) as refused:
            print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=[good, bad],
                                settings=settings(app))
        assert [r.code for r in refused.value.reasons] == ["bag_rejected"]
        db.rollback()
        assert session.exec(make.select_prints()).all() == []


def test_qa_may_reprint_but_not_print_first_and_a_nurse_may_not_print(app) -> None:
    with app.app_context():
        session = db.session()
        bag = make.bag(session, make.lot(session))
        for who in ("qa", "nurse", "coordinator"):
            error = print_jobs.Forbidden
            with pytest.raises(error):
                print_jobs.print_labels(session, actor=accounts.find_user(session, who), kind="bag", records=[bag],
                                    settings=settings(app))
        print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=[bag],
                            settings=settings(app))
        pdf = print_jobs.print_labels(session, actor=accounts.find_user(session, "qa"), kind="bag", records=[bag],
                                  settings=settings(app), reprint_reason="QA reprint after review")
        assert "REPRINT" in page_text(pdf)


def test_vessel_labels_are_for_lots_in_expansion_and_a_passage_within_the_limit(app) -> None:
    with app.app_context():
        session = db.session()
        lot = make.lot(session)
        with pytest.raises(print_jobs.Invalid) as bad:
            label_items.vessels(lot, app.config["PASSAGE_LIMIT"] + 1, 0, app.config["PASSAGE_LIMIT"])
        assert set(bad.value.fields) == {"passage", "vessels"}
        released = make.lot(session, status="released")
        with pytest.raises(print_jobs.Refused, match="expansion"):
            label_items.vessels(released, 1, 2, app.config["PASSAGE_LIMIT"])


def test_a_bag_expiring_late_in_the_evening_utc_prints_the_next_day_in_site_time(app) -> None:
    expires = datetime(2026, 12, 31, 19, 59, 59, tzinfo=UTC)  # 2027-01-01 03:59 in Shanghai
    pdf, _ = run(app, "bag", lambda s: [make.bag(s, make.lot(s), expires_at=expires)])
    assert ("Code128", "&>0270010359") in scan_pages(pdf)[0]
    assert "2027-01-01 03:59 UTC+8" in page_text(pdf) and "2026-12-31 19:59 UTC" in page_text(pdf)


def test_times_in_the_shipper_label_are_site_time(app) -> None:
    shipped = datetime(2026, 11, 25, 22, 5, tzinfo=UTC)

    def build(session):
        return [label_items.Shipment((make.bag(session, make.lot(session), quality_status="released"),), "Ward 4B",
                                     shipped)]

    pdf, _ = run(app, "shipper", build)
    assert "Shipped 2026-11-26 06:05 UTC+8" in page_text(pdf)
