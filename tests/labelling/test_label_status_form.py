"""A refused change of a label's status shows the item's print page again: the label's form with what was
chosen and typed, and why; nothing is written, and it never ends on the error page."""

from __future__ import annotations

from flask import url_for

from tests.factories import labels as make
from tests.factories.labels import prints, rows


def _link(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def _printed_bag_label(app, client, auth):
    bag = rows(app, lambda s: make.bag(s, make.lot(s)))
    auth.login("lab")
    client.get(_link(app, "labels.bag_label", bag_id=bag.bag_code))
    (label,) = prints(app)
    return bag, label


def _row(page: str, label_id: int) -> str:
    start = page.index(f'<tr data-label="{label_id}">')
    return page[start:page.index("</tr>", start)]


def test_voiding_a_label_without_a_reason_shows_its_form_again_with_why(app, client, auth):
    bag, label = _printed_bag_label(app, client, auth)
    response = auth.post(_link(app, "labels.set_status", label_id=label.id), {"status": "voided", "reason": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and bag.bag_code in page and "Labels printed" in page
    row = _row(page, label.id)
    assert '<option value="voided" selected>' in row and 'data-testid="status-refusal"' in row
    assert "say why the label is voided" in row
    assert [p.status for p in prints(app)] == ["printed"]


def test_a_status_the_label_cannot_take_is_refused_on_the_page_keeping_the_reason(app, client, auth):
    _, label = _printed_bag_label(app, client, auth)
    scan = label.content["compound_2d"]
    assert auth.post(_link(app, "printers.apply", label_id=label.id), {"scan": scan}).status_code == 303
    response = auth.post(_link(app, "labels.set_status", label_id=label.id),
                         {"status": "voided", "reason": "smudged print"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-reason="label_status_not_allowed"' in page
    assert "it can be marked destroyed" in page
    assert [p.status for p in prints(app)] == ["applied"]


def test_an_unknown_label_is_refused_on_the_reconciliation_page(app, client, auth):
    _printed_bag_label(app, client, auth)
    response = auth.post(_link(app, "labels.set_status", label_id=999999), {"status": "applied"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "<h1>Label reconciliation</h1>" in page
    assert "no printed label 999999" in page
    assert [p.status for p in prints(app)] == ["printed"]
