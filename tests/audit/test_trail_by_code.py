"""The audit page takes a scanned or typed code and shows that record's entries, values as readable rows."""

from __future__ import annotations

import re

from flask_babel import force_locale

from cellchain.audit import trail
from cellchain.audit.rules import readable
from tests.factories import ward as w
from tests.factories.qc import db_session


def _seqs(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr data-seq="(\d+)">', page)}


def _entries(app, record_type: str, record_id) -> set[int]:
    with db_session(app) as session:
        return {e.seq for e in trail.history(session, record_type, record_id)}


def test_qa_scans_a_bag_and_sees_its_entries_and_custody_only(app, client, auth):
    with db_session(app) as session:
        first, other = w.bag(session, division="A0"), w.bag(session, division="B0")
        w.hand_over(session, first, "stored")
        first_code, first_id, other_id = first.bag_code, first.id, other.id
    auth.login("qa")
    page = client.get("/audit/", query_string={"code": first_code}).get_data(as_text=True)
    assert f"Entries of bag <span class=\"din\">{first_code}</span>" in page
    assert _seqs(page) == _entries(app, "bag_custody", first_id) and _seqs(page)
    assert not _seqs(page) & _entries(app, "bag_custody", other_id)
    # old and new values as field rows, not JSON
    assert "<dt>State</dt><dd>at the lab</dd>" in page  # the stored code at_lab, in words
    assert '{"state"' not in page


def test_a_lot_number_shows_the_lot_and_its_bags(app, client, auth):
    with db_session(app) as session:
        lot = w.released_lot(session)
        bag = w.bag(session, lot=lot)
        number, bag_id, collection_id = lot.lot_number, bag.id, lot.collection_id
    auth.login("auditor")
    page = client.get("/audit/", query_string={"code": number}).get_data(as_text=True)
    assert _entries(app, "bag_custody", bag_id) <= _seqs(page)
    assert not _seqs(page) & _entries(app, "collection_custody", collection_id)  # the cord is the DIN's, not the lot's
    assert "Entries of lot" in page


def test_a_subject_id_shows_the_subjects_entries(app, client, auth):
    with db_session(app) as session:
        person = w.subject(session)
        code = person.subject_code
        trail.record(session, actor=w.user(session, "coordinator"), record_type="subject", record_id=code,
                     action="register", new={"eligible": True, "screening_number": person.screening_number})
    auth.login("qa")
    page = client.get("/audit/", query_string={"code": code.lower()}).get_data(as_text=True)
    assert _seqs(page) == _entries(app, "subject", code)
    assert "<dt>Eligible</dt><dd>yes</dd>" in page


def test_an_unknown_code_is_named_and_shows_nothing(app, client, auth):
    auth.login("qa")
    page = client.get("/audit/", query_string={"code": "NO-SUCH-THING"})
    assert page.status_code == 400 and b"<strong>code</strong>" in page.data and not _seqs(page.get_data(as_text=True))


def test_stored_values_read_as_field_rows():
    assert readable.rows('{"custody_state":"at_lab","held":false,"problems":["a","b"],"x":null}') == [
        ("Custody state", "at the lab"), ("held", "no"), ("problems", "a, b"), ("x", "—")]
    assert readable.rows(None) == [] and readable.rows("[1,2]") == [("value", "1, 2")]


def test_a_lots_steps_and_fill_read_in_the_readers_language_on_the_audit_page(app):
    """A Chinese reader of a lot's manufacture reads each field and a passage's step in Chinese, not
    ``cells per ml`` or ``passage:4``."""
    stored = '{"step":"passage:4","cells_per_ml":1000000,"count":2,"performed_by":"Li Wei","step_id":7}'
    with app.test_request_context():
        assert readable.rows(stored) == [("Step", "passage 4"), ("Cells per ml", "1000000"), ("Count", "2"),
                                         ("Performed by", "Li Wei"), ("Step", "7")]
        with force_locale("zh"):
            assert readable.rows(stored) == [("步骤", "传代 4"), ("每 ml 细胞数", "1000000"), ("数量", "2"),
                                             ("执行人", "Li Wei"), ("步骤", "7")]
            assert readable.rows('{"step":"fill"}') == [("步骤", "灌装入细胞袋")]
        assert readable.rows('{"step":"fill","kind":"fill"}') == [("Step", "Fill into final bags"), ("Kind", "fill")]
