"""Label pages: the downloads other pages link to, the print page with its reprint form, reconciliation."""

from __future__ import annotations

from flask import url_for

from cellchain.core import db
from tests.factories import labels as make
from tests.factories.label_reading import din_barcode, page_text, scan_pages
from tests.factories.labels import prints, rows


def link(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def test_the_endpoints_other_pages_link_to_download_each_kind(app, client, auth) -> None:
    made = rows(app, lambda s: {"lot": make.lot(s), "subject": make.subject(s)})
    rows(app, lambda s: make.bags(s, s.get(make.Lot, made["lot"].id), 3))
    lot, subject = made["lot"].lot_number, made["subject"].subject_code
    auth.login("lab")
    expected_pages = [
        (link(app, "labels.collection_label", din=lot), 1),
        (link(app, "labels.bag_label", bag_id=f"{lot}-D0001VB0"), 1),
        (link(app, "labels.lot_bag_labels", lot_id=lot, reason="B0 was printed alone first"), 3),
        (link(app, "labels.wristband", subject_code=subject), 1),
        (link(app, "labels.vessel_labels", lot_id=lot, passage=0, vessels=2), 2),
        (link(app, "labels.qc_tube_labels", lot_id=lot, format="zpl"), None),
    ]
    for url, pages in expected_pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if pages is None:
            assert response.mimetype == "text/plain" and response.get_data(as_text=True).startswith("^XA")
        else:
            assert scan_pages(response.data)[0] and response.headers["X-Label-Count"] == str(pages)
    assert ("Code128", din_barcode(lot)) in scan_pages(client.get(link(app, "labels.collection_label", din=lot),
                                                                 query_string={"reason": "test"}).data)[0]


def test_a_reprint_link_without_a_reason_leads_to_the_form_that_asks_for_one(app, client, auth) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    auth.login("lab")
    url = link(app, "labels.bag_label", bag_id=bag.bag_code)
    assert client.get(url).status_code == 200
    response = client.get(url)
    form = link(app, "labels.print_page", item_type="bag", key=bag.bag_code)
    assert response.status_code == 302 and response.headers["Location"] == form
    page = client.get(form).get_data(as_text=True)
    assert "A reprint needs a reason" in page and "Reason for a reprint" in page
    refused = auth.post(form, {"format": "pdf"})
    assert refused.status_code == 400 and "reason" in refused.get_data(as_text=True)
    printed = auth.post(form, {"format": "pdf", "reason": "label fell off in the incubator"})
    assert printed.status_code == 200 and "REPRINT" in page_text(printed.data)
    assert [p.reprint for p in prints(app)] == [False, True]


def test_the_print_page_lists_each_label_and_records_its_status(app, client, auth) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    auth.login("lab")
    client.get(link(app, "labels.bag_label", bag_id=bag.bag_code))
    (label,) = prints(app)
    page_url = link(app, "labels.print_page", item_type="bag", key=bag.bag_code)
    page = client.get(page_url).get_data(as_text=True)
    assert "1 label(s) not yet accounted for" in page and bag.bag_code in page
    assert client.get(link(app, "labels.index")).get_data(as_text=True).count(f'"mono">{bag.bag_code}<') == 1
    done = auth.post(link(app, "printers.apply", label_id=label.id), {"scan": label.content["compound_2d"]})
    assert done.status_code == 303 and done.headers["Location"] == page_url
    page = client.get(page_url).get_data(as_text=True)
    assert "applied: the scan matches its container" in page and "not yet accounted for" not in page
    refused = auth.post(link(app, "labels.set_status", label_id=label.id), {"status": "voided", "reason": "x"})
    assert refused.status_code == 409 and "Not changed" in refused.get_data(as_text=True)
    assert "Every printed label is accounted for" in client.get(link(app, "labels.index")).get_data(as_text=True)


def test_the_vessel_form_asks_for_passage_and_vessel_count(app, client, auth) -> None:
    lot = rows(app, lambda s: make.lot(s))
    auth.login("lab")
    response = client.get(link(app, "labels.vessel_labels", lot_id=lot.lot_number))
    form = link(app, "labels.print_page", item_type="vessel", key=lot.lot_number)
    assert response.headers["Location"] == form
    assert 'name="passage"' in client.get(form).get_data(as_text=True)
    bad = auth.post(form, {"passage": "7", "vessels": "0", "format": "pdf"})
    assert bad.status_code == 400
    good = auth.post(form, {"passage": "1", "vessels": "2", "format": "zpl"})
    assert good.status_code == 200 and good.get_data(as_text=True).count("^XA") == 2


def test_the_shipment_verify_page_lists_the_bags_in_the_container(app, client, api, auth) -> None:
    bags = rows(app, lambda s: make.bags(s, make.lot(s), 2, quality_status="released"))
    response = api.post("/api/v1/shipments/label", as_="lab",
                        json={"bags": [b.bag_code for b in bags], "ship_to": "Ward 4B"})
    (qr,) = [data for kind, data in scan_pages(response.data)[0] if kind == "QRCode"]
    auth.login("nurse")
    page = client.get(qr.replace("http://localhost", "")).get_data(as_text=True)
    assert all(b.bag_code in page for b in bags) and "Ward 4B" in page
    # the label prints its storage sentence in each label language; the page says it in the reader's
    assert "Keep at 2 °C to 8 °C" in page and "2 °C 至 8 °C 保存" not in page
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = client.get(qr.replace("http://localhost", "")).get_data(as_text=True)
    assert "2 °C 至 8 °C 保存" in page and "Keep at" not in page
    assert client.get(link(app, "labels.shipment", shipment_id="SHP-0000000000")).status_code == 404


def test_pages_refuse_roles_that_do_not_print(app, client, auth) -> None:
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    auth.login("nurse")
    assert client.get(link(app, "labels.bag_label", bag_id=bag.bag_code)).status_code == 403
    assert client.get(link(app, "labels.print_page", item_type="bag", key=bag.bag_code)).status_code == 200
    assert client.get(link(app, "labels.print_page", item_type="nonsense", key="x")).status_code == 404
    assert client.get(link(app, "labels.print_page", item_type="bag", key="nope")).status_code == 404
    with app.app_context():
        assert db.session().exec(make.select_prints()).all() == []
