"""A lot is not released while any label printed for it is unaccounted for (docs/rules.md, "Quality: release"):
each is applied by a scan on its container, voided or destroyed first; the batch record counts them."""

from __future__ import annotations

import pymupdf
from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Bag, LabelPrint, Lot
from tests.conftest import signature
from tests.factories.qc import add_results, db_session, make_lot

RELEASE = "/api/v1/lots/{}/release"


def _ready_lot(app) -> str:
    with db_session(app) as session:
        lot = make_lot(session)
        add_results(session, lot)
        return lot.lot_number


def _labels(app, lot_id: str) -> list[LabelPrint]:
    """The bag labels printed for the lot, in print order."""
    with app.app_context():
        session = db.session()
        bag_ids = select(Bag.id).join(Lot, Lot.id == Bag.lot_id).where(Lot.lot_number == lot_id)
        return list(session.exec(select(LabelPrint).where(LabelPrint.item_type == "bag",
                                                          LabelPrint.item_id.in_(bag_ids)).order_by(LabelPrint.id)))


def test_release_is_refused_while_a_label_is_unaccounted_for_and_allowed_after_apply_and_void(app, api):
    lot_id = _ready_lot(app)
    assert api.get(f"/api/v1/lots/{lot_id}/labels.pdf", as_="lab").status_code == 200
    first, second = _labels(app, lot_id)
    refused = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert refused.status_code == 409
    (gap,) = [r for r in refused.get_json()["reasons"] if r["code"] == "lot_labels_unaccounted"]
    assert first.item_key in gap["message"] and second.item_key in gap["message"]
    review = api.get(f"/api/v1/lots/{lot_id}", as_="qa")
    assert review.status_code == 200
    applied = api.post(f"/api/v1/labels/{first.id}/apply", as_="lab", json={"scan": first.content["compound_2d"]})
    assert applied.status_code == 200
    still = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert still.status_code == 409 and "lot_labels_unaccounted" in [r["code"] for r in still.get_json()["reasons"]]
    voided = api.post(f"/api/v1/labels/{second.id}/status", as_="lab", json={"status": "voided", "reason": "torn"})
    assert voided.status_code == 200
    released = api.post(RELEASE.format(lot_id), as_="qa", json={"signature": signature("qa", "released")})
    assert released.status_code == 200, released.get_json()


def test_the_batch_record_counts_the_lots_labels(app, api, client, auth):
    lot_id = _ready_lot(app)
    api.get(f"/api/v1/lots/{lot_id}/labels.pdf", as_="lab")
    first, _second = _labels(app, lot_id)
    api.post(f"/api/v1/labels/{first.id}/apply", as_="lab", json={"scan": first.content["compound_2d"]})
    auth.login("lab")
    page = client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    counts = page.split('data-testid="lot-label-counts"')[1].split("</table>")[0]
    assert [counts.split(f'data-count="{k}">')[1].split("<")[0] for k in
            ("printed", "applied", "voided", "destroyed", "unaccounted")] == ["2", "1", "0", "0", "1"]
    pdf = api.get(f"/api/v1/lots/{lot_id}/batch-record.pdf", as_="qa")
    text = "".join(p.get_text() for p in pymupdf.open(stream=pdf.data, filetype="pdf"))
    words = " ".join(text.split())
    assert "Labels of the lot" in words and "Labels not yet accounted for" in words
    table = words.split("Labels of the lot")[1]
    assert "2 1 0 0 1" in table
