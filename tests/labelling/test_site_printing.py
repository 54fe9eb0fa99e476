"""Printing for the site, end to end: a Chinese facility on a bag label, QUARANTINE until QA releases the
lot, the release naming the labels to replace, and the released label a new label rather than a reprint."""

from __future__ import annotations

from sqlmodel import select

from cellchain.core import db
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.site import relabel
from cellchain.manufacturing.models import Bag, LabelPrint, Lot
from cellchain.people import accounts
from tests.conftest import signature
from tests.factories import labels as make
from tests.factories.label_reading import page_text
from tests.factories.qc import add_results, db_session, make_lot
from tests.labelling.test_site_labels import binary_scan

SITE = {"FACILITY_NAME": "北京302医院细胞治疗中心", "FACILITY_ADDRESS": "北京市丰台区西四环中路100号",
        "FACILITY_TELEPHONE": "010-0000 0000"}


def _print_lot(app, lot_number: str, **options) -> tuple[bytes, list[LabelPrint]]:
    with app.app_context():
        session = db.session()
        printed = print_jobs.print_target(session, actor=accounts.find_user(session, "lab"), target="lot",
                                          key=lot_number, settings=LabelSettings.from_config(app.config), **options)
        db.commit()
        rows = list(session.exec(select(LabelPrint).order_by(LabelPrint.id)))
        session.expunge_all()
    return printed.content, rows


def test_a_bag_label_for_the_site_prints_in_chinese_and_english_and_its_codes_scan(app) -> None:
    app.config.update(SITE)
    with app.app_context():
        session = db.session()
        bag = make.bag(session, make.lot(session))
        pdf = print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=[bag],
                                      settings=LabelSettings.from_config(app.config))
        db.commit()
    text = page_text(pdf)
    for words in ["北京302医院细胞治疗中心", "北京市丰台区西四环中路100号", "电话 010-0000 0000",
                  "仅供临床试验使用", "For clinical trial use only", "待验 QUARANTINE",
                  "放行机构 Releasing establishment"]:
        assert words in text
    assert "Federal" not in text
    for dpi in (203, 300):
        codes = binary_scan(pdf, dpi)[0]
        assert [kind for kind, _ in codes] == ["Code128", "Code128", "Code128", "DataMatrix"]


def test_the_us_statement_stays_a_site_option(app) -> None:
    app.config.update(LABEL_STATEMENT="us_investigational", LABEL_LANGUAGES=["en"])
    with app.app_context():
        session = db.session()
        bag = make.bag(session, make.lot(session))
        pdf = print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=[bag],
                                      settings=LabelSettings.from_config(app.config))
    text = page_text(pdf)
    assert "Limited by Federal (or United States) law to investigational use" in text and "仅供" not in text


def test_zpl_goes_out_in_the_sites_printer_resolution(app) -> None:
    app.config.update(LABEL_ZPL_DPI=300)
    with app.app_context():
        session = db.session()
        bag = make.bag(session, make.lot(session))
        zpl = print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=[bag],
                                      settings=LabelSettings.from_config(app.config), fmt="zpl")
        assert "^PW1219" in zpl and "^BY3," in zpl
        again = print_jobs.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag",
                                        records=[bag], settings=LabelSettings.from_config(app.config), fmt="zpl",
                                        reprint_reason="to the 600 dpi printer", dpi=600)
        assert "^PW2438" in again and "^BY6," in again


def _apply(api, rows) -> None:
    """Each quarantine label scanned onto its bag: accounted for, so release may go on (docs/rules.md)."""
    for row in rows:
        assert api.post(f"/api/v1/labels/{row.id}/apply", as_="lab",
                        json={"scan": row.content["compound_2d"]}).status_code == 200


def test_release_names_the_quarantine_labels_and_the_released_label_replaces_them(app, api) -> None:
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        lot_number = lot.lot_number
    pdf, rows = _print_lot(app, lot_number)
    assert all("待验 QUARANTINE" in page_text(pdf, page) for page in range(len(rows)))
    assert all(r.content["quarantine_text"] and not r.reprint for r in rows)
    _apply(api, rows)

    response = api.post(f"/api/v1/lots/{lot_number}/release", as_="qa",
                        json={"signature": signature("qa", "released")})
    assert response.status_code == 200, response.get_json()
    listed = response.get_json()["labels_to_replace"]
    assert sorted(item["id"] for item in listed) == sorted(r.id for r in rows)
    assert {item["bag"] for item in listed} == {r.item_key for r in rows}

    pdf, after = _print_lot(app, lot_number)
    new = after[len(rows):]
    assert len(new) == len(rows) and not any(r.reprint for r in new)  # a released label, not a copy
    assert all("quarantine_text" not in r.content for r in new)
    assert "QUARANTINE" not in page_text(pdf) and "REPRINT" not in page_text(pdf)

    with app.app_context():
        session = db.session()
        for row in rows:
            print_jobs.set_status(session, actor=accounts.find_user(session, "lab"), label_id=row.id,
                                  status="destroyed", reason="replaced by the released label")
        db.commit()
    with app.app_context():
        session = db.session()
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_number)).one()
        assert relabel.to_replace(session, lot) == []
        assert all(b.quality_status == "released" for b in session.exec(select(Bag).where(Bag.lot_id == lot.id)))


def test_the_qa_lot_page_lists_the_labels_to_replace_after_release(app, api, client, auth) -> None:
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        lot_number = lot.lot_number
    _pdf, rows = _print_lot(app, lot_number)
    _apply(api, rows)
    auth.login("qa")
    assert 'data-testid="labels-to-replace"' not in client.get(f"/qa/lots/{lot_number}").get_data(as_text=True)
    assert api.post(f"/api/v1/lots/{lot_number}/release", as_="qa",
                    json={"signature": signature("qa", "released")}).status_code == 200
    page = client.get(f"/qa/lots/{lot_number}").get_data(as_text=True)
    assert 'data-testid="labels-to-replace"' in page
    assert all(f'data-label-id="{r.id}"' in page for r in rows)


def test_the_label_api_prints_zpl_for_the_printer_resolution_asked_and_refuses_another(app, api) -> None:
    with app.app_context():
        session = db.session()
        bag_code = make.bag(session, make.lot(session)).bag_code
        db.commit()
    answer = api.get(f"/api/v1/bags/{bag_code}/label.zpl?dpi=600", as_="lab")
    assert answer.status_code == 200 and "^PW2438" in answer.get_data(as_text=True)
    refused = api.get(f"/api/v1/bags/{bag_code}/label.zpl?dpi=250&reason=test", as_="lab")
    assert refused.status_code == 400 and "dpi" in refused.get_json()["fields"]
