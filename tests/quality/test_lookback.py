"""The look-back from any cord, cell bank, lot or bag: every item derived from it with its status and place,
and every subject who received any of it with the infusion's dates, as a page, CSV, PDF and API. Checked
against a brute-force walk of every record in the database."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session, select

from cellchain.banking.models import CellBank, Vial
from cellchain.core import db
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.quality.recall import lookback
from cellchain.storage import placements
from cellchain.trial.models import Subject
from cellchain.ward.models import Infusion
from tests.factories import storage
from tests.factories.lab import user
from tests.factories.ward import RANGES
from tests.quality import recall_scene


@pytest.fixture
def tree(app, api) -> recall_scene.Tree:
    tree = recall_scene.build(app, api)
    with app.app_context():
        session = db.session()
        place = storage.site(session)
        shelf = session.exec(select(Bag).where(Bag.bag_code == tree.shelf)).one()
        storage.put(session, shelf, place.box, 2, 3)
        vial = session.exec(select(Vial).where(Vial.vial_code == f"{tree.wcb}-V004")).one()
        placements.put(session, actor=user(session, "lab"), item=placements.Item("vial", vial.id), box=place.box,
                       row=1, column=1, ranges=RANGES)
        db.commit()
    return tree


def brute_force(session: Session, kind: str, code: str) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    """Every record loaded, the tree walked parent to child in Python: (kind, code) of every item reached,
    and (subject, bag, infusion start) of every infusion of a reached bag."""
    lots, banks = list(session.exec(select(Lot))), list(session.exec(select(CellBank)))
    vials, bags = list(session.exec(select(Vial))), list(session.exec(select(Bag)))
    code_of = {"collection": {c.id: c.din for c in session.exec(select(Collection))},
               "lot": {x.id: x.lot_number for x in lots}, "bank": {b.id: b.bank_code for b in banks},
               "vial": {v.id: v.vial_code for v in vials}, "bag": {b.id: b.bag_code for b in bags}}
    children = {
        "collection": lambda i: [("lot", x.id) for x in lots if x.collection_id == i and x.source_vial_id is None],
        "lot": lambda i: [("bank", b.id) for b in banks if b.lot_id == i] + [("bag", b.id) for b in bags
                                                                             if b.lot_id == i],
        "bank": lambda i: [("vial", v.id) for v in vials if v.bank_id == i],
        "vial": lambda i: [("lot", x.id) for x in lots if x.source_vial_id == i],
        "bag": lambda i: [],
    }
    start = next((kind, i) for i, c in code_of[kind].items() if c == code)
    reached, todo = {start}, [start]
    while todo:
        for child in children[todo[0][0]](todo.pop(0)[1]):
            if child not in reached:
                reached.add(child)
                todo.append(child)
    bag_ids = {i for k, i in reached if k == "bag"}
    subjects = {s.id: s.subject_code for s in session.exec(select(Subject))}
    infused = {(subjects[f.subject_id], code_of["bag"][f.bag_id], f.started_at.isoformat())
               for f in session.exec(select(Infusion)) if f.bag_id in bag_ids}
    return {(k, code_of[k][i]) for k, i in reached}, infused


def _starts(tree: recall_scene.Tree) -> list[tuple[str, str]]:
    return [("collection", tree.din), ("bank", tree.mcb), ("bank", tree.wcb), ("lot", tree.mcb_lot),
            ("lot", tree.wcb_lot), ("lot", tree.dosing), ("lot", tree.dosing2), ("bag", tree.infused.bag.bag_code),
            ("bag", tree.shelf), ("collection", tree.other.bag.din)]


def test_the_look_back_lists_exactly_what_a_brute_force_walk_of_every_record_finds(app, tree):
    with app.app_context():
        session = db.session()
        for kind, code in _starts(tree):
            found = lookback.lookback(session, kind, code)
            expected_items, expected_subjects = brute_force(session, kind, code)
            assert {(i.kind, i.code) for i in found.items} == expected_items, (kind, code)
            assert {(r.subject_code, r.bag_code, r.started_at.isoformat()) for r in found.subjects} \
                == expected_subjects, (kind, code)
            assert found.items[0].code == code and found.items[0].parent == ""
        whole = lookback.lookback(session, "collection", tree.din)
    assert {r.subject_code for r in whole.subjects} == {tree.infused.subject.subject_code,
                                                        tree.infused2.subject.subject_code}


def test_each_item_shows_its_status_and_where_it_is(app, tree):
    with app.app_context():
        found = lookback.lookback(db.session(), "bank", tree.wcb)
    rows = {i.code: i for i in found.items}
    assert rows[tree.shelf].position == "LN2-01 > R1 > BX-0001 > B3" and rows[tree.shelf].custody_state == "in_storage"
    assert rows[f"{tree.wcb}-V004"].position == "LN2-01 > R1 > BX-0001 > A1"
    assert rows[f"{tree.wcb}-V001"].status == "thawed" and rows[tree.dosing].parent == f"{tree.wcb}-V001"
    assert rows[tree.infused.bag.bag_code].custody_state == "infused" and rows[tree.dosing].status == "released"
    assert rows[tree.at_bedside.bag.bag_code].custody_state == "at_ward"
    assert tree.mcb not in rows and tree.wcb_lot not in rows  # what the WCB came from is not derived from it


def test_the_look_back_api_csv_and_pdf_carry_the_same_subjects(app, client, auth, api, tree):
    answer = api.get(f"/api/v1/lookback/collection/{tree.din}", as_="investigator")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    subjects = {(s["subject_id"], s["bag_id"]) for s in body["subjects"]}
    assert subjects == {(tree.infused.subject.subject_code, tree.infused.bag.bag_code),
                        (tree.infused2.subject.subject_code, tree.infused2.bag.bag_code)}
    assert body["items"][0] == {"kind": "collection", "id": tree.din, "from": "", "status": "eligible",
                                "custody_state": body["items"][0]["custody_state"], "position": None}
    assert all(s["infusion_started_at"].endswith("Z") for s in body["subjects"])
    assert api.get(f"/api/v1/lookback/collection/{tree.din}", as_="nurse").status_code == 403
    assert api.get("/api/v1/lookback/lot/NO-SUCH-LOT", as_="qa").status_code == 404
    assert api.get(f"/api/v1/lookback/vessel/{tree.din}", as_="qa").status_code == 400
    auth.login("auditor")
    page = client.get(f"/lookback/collection/{tree.din}")
    assert page.status_code == 200 and tree.infused2.subject.subject_code.encode() in page.data
    assert b"LN2-01 &gt; R1 &gt; BX-0001 &gt; B3" in page.data
    sheet = client.get(f"/lookback/collection/{tree.din}/lookback.csv")
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(sheet.data.decode())))
    assert {(r["subject_id"], r["bag_id"]) for r in rows if r["section"] == "subject"} == subjects
    assert {r["id"] for r in rows if r["section"] == "item"} == {i["id"] for i in body["items"]}
    pdf = client.get(f"/lookback/collection/{tree.din}/lookback.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_every_cord_bank_lot_and_bag_page_links_to_its_look_back(app, client, auth, tree):
    auth.login("qa")
    for url, target in ((f"/lab/collections/{tree.din}", f"/lookback/collection/{tree.din}"),
                        (f"/banks/{tree.mcb}", f"/lookback/bank/{tree.mcb}"),
                        (f"/lab/lots/{tree.dosing}", f"/lookback/lot/{tree.dosing}"),
                        (f"/lab/bags/{tree.shelf}", f"/lookback/bag/{tree.shelf}")):
        page = client.get(url)
        assert page.status_code == 200 and f'href="{target}"'.encode() in page.data, url
    auth.logout()
    auth.login("lab")
    assert b'data-testid="lookback-link"' not in client.get(f"/lab/lots/{tree.dosing}").data
