"""A refused deviation shows its form again with what was typed and why, on the lot's review page (or on a
page of its own when there is no such lot); nothing is written, and it never ends on the error page."""

from __future__ import annotations

from sqlmodel import func, select

from cellchain.core import db
from cellchain.quality.models import Deviation
from tests.factories.qc import db_session, make_lot


def _deviations(app) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(Deviation)).one()


def test_a_deviation_about_an_unknown_test_shows_the_lot_page_with_the_form_open(app, auth):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    auth.login("qa")
    response = auth.post("/qa/deviations", {"lot_id": lot_id, "kind": "oos", "test": "no_such_test",
                                            "description": "odd reading on the plate"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "QA review · lot" in page and lot_id in page
    assert '<details id="open-deviation" open>' in page and 'data-testid="refusal"' in page
    assert "no_such_test" in page and "odd reading on the plate</textarea>" in page
    assert '<option value="oos" selected>' in page
    assert _deviations(app) == 0


def test_a_deviation_of_an_unknown_kind_keeps_its_description(app, auth):
    with db_session(app) as session:
        lot_id = make_lot(session).lot_number
    auth.login("qa")
    response = auth.post("/qa/deviations", {"lot_id": lot_id, "kind": "whim", "description": "gowning lapse"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "gowning lapse</textarea>" in page and 'data-testid="refusal"' in page
    assert "Kind" in page and "one of" in page
    assert _deviations(app) == 0


def test_a_deviation_naming_an_unknown_lot_shows_the_form_on_a_page_of_its_own(app, auth):
    auth.login("qa")
    response = auth.post("/qa/deviations", {"lot_id": "NO-SUCH-LOT", "kind": "procedural",
                                            "description": "gowning lapse"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "<h1>Open a deviation</h1>" in page
    assert "no lot NO-SUCH-LOT" in page and 'value="NO-SUCH-LOT"' in page and "gowning lapse</textarea>" in page
    assert _deviations(app) == 0
    opened = auth.post("/qa/deviations", {"kind": "procedural", "description": "gowning lapse"})
    assert opened.status_code == 303 and _deviations(app) == 1
