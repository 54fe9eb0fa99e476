"""The label API answers what its document says: PDF and ZPL with their content types, printed labels
in their schema; a field it does not know is refused by name."""

from __future__ import annotations

import pytest

from cellchain.core import db
from tests.factories import api_document
from tests.factories import labels as make


@pytest.fixture
def document(client):
    return api_document.load(client)


def made(app, build):
    with app.app_context():
        result = build(db.session())
        db.commit()
    return result


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
def test_each_label_download_states_the_content_type_it_answers(app, api, document, fmt):
    records = made(app, lambda s: {"bag": make.bag(s, make.lot(s)), "lot": make.lot(s),
                                   "collection": make.collection(s), "subject": make.subject(s)})
    bag, lot = records["bag"].bag_code, records["lot"].lot_number
    downloads = [("/bags/{bag_id}/label", f"/bags/{bag}/label", "lab"),
                 ("/lots/{lot_id}/labels", f"/lots/{records['bag'].din}/labels", "lab"),
                 ("/collections/{din}/label", f"/collections/{records['collection'].din}/label", "lab"),
                 ("/subjects/{subject_id}/wristband", f"/subjects/{records['subject'].subject_code}/wristband",
                  "coordinator"),
                 ("/lots/{lot_id}/qc-tube-labels", f"/lots/{lot}/qc-tube-labels", "lab"),
                 ("/lots/{lot_id}/vessel-labels", f"/lots/{lot}/vessel-labels", "lab")]
    for path, url, role in downloads:
        query = "?reason=second+copy" + ("&passage=1&vessels=2" if "vessel" in path else "")
        response = api.get(f"/api/v1{url}.{fmt}{query}", as_=role)
        assert response.status_code == 200, (url, response.get_json())
        api_document.assert_documented(document, "GET", f"{path}.{fmt}", response)
        assert response.mimetype == ("application/pdf" if fmt == "pdf" else "text/plain")


def test_printed_labels_and_their_status_answer_as_documented(app, api, document):
    bag = made(app, lambda s: make.bag(s, make.lot(s)))
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    outstanding = api.get("/api/v1/labels", as_="lab")
    api_document.assert_documented(document, "GET", "/labels", outstanding)
    (label,) = outstanding.get_json()["labels"]
    assert label["id"] == label["label_id"] and label["printed_by"] == "lab" and label["status_by"] is None
    voided = api.post(f"/api/v1/labels/{label['id']}/status", as_="lab", json={"status": "voided", "reason": "torn"})
    api_document.assert_documented(document, "POST", "/labels/{label_id}/status", voided)
    assert voided.get_json()["status_by"] == "lab" and voided.get_json()["status_at"].endswith("Z")
    history = api.get(f"/api/v1/labels?target=bag&key={bag.bag_code}", as_="auditor")
    api_document.assert_documented(document, "GET", "/labels", history)


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
def test_a_shipper_label_answers_in_the_format_asked_as_documented(app, api, document, fmt):
    bags = made(app, lambda s: make.bags(s, make.lot(s), 2, quality_status="released"))
    response = api.post("/api/v1/shipments/label", as_="lab",
                        json={"bags": [b.bag_code for b in bags], "ship_to": "Ward 4B", "format": fmt})
    assert response.status_code == 200
    api_document.assert_documented(document, "POST", "/shipments/label", response)


@pytest.mark.parametrize(("body", "named"), [
    ({"status": "applied", "reson": "typo"}, {"reson"}),
    ({"status": 3}, {"status"}),
    ({"status": "voided", "reason": ["torn"]}, {"reason"}),
])
def test_an_unknown_or_mistyped_label_status_field_is_a_400_naming_it(app, api, body, named):
    bag = made(app, lambda s: make.bag(s, make.lot(s)))
    api.get(f"/api/v1/bags/{bag.bag_code}/label.pdf", as_="lab")
    (label,) = api.get("/api/v1/labels", as_="lab").get_json()["labels"]
    response = api.post(f"/api/v1/labels/{label['id']}/status", as_="lab", json=body)
    assert response.status_code == 400 and set(response.get_json()["fields"]) == named
    assert api.get("/api/v1/labels", as_="lab").get_json()["labels"][0]["status"] == "printed"


def test_an_unknown_shipper_label_field_is_a_400_naming_it_and_prints_nothing(app, api):
    bags = made(app, lambda s: make.bags(s, make.lot(s), 1, quality_status="released"))
    response = api.post("/api/v1/shipments/label", as_="lab",
                        json={"bags": [bags[0].bag_code], "ship_to": "Ward 4B", "destination": "4B"})
    assert response.status_code == 400 and set(response.get_json()["fields"]) == {"destination"}
    assert api.get("/api/v1/labels", as_="lab").get_json()["labels"] == []


def test_vessel_labels_with_a_passage_that_is_not_a_number_name_it(app, api):
    lot = made(app, lambda s: make.lot(s))
    response = api.get(f"/api/v1/lots/{lot.lot_number}/vessel-labels.pdf?passage=two&vessels=x", as_="lab")
    assert response.status_code == 400 and set(response.get_json()["fields"]) == {"passage", "vessels"}
