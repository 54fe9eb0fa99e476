"""XSS: markup typed into every free-text field comes back escaped on every page and literally in PDFs.

One site is built with markup in each field a person can type: the names of the people themselves
(so signatures, "performed by" and audit rows carry it), the cord's collection site, every custody
field, batch-step details (names and values), QC reasons, deviation texts, release and reject reasons,
excursion decisions, label reprint and void reasons, the shipper's destination, screening numbers,
reactions, a partial infusion's reason, a hostile wristband scan, the admin's reasons, and an adverse
event's texts and its report's recipient. Then every page is opened as the people who may see it and
searched for live markup, and the reports that print the fields are read back.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pymupdf
import pytest
from sqlmodel import select

from cellchain.demo import lab as demo_lab
from cellchain.demo import loader as demo
from cellchain.demo import qc as demo_qc
from cellchain.demo import trial as demo_trial
from cellchain.identifiers.isbt128 import check_character
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.trial.models import Subject
from cellchain.ward.models import Excursion
from tests.conftest import FAST_HASH, AuthActions, signature
from tests.factories import ward
from tests.factories.lab import in_db
from tests.factories.qc import SAMPLED
from tests.factories.security import routes

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
LIVE = (SCRIPT, "<img src=x onerror=alert(1)>")
# Kept in the record and the API but shown on no page: custody notes; who handed a cord over (printed in the
# chain-of-custody report of that cord's bags); a wristband scan (printed in the report, checked below).
OFF_PAGE = {"Cshipnotes", "Crecvnotes", "Kstorenotes", "Kdispnotes", "Kwardnotes", "Cshipfrom", "Cshipto",
            "Crecvfrom", "Crecvto", "Wscan"}
SCREENING = {"HIV-1/2": "negative", "HBV": "negative", "HCV": "negative", "HTLV-I/II": "negative",
             "syphilis": "negative", "CMV": "negative"}


def payload(tag: str) -> str:
    """Both attacks behind a tag that says which field this is (so a test can tell where it shows)."""
    return f"{tag}{SCRIPT}{ATTRIBUTE}"


def shows_escaped(tag: str, html: str) -> bool:
    """The field's text is on the page as text: its markup escaped (either attack, whichever came first)."""
    return f"{tag}&lt;script&gt;alert(1)&lt;/script&gt;" in html or f"{tag}&#34;&gt;&lt;img src=x" in html


@dataclass
class HostileSite:
    """What was typed where, and the keys of the records that now hold it."""

    typed: dict[str, str] = field(default_factory=dict)
    pdfs: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # name -> (url, tags it prints)
    printed: dict[str, tuple[bytes, tuple[str, ...]]] = field(default_factory=dict)  # labels printed on the way
    keys: dict[str, list[str]] = field(default_factory=dict)  # URL parameter -> keys of hostile records

    def text(self, tag: str) -> str:
        self.typed[tag] = payload(tag)
        return self.typed[tag]


def _ok(response, *codes: int):
    assert response.status_code in (codes or (200, 201)), response.get_data(as_text=True)[:500]
    return response.get_json() if response.is_json else response


def _rename_people(app, hostile: HostileSite) -> None:
    """Every demo person's printed name is markup, before the demo is made (signatures copy the name)."""
    with in_db(app) as session:
        for person in session.exec(select(User)).all():
            person.full_name = hostile.text(f"N{person.username}")
            session.add(person)


def _collection(api, hostile: HostileSite) -> str:
    collected = datetime.now(UTC) - timedelta(hours=6)
    din = _ok(api.post("/api/v1/collections", as_="lab", json={
        "donor_code": "DONOR-XSS1", "collected_at": collected.isoformat(), "site": hostile.text("Ssite"),
        "consent_obtained": True, "screening": SCREENING,
        "specimen_collected_at": (collected - timedelta(days=1)).isoformat()}))["din"]
    for event, temperature, tag in (("shipped", 20.0, "Cship"), ("received", 40.0, "Crecv")):
        _ok(api.post("/api/v1/custody", as_="lab", json={
            "item": din + check_character(din), "event": event, "temperature_c": temperature,
            "location": hostile.text(f"{tag}loc"),
            "condition": hostile.text(f"{tag}cond"), "notes": hostile.text(f"{tag}notes"),
            "handed_over_by": hostile.text(f"{tag}from"), "received_by": hostile.text(f"{tag}to")}))
    return din


def _decide_excursions(app, api, hostile: HostileSite) -> None:
    with in_db(app) as session:
        ids = [x.id for x in session.exec(select(Excursion).where(Excursion.status == "open")).all()]
    for n, excursion_id in enumerate(ids):
        _ok(api.post(f"/api/v1/excursions/{excursion_id}/decide", as_="qa", json={
            "accept": True, "reason": hostile.text(f"Xdecide{n}"), "signature": signature("qa", "accepted")}))


def _lots(app) -> dict[str, str]:
    with in_db(app) as session:
        return {purpose: demo_lab.demo_lot(session, purpose).lot_number
                for purpose in ("expansion", "awaiting_qc", "to_release")}


def _release_with_deviation(api, lot: str, hostile: HostileSite) -> None:
    recorded = _ok(api.get(f"/api/v1/lots/{lot}/qc-results", as_="qc"))
    for n, test in enumerate(recorded["missing"]):
        value = demo_qc.DEMO_VALUES.get(test, "negative")  # sterility, read after release, is not in the demo
        _ok(api.post(f"/api/v1/lots/{lot}/qc-results", as_="qc",
                     json={**SAMPLED, "test": test, "value": value, "reason": hostile.text(f"Qreason{n}")}))
    number = _ok(api.post("/api/v1/deviations", as_="qa", json={
        "kind": "procedural", "lot_id": lot, "description": hostile.text("Ddescription")}))["number"]
    _ok(api.post(f"/api/v1/deviations/{number}/investigate", as_="qa", json={
        "root_cause": hostile.text("Droot"), "impact": hostile.text("Dimpact")}))
    _ok(api.post(f"/api/v1/deviations/{number}/decide", as_="qa", json={
        "decision": "accept", "justification": hostile.text("Djustification")}))
    _ok(api.post(f"/api/v1/deviations/{number}/close", as_="qa", json={"signature": signature("qa", "closed")}))
    _ok(api.post(f"/api/v1/lots/{lot}/release", as_="qa", json={"signature": signature("qa", "released")}))
    hostile.pdfs["release certificate"] = (f"/api/v1/lots/{lot}/release-certificate.pdf", ("Nqa", "Djustification"))
    hostile.pdfs["batch record (released)"] = (f"/api/v1/lots/{lot}/batch-record.pdf", ("Nlab", "Nlab2"))


def _expansion_lot(api, lot: str, hostile: HostileSite) -> None:
    _ok(api.post(f"/api/v1/lots/{lot}/batch-steps", as_="lab", json={
        "step": "wash", "details": {hostile.text("Bkey")[:40]: hostile.text("Bvalue")}}))
    hostile.typed["Bkey"] = hostile.typed["Bkey"][:40]  # a detail's name holds 40 characters
    _ok(api.post(f"/api/v1/lots/{lot}/reject", as_="qa", json={
        "reason": hostile.text("Lreject"), "signature": signature("qa", "rejected")}))
    hostile.pdfs["batch record (rejected)"] = (f"/api/v1/lots/{lot}/batch-record.pdf", ("Bkey", "Bvalue", "Nlab"))


def _bag_to_ward(app, api, lot: str, hostile: HostileSite) -> str:
    bag = _ok(api.get(f"/api/v1/lots/{lot}", as_="lab"))["bags"][-1]
    for event, by, tag in (("stored", "lab", "Kstore"), ("dispatched", "lab", "Kdisp"),
                           ("received_at_ward", "nurse", "Kward")):
        _ok(api.post("/api/v1/custody", as_=by, json={
            "item": bag, "event": event, "temperature_c": 5.0, "location": hostile.text(f"{tag}loc"),
            "condition": hostile.text(f"{tag}cond"), "notes": hostile.text(f"{tag}notes"),
            "handed_over_by": hostile.text(f"{tag}from"), "received_by": hostile.text(f"{tag}to")}))
    hostile.pdfs["chain of custody (hand-overs)"] = (f"/api/v1/bags/{bag}/chain-of-custody.pdf", (
        "Kstoreloc", "Kdispfrom", "Kwardto", "Kwardcond", "Nlab", "Nnurse", "Nqa"))
    return bag


def _labels(api, bag: str, hostile: HostileSite) -> None:
    _ok(api.get(f"/api/v1/bags/{bag}/label.pdf", as_="lab"))
    reprint = api._client.get(f"/api/v1/bags/{bag}/label.pdf", query_string={"reason": hostile.text("Greprint")},
                              headers=api.headers("qa"))
    assert reprint.status_code == 200, reprint.get_data(as_text=True)[:300]
    labels = _ok(api.get(f"/api/v1/labels?target=bag&key={bag}", as_="lab"))["labels"]
    _ok(api.post(f"/api/v1/labels/{labels[0]['label_id']}/status", as_="lab",
                 json={"status": "voided", "reason": hostile.text("Gvoid")}))
    shipper = api.post("/api/v1/shipments/label", as_="lab", json={"bags": [bag], "ship_to": hostile.text("Hship")})
    assert shipper.status_code == 200, shipper.get_data(as_text=True)[:300]
    hostile.printed["shipper label"] = (shipper.data, ("Hship",))


def _trial(app, api, hostile: HostileSite) -> str:
    today = ward.site_today()
    answers = {**demo_trial.ALL_INCLUDED, **demo_trial.NO_EXCLUSIONS}
    hostile.typed["T"] = ATTRIBUTE  # the screening number holds 30 characters: the attribute attack fits
    code = _ok(api.post("/api/v1/subjects", as_="coordinator", json={
        "screening_number": ATTRIBUTE, "birth_date": "1970-01-01", "sex": "male", "weight_kg": 70.0,
        "day0": today.isoformat(), **answers}))["subject_id"]
    band = api.get(f"/api/v1/subjects/{code}/wristband.pdf", as_="coordinator")
    assert band.status_code == 200, band.get_data(as_text=True)[:300]
    hostile.printed["wristband"] = (band.data, ("T",))
    _ok(api.post("/api/v1/randomization-list/extend", as_="admin", json={"extra": 4, "reason": hostile.text("Rext")}))
    return code


def _bedside(app, api, hostile: HostileSite) -> tuple[str, int]:
    ward._sequence = itertools.count(9000)  # past the demo's subject codes SUBJ-0001..
    with in_db(app) as session:
        ready = ward.bedside_ready(session)
        wristband, bag_scan, bag = ready.wristband, ready.bag_scan, ready.bag.bag_code
    hostile.typed["Wscan"] = f"&#{payload('Wscan')}"
    refused = _ok(api.post("/api/v1/infusions/verify", as_="nurse",
                           json={"wristband": hostile.typed["Wscan"], "bag": bag_scan}), 200, 400)
    assert refused.get("ok") is not True
    started = _ok(api.post("/api/v1/infusions", as_="nurse", json={
        "wristband": wristband, "bag": bag_scan, "verifier": signature("nurse2", "verified")}))
    ended = datetime.now(UTC).isoformat()
    _ok(api.post(f"/api/v1/infusions/{started['infusion_id']}/complete", as_="nurse", json={
        "volume_ml": 45.0, "ended_at": ended, "ultrasound_monitored": True, "partial_reason": hostile.text("Ipartial"),
        "reactions": [{"description": hostile.text("Ireaction"), "severity": "mild"}]}))
    hostile.pdfs["chain of custody (infusion)"] = (f"/api/v1/bags/{bag}/chain-of-custody.pdf",
                                                   ("Ireaction", "Nnurse", "Nnurse2", "Wscan"))
    return bag, started["infusion_id"]


def _adverse_event(api, subject: str, hostile: HostileSite) -> None:
    """A serious acute rejection with markup in its texts, confirmed and reported to a desk named with markup."""
    event = _ok(api.post("/api/v1/adverse-events", as_="investigator", json={
        "subject_id": subject, "term": hostile.text("Aterm"), "category": "acute_rejection",
        "description": hostile.text("Adesc"), "onset_on": ward.site_today().isoformat(), "grade": 3,
        "seriousness": ["hospitalisation"], "causality": "unlikely", "expectedness": "expected",
        "action_taken": "not_changed", "outcome": "recovering", "biopsy_proven": True,
        "rejection_treatment": hostile.text("Atreat")}))
    _ok(api.post(f"/api/v1/adverse-events/{event['id']}/confirm", as_="investigator",
                 json={"signature": signature("investigator", "approved")}))
    _ok(api.post(f"/api/v1/adverse-events/{event['id']}/sae-reports", as_="investigator",
                 json={"signature": signature("investigator", "authored"), "sent_to": hostile.text("Asent")}))


def _clinical_deviation(api, subject: str, hostile: HostileSite) -> None:
    """A clinical protocol deviation with markup in its text, its rejection note and its closing note."""
    row = _ok(api.post("/api/v1/clinical-deviations", as_="coordinator", json={
        "subject_id": subject, "kind": "other", "description": hostile.text("Cdesc")}), 201)
    _ok(api.post(f"/api/v1/clinical-deviations/{row['id']}/decision", as_="investigator", json={
        "signature": signature("investigator", "rejected"), "note": hostile.text("Cnote")}))
    _ok(api.post(f"/api/v1/clinical-deviations/{row['id']}/close", as_="coordinator",
                 json={"note": hostile.text("Cclose")}))
    hostile.keys["deviation_id"] = [str(row["id"])]


def _storage(api, hostile: HostileSite) -> None:
    """A unit, shelf and box named with markup, and a reading with notes."""
    _ok(api.post("/api/v1/storage/units", as_="lab", json={"code": "XSS-1", "name": hostile.text("Sunit"),
                                                            "kind": "refrigerator"}))
    _ok(api.post("/api/v1/storage/units/XSS-1/locations", as_="lab", json={"code": "XSS-R", "kind": "shelf",
                                                                            "name": hostile.text("Sshelf")}))
    _ok(api.post("/api/v1/storage/locations/XSS-R/boxes", as_="lab", json={"code": "XSS-B", "rows": 2, "columns": 2,
                                                                            "name": hostile.text("Sbox")}))
    _ok(api.post("/api/v1/storage/units/XSS-1/readings", as_="lab", json={"temperature_c": 5.0,
                                                                           "notes": hostile.text("Snotes")}))
    hostile.keys.update({"unit_code": ["XSS-1"], "location_code": ["XSS-R"], "box_code": ["XSS-B"],
                         "position_code": ["XSS-B-A1"], "instrument_code": ["XSS-1"]})  # a unit is an instrument


def _admin_forms(client, hostile: HostileSite) -> int:
    auth = AuthActions(client)
    auth.login("admin")
    created = auth.post("/admin/users", {"username": "xss", "full_name": hostile.text("Uname"),
                                         "password": "a-long-password", "roles": "lab"})
    assert created.status_code in (200, 303), created.data[:300]
    with in_db(client.application) as session:
        user_id = session.exec(select(User.id).where(User.username == "xss")).one()
    _ok(auth.post(f"/admin/users/{user_id}/roles", {"roles": ["lab", "qc"], "reason": hostile.text("Uroles")}),
        200, 303)
    _ok(auth.post(f"/admin/users/{user_id}/active", {"active": "0", "reason": hostile.text("Uactive")}), 200, 303)
    auth.logout()
    return user_id


def _bank(app, api, hostile: HostileSite) -> dict[str, list[str]]:
    """A master cell bank frozen with markup as its cryoprotectant; the bank, vial and genealogy keys."""
    from tests.factories.lab import make_lot

    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 4_000_000)])
        lot.purpose = "bank"
        session.add(lot)
        din = lot.din
    bank = _ok(api.post(f"/api/v1/lots/{din}/bank", as_="lab", json={
        "level": "MCB", "passage": 0, "vial_count": 2, "cells_per_vial": 1e6,
        "cryoprotectant": hostile.text("Bcryo")}), 201)["bank_code"]
    return {"bank_code": [bank], "vial_code": [f"{bank}-V001"], "record_type": ["lot", "bag"]}


@pytest.fixture
def hostile(app, client, api):
    site = HostileSite()
    _rename_people(app, site)
    with in_db(app) as session:
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
    din = _collection(api, site)
    _decide_excursions(app, api, site)
    lots = _lots(app)
    _expansion_lot(api, lots["expansion"], site)
    _release_with_deviation(api, lots["awaiting_qc"], site)
    custody_bag = _bag_to_ward(app, api, lots["to_release"], site)
    _labels(api, custody_bag, site)
    subject = _trial(app, api, site)
    infused_bag, infusion_id = _bedside(app, api, site)
    _adverse_event(api, subject, site)
    _clinical_deviation(api, subject, site)
    _admin_forms(client, site)
    banked = _bank(app, api, site)
    _storage(api, site)
    _printer(api, site)
    site.keys = {**_keys(app, din=din, lots=list(lots.values()), bags=[custody_bag, infused_bag], subject=subject,
                         infusion_id=infusion_id), **banked, **site.keys}
    return site


def _printer(api, hostile: HostileSite) -> None:
    """A label printer whose place is markup (the registry page and the print pages list it)."""
    _ok(api.post("/api/v1/printers", as_="qa", json={"name": "XSS printer", "place": hostile.text("Gplace"),
                                                      "kind": "zpl", "address": "127.0.0.1:9", "dpi": 203,
                                                      "label_sizes": ["101.6x101.6"]}))


def _keys(app, *, din: str, lots: list[str], bags: list[str], subject: str, infusion_id: int) -> dict[str, list[str]]:
    """Each URL parameter's values: the records that hold markup (and one made of markup itself)."""
    from cellchain.manufacturing.models import LabelPrint
    from cellchain.notices.models import Notification
    from cellchain.quality.models import Deviation, Hold
    from cellchain.safety.models import AdverseEvent
    from cellchain.trial.models import Visit
    from cellchain.ward.models import BedsideCheck

    with in_db(app) as session:
        subjects = [s.subject_code for s in session.exec(select(Subject)).all()]
        shipments = [p.item_key for p in session.exec(select(LabelPrint).where(LabelPrint.label_kind == "shipper"))]
        return {
            "din": [din, *lots], "lot_id": lots, "bag_id": bags, "bag_code": bags, "subject_code": [subject, *subjects],
            "subject_id": [subject], "number": [d.number for d in session.exec(select(Deviation)).all()],
            "infusion_id": [str(infusion_id)],
            "check_id": [str(c.id) for c in session.exec(select(BedsideCheck))][:2] or ["1"],
            "excursion_id": [str(x.id) for x in session.exec(select(Excursion))],
            "user_id": [str(u.id) for u in session.exec(select(User)).all()], "shipment_id": shipments,
            "label_id": [str(p.id) for p in session.exec(select(LabelPrint)).all()][:3],
            "visit_id": [str(v.id) for v in session.exec(select(Visit)).all()][:2],
            "step_id": ["1"],
            "hold_id": [str(h.id) for h in session.exec(select(Hold)).all()] or ["1"],
            "notice_id": [str(n.id) for n in session.exec(select(Notification)).all()][:2] or ["1"],
            "event_id": [str(e.id) for e in session.exec(select(AdverseEvent).order_by(AdverseEvent.id.desc()))][:2],
        }


def _url_sets(keys: dict[str, list[str]]) -> list[dict[str, str]]:
    """Enough value sets that each key of each parameter is used once, plus labels' (type, key) pairs and a
    set made of markup itself (the error page repeats an unknown key)."""
    longest = max(len(v) for v in keys.values())
    sets = [{name: values[n % len(values)] for name, values in keys.items()} for n in range(longest)]
    pairs = [("bag", b) for b in keys["bag_id"]] + [("collection", keys["din"][0]), ("subject", keys["subject_id"][0])]
    sets += [{**sets[0], "item_type": kind, "key": key} for kind, key in pairs]
    # no "/" in the markup set: it must reach a view
    sets.append(dict.fromkeys([*keys, "item_type", "key", "kind", "code", "mail_id", "certificate_id",
                               "material_code"],
                              f"Ppath{ATTRIBUTE}"))
    for values in sets[:-1]:
        values.setdefault("item_type", "bag")
        values.setdefault("key", keys["bag_id"][0])
        values.setdefault("kind", "lot")  # the look-back of a lot whose records hold markup
        values.setdefault("code", keys["lot_id"][0])
        values.setdefault("mail_id", "1")
        values.setdefault("certificate_id", "1")
        values.setdefault("material_code", "ML-000001")
    return sets


def _live(html: str) -> list[str]:
    return [marker for marker in LIVE if marker in html]


def _crawl(app, hostile: HostileSite) -> tuple[list[str], dict[str, set[str]]]:
    """Open every page as each person who may; the live markup found, and where each field shows escaped."""
    from tests.factories.security import fill

    problems, shown = [], {}
    pages = [r for r in routes(app, api=False) if r.method == "GET"]
    query = {name: payload("Qquery") for name in ("scan", "next", "actor", "record_type", "record_id", "status",
                                                  "lot_id", "din", "reason", "h", "bag", "passage", "vessels")}
    for username in ("auditor", "qa", "lab", "qc", "coordinator", "nurse", "admin"):
        browser = app.test_client()
        AuthActions(browser).login(username)
        seen = set()
        for values in _url_sets(hostile.keys):
            for route in pages:
                url = fill(route.rule, values)
                for query_string in ({}, query):
                    key = (url, bool(query_string))
                    if key in seen:
                        continue
                    seen.add(key)
                    response = browser.get(url, query_string=query_string)
                    if response.mimetype != "text/html":
                        response.close()
                        continue
                    html = response.get_data(as_text=True)
                    problems += [f"{username} GET {url[:90]} ({response.status_code}): {m}" for m in _live(html)]
                    for tag in [*hostile.typed, "Qquery", "Ppath"]:
                        if shows_escaped(tag, html) or (tag == "T" and shows_escaped("", html)):
                            shown.setdefault(tag, set()).add(route.rule)
    return problems, shown


def test_markup_typed_anywhere_is_escaped_on_every_page(app, hostile):
    problems, shown = _crawl(app, hostile)
    assert not problems, "\n" + "\n".join(problems)
    never_shown = set(hostile.typed) - set(shown)
    assert never_shown <= OFF_PAGE, f"fields typed but shown on no page: {sorted(never_shown - OFF_PAGE)}"
    assert "Qquery" in shown and "Ppath" in shown  # reflected input is escaped too


def _pdf_text(data: bytes) -> str:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return "".join(page.get_text() for page in document)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_reports_print_the_markup_literally(app, api, hostile):
    """reportlab's Paragraph reads markup: unescaped, a tag would vanish or break the report."""
    missing = []
    for name, (url, tags) in hostile.pdfs.items():
        response = api.get(url, as_="qa")
        assert response.status_code == 200 and response.mimetype == "application/pdf", (name, response.data[:300])
        text = _squeezed(_pdf_text(response.data))
        missing += [f"{name}: {tag}" for tag in tags if _squeezed(hostile.typed[tag]) not in text]
    for name, (data, tags) in hostile.printed.items():
        text = _squeezed(_pdf_text(data))
        missing += [f"{name}: {tag}" for tag in tags if _squeezed(hostile.typed[tag]) not in text]
    assert not missing, "\n" + "\n".join(missing)


def test_every_report_renders_with_markup_in_its_data(app, hostile):
    browser = app.test_client()
    AuthActions(browser).login("qa")
    for url in ["/reports/accountability.pdf", "/reports/dosing.pdf", "/reports/accountability.csv",
                "/safety/listing.pdf", "/safety/listing.csv",
                *(f"/reports/bags/{bag}/chain-of-custody.pdf" for bag in hostile.keys["bag_id"])]:
        response = browser.get(url)
        assert response.status_code == 200, url
        if url.endswith(".pdf"):
            assert _pdf_text(response.data)


def test_the_audit_export_keeps_markup_as_text(app, hostile):
    browser = app.test_client()
    AuthActions(browser).login("auditor")
    csv = browser.get("/audit/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert f"Ssite{SCRIPT}" in csv.get_data(as_text=True)  # (its quote is doubled by JSON and CSV)
