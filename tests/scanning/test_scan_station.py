"""The scan station page: one scan box; a scan opens its record's page, or says what it is, or why not."""

from __future__ import annotations

from cellchain.core import db
from cellchain.identifiers.scans import wristband_data
from tests.factories import labels as make
from tests.factories.scanning import PAGES, expected_url


def made(app):
    with app.app_context():
        session = db.session()
        lot = make.lot(session)
        bag = make.bag(session, lot)
        subject = make.subject(session)
        db.commit()
        return {"bag": bag, "subject": subject, "lot": lot}


def test_the_station_has_one_scan_box_that_a_wedge_scanner_can_type_into(client, auth) -> None:
    auth.login("nurse")
    page = client.get("/scan/").get_data(as_text=True)
    assert page.count('class="scanbox"') == 1
    assert 'data-scan autofocus autocomplete="off"' in page and 'name="csrf_token"' in page


def test_a_scan_opens_the_record_it_belongs_to(app, client, auth) -> None:
    rows = made(app)
    auth.login("lab")
    subject = rows["subject"].subject_code
    for raw, record_type, key in [(rows["bag"].bag_code + "\r\n", "bag", rows["bag"].bag_code),
                                  ("]C0" + wristband_data(subject), "subject", subject),
                                  (f"&e{rows['lot'].lot_number}-P1-V01", "lot", rows["lot"].lot_number)]:
        response = auth.post("/scan/", {"scan": raw})
        view = app.view_functions.get(PAGES[record_type][0])
        if view is not None and "lab" in view.required_roles:
            assert response.status_code == 303
            assert response.headers["Location"] == expected_url(app, record_type, key)
        else:
            assert response.status_code == 303
            shown = client.get(response.headers["Location"])
            assert shown.status_code == 200 and key in shown.get_data(as_text=True)


def test_a_refused_scan_says_why_in_words(client, auth) -> None:
    auth.login("lab")
    response = auth.post("/scan/", {"scan": "A999926000001X"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Scan refused" in page
    assert "check character" in page and "Nothing was looked up" in page
    control = auth.post("/scan/", {"scan": "=<D0001\x07VA0"})
    assert control.status_code == 400 and "control character" in control.get_data(as_text=True)


def test_a_structure_without_a_record_is_described(client, auth) -> None:
    auth.login("qc")
    page = auth.post("/scan/", {"scan": "=<D0001VA0"}, follow_redirects=True).get_data(as_text=True)
    assert "This is a product code" in page and "D0001" in page and "No record" in page


def test_the_station_is_for_signed_in_staff(client) -> None:
    assert client.get("/scan/").status_code == 302


def test_a_nurse_scanning_a_bag_or_wristband_at_the_station_reads_it_instead_of_a_403(app, client, auth) -> None:
    rows = made(app)
    auth.login("nurse")
    for raw, key in [(rows["bag"].bag_code, rows["bag"].bag_code),
                     (wristband_data(rows["subject"].subject_code), rows["subject"].subject_code)]:
        response = auth.post("/scan/", {"scan": raw}, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page[:300]
        assert key in page and 'data-testid="scan-record"' in page and "No record" not in page
