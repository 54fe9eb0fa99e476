"""A person who chooses Chinese on the Language page reads EVERY page in Chinese (docs/architecture.md,
"Languages"): each GET page of the app, found in its URL map so a new page is visited without editing this
file, opened on the demo site by a role allowed to open it, on a 768 px wide tablet. The page says it is
simplified Chinese (``<html lang="zh-Hans">``), opens (no 404, no 500), fits the screen, and its visible text
has no run of English words other than codes, units, names and what a person typed. A screenshot of each
page (the screen, not the whole scroll) goes to test-artifacts/<test>/.

A route variable is filled from the demo's records (``DEMO``), with frozen stock added to the demo through
the real operations (``_frozen_stock``: a thawed bag on the ward, a shipment on its way with its shipper label
printed and not yet applied); a page with no record to fill its address is listed in ``NOT_VISITED`` with the
reason, and a route that is neither fails ``test_every_page_is_visited_or_listed``.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from flask import url_for
from sqlmodel import Session, select

from cellchain import ROOT
from cellchain.banking.models import CellBank, Vial
from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.core.words.labels import VOCABULARY
from cellchain.demo import lab as demo_lab
from cellchain.demo import loader as demo
from cellchain.demo import supply
from cellchain.equipment.models import Instrument
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.manufacturing.models import Bag, BatchStep, Collection, LabelPrint, Lot
from cellchain.manufacturing.rules.batch_record import BANK_FREEZE, DEFAULT_STEPS
from cellchain.materials.models import MaterialLot
from cellchain.people import accounts
from cellchain.people.accounts import Policy
from cellchain.quality.models import Deviation, Hold, Specification
from cellchain.safety.models import AdverseEvent, ClinicalDeviation
from cellchain.storage.models import Placement, StorageBox, StorageLocation, StorageUnit
from cellchain.storage.rules import layout
from cellchain.trial import subjects, visits
from cellchain.trial.models import Subject
from cellchain.ward import custody, thaw
from cellchain.ward.models import BedsideCheck, Infusion
from tests.browser.conftest import ARTIFACTS, login
from tests.conftest import FAST_HASH

ROLES = ("lab", "qc", "qa", "coordinator", "nurse", "investigator", "admin", "auditor")
TABLET = {"width": 768, "height": 1024}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SAME_IN_BOTH = {"QC"}  # a menu entry written alike in both languages

# GET routes that answer with a document to download or a picture, not a page: the ones named for their
# format (.pdf, .csv, .svg) are found by their name, the others are listed here.
DOCUMENT_SUFFIXES = (".pdf", ".csv", ".svg", ".zpl", ".png")
NOT_PAGES = {
    "materials.certificate": "the supplier's certificate of analysis, a PDF",
    "ward.thaw_label_document": "the post-thaw label, a PDF or ZPL document",
    "labels.bag_label": "a bag's label, a PDF or ZPL document",
    "labels.collection_label": "a collection's label, a PDF or ZPL document",
    "labels.lot_bag_labels": "a lot's bag labels, a PDF or ZPL document",
    "labels.qc_tube_labels": "a lot's QC sample tube labels, a PDF or ZPL document",
    "labels.wristband": "a subject's wristband, a PDF or ZPL document",
    "handover.shipper_label": "the shipper label of a dispatch, a PDF or ZPL document (printing it records the print)",
}
# Pages with no record to fill their address with (none now: the demo and ``_frozen_stock`` fill every one).
NOT_VISITED: dict[str, str] = {}
# English a page may still show, by endpoint: its pattern on that page (None: the whole page), the rest of the
# page still checked. Empty: every page reads Chinese.
KNOWN_ENGLISH: dict[str, str | None] = {}


def _first(column, *where, order=None) -> Callable[[Session], str]:
    def find(session: Session) -> str:
        return str(session.exec(select(column).where(*where).order_by(order if order is not None else column))
                   .first())
    return find


def _position(session: Session) -> str:
    placed = session.exec(select(Placement).where(Placement.taken_at.is_(None)).order_by(Placement.id)).first()
    box = session.get(StorageBox, placed.box_id)
    return layout.position_code(box.code, placed.row, placed.column)


def _step(session: Session) -> dict[str, str]:
    step = session.exec(select(BatchStep).order_by(BatchStep.id)).first()
    return {"lot_id": session.get(Lot, step.lot_id).lot_number, "step_id": str(step.id)}


_BAG = _first(Bag.bag_code, order=Bag.id)
_LOT = _first(Lot.lot_number, order=Lot.id)
_RELEASED_LOT = _first(Lot.lot_number, Lot.status == "released", order=Lot.id)
_BANK_LOT = _first(Lot.lot_number, Lot.purpose == "bank", order=Lot.id)
_LOT_TO_RELEASE = _first(Lot.lot_number, Lot.status == "awaiting_release", order=Lot.id)
_SUBJECT = _first(Subject.subject_code, Subject.subject_code.is_not(None), order=Subject.id)

# A demo record for each route variable, by the variable's name; a page that needs a particular record
# (a bank lot to freeze, a lot awaiting release) names its endpoint.
DEMO: dict[str, Callable[[Session], str]] = {
    "bag_id": _BAG,
    "bag_code": _BAG,
    "din": _first(Collection.din, order=Collection.id),
    "lot_id": _LOT,
    "bank_code": _first(CellBank.bank_code, order=CellBank.id),
    "vial_code": _first(Vial.vial_code, order=Vial.id),
    "instrument_code": _first(Instrument.code, order=Instrument.id),
    "subject_code": _SUBJECT,
    "material_code": _first(MaterialLot.code, order=MaterialLot.id),
    "number": _first(Deviation.number, order=Deviation.id),
    "hold_id": _first(Hold.id),
    "deviation_id": _first(ClinicalDeviation.id),
    "event_id": _first(AdverseEvent.id),
    "box_code": _first(StorageBox.code, order=StorageBox.id),
    "location_code": _first(StorageLocation.code, order=StorageLocation.id),
    "unit_code": _first(StorageUnit.code, order=StorageUnit.id),
    "position_code": _position,
    "check_id": _first(BedsideCheck.id),
    "infusion_id": _first(Infusion.id),
    "label_id": _first(LabelPrint.id, LabelPrint.status == "printed"),  # printed, not yet applied
    "shipment_id": _first(LabelPrint.item_key, LabelPrint.label_kind == "shipper", order=LabelPrint.id),
}
DEMO_FOR: dict[str, Callable[[Session], dict[str, str]]] = {
    "banks.tree_of": lambda session: {"record_type": "bag", "key": _BAG(session)},
    "labels.print_page": lambda session: {"item_type": "bag", "key": _BAG(session)},
    "recall.page": lambda session: {"kind": "lot", "code": _RELEASED_LOT(session)},
    "materials.step_materials": _step,
    "lab.open_scan": lambda session: {"scan": _BAG(session)},  # a scanned code, opened as its record's page
    "banks.freeze": lambda session: {"lot_id": _BANK_LOT(session)},
    "qa.lot": lambda session: {"lot_id": _LOT_TO_RELEASE(session)},
    "qa.verify_certificate": lambda session: {"lot_id": _RELEASED_LOT(session)},
    "ward.thawed": lambda session: {"bag_id": _first(Bag.bag_code, Bag.thawed_at.is_not(None), order=Bag.id)(session)},
}


def page_routes(app) -> dict[str, object]:
    """Every GET route of the page blueprints that answers with a page, by endpoint."""
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint.split(".")[-1] == "static":
            continue
        if rule.rule.endswith(DOCUMENT_SUFFIXES) or rule.endpoint in NOT_PAGES:
            continue
        found[rule.endpoint] = rule
    return found


def _fillable(rule) -> bool:
    return rule.endpoint in DEMO_FOR or all(name in DEMO for name in rule.arguments)


@pytest.mark.parametrize("listed", [NOT_PAGES, NOT_VISITED, KNOWN_ENGLISH, DEMO_FOR])
def test_every_listed_page_exists(app, listed):
    """A list naming a page that is gone would hide nothing and mislead: it names only real endpoints."""
    assert set(listed) - set(app.view_functions) == set()


def test_every_page_is_visited_or_listed(app):
    """A new page with an address the demo cannot fill, and not listed with a reason, fails here."""
    unfilled = sorted(rule.rule for endpoint, rule in page_routes(app).items()
                      if endpoint not in NOT_VISITED and not _fillable(rule))
    assert unfilled == [], "fill these in DEMO, DEMO_FOR or list them in NOT_VISITED with the reason"
    assert set(NOT_VISITED) <= set(page_routes(app)), "a listed page is a document, not a page"


def _typed_by_people(app) -> list[str]:
    """What people typed, shown as typed in either language: the demo's names, notes, reasons and places
    (from the demo's source), the site's and its facility's names (its configuration), each login name, and
    the wording of the published QC specification (QA publishes it as a controlled document)."""
    typed = {app.config["SITE_NAME"], app.config["FACILITY_NAME"],
             *(username for username, _name, _roles in demo.PEOPLE)}
    for source in Path(demo.__file__).parent.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        formatted = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            # a sentence, or a piece of one written with values in it
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    " " in node.value.strip() or (id(node) in formatted and node.value.strip().istitle())):
                typed.update(part.strip() for part in node.value.split("\n") if part.strip())
    with app.app_context():
        for specification in db.session().exec(select(Specification)):
            typed.update(_strings(specification.definition))
    return sorted(typed, key=len, reverse=True)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value) > 2 else []
    if isinstance(value, dict):
        return [found for item in value.values() for found in _strings(item)]
    if isinstance(value, list):
        return [found for item in value for found in _strings(item)]
    return []


def _known_words() -> set[str]:
    """Single English words the app has a word for in Chinese: shown in English, they were not translated."""
    with (ROOT / "cellchain/translations/zh/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    words = {str(message.id) for message in catalogue if isinstance(message.id, str)
             and re.fullmatch(r"[A-Za-z]+", message.id)}
    words |= {code for code in VOCABULARY if re.fullmatch(r"[a-z]+", code)}
    return {word.lower() for word in words} - CODES_ALIKE


# Sentences a record stores, worded when it was made in the language of the person whose act made it
# (docs/architecture.md, "Languages"): the demo's out-of-specification deviation and the hold it raised were
# made in English, and so was the note of the adverse event a nurse reported at the end of an infusion.
STORED_SENTENCES = re.compile(r"Out-of-specification result \d+: [^\n]*|[^\n\t]* result \d+ after release is [^\n\t]*"
                              r"|Recorded by the[^\n\t]*at the end of infusion[^\n\t]*")
# Text written alike in both languages: the product's name, the names of barcode symbologies, citations of
# regulations and pharmacopoeias, and a batch step's code in brackets after its name
# (``最终收获（harvest）``, ``P1 (passage:1)``).
_STEPS = "|".join(re.escape(step.code).replace("_", "[_ ]") for step in (*DEFAULT_STEPS, BANK_FREEZE))
ALIKE = re.compile(rf"cellchain|Code 128|Data Matrix|QR|\d+ CFR Part \d+|Ph\. Eur\. [\d.]+|USP <\d+>"
                   rf"|[（(](?:{_STEPS})(?::\d+)?[）)]")
# Single words that are also codes shown as codes (a QC test's code in its list) or units.
CODES_ALIKE: set[str] = set()
# Two or more English words in a row (letters only, each with a small letter: ``DIN``, ``MCB-0001`` and
# ``BSC-01`` are codes, not words); a single word only when the app has a Chinese word for it.
WORD = r"[A-Za-z]*[a-z][A-Za-z]*"
ENGLISH_RUN = re.compile(rf"(?<![\w.@/-]){WORD}(?:[ ,;:'’]+{WORD})+(?![\w@/-])")
ENGLISH_WORD = re.compile(rf"(?<![\w.@/-]){WORD}(?![\w@/-])")
# The page's visible text without what is marked as not to be translated: codes (<code>, <kbd>, <samp>)
# and anything in an element with translate="no" (a person's entry, a language's own name).
VISIBLE_TEXT = """() => {
  document.querySelectorAll('code, kbd, samp, [translate=no]').forEach(e => { e.textContent = ' '; });
  return document.body.innerText;
}"""


def english_in(text: str, typed: list[str], known: set[str]) -> list[str]:
    if typed:
        text = re.sub("|".join(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])" for value in typed), " ", text)
    text = STORED_SENTENCES.sub(" ", ALIKE.sub(" ", text))
    runs = set(ENGLISH_RUN.findall(text))
    words = {word for word in ENGLISH_WORD.findall(ENGLISH_RUN.sub(" ", text)) if word.lower() in known}
    return sorted(runs | words)


def _choose_chinese(page) -> None:
    page.click("[data-testid=language-link]")
    page.check("input[name=language][value=zh]")
    page.click("form[action$='/auth/language'] button[type=submit]")
    page.wait_for_selector("html[lang=zh-Hans]")


def _assert_menu_in_chinese(page, where: str) -> None:
    menu = [label.strip() for label in page.locator("header nav a").all_inner_texts()]
    assert menu, where
    english = [label for label in menu if not CHINESE.search(label) and label not in SAME_IN_BOTH]
    assert english == [], f"{where}: menu entries in English {english}"
    top_bar = page.inner_text("[data-testid=inbox-link]") + page.inner_text("[data-testid=language-link]")
    assert "收件箱" in top_bar and "语言" in top_bar, where
    assert "北京时间" in page.inner_text("footer"), where


@pytest.fixture
def demo_site(app):
    with app.app_context():
        policy = Policy(hash_method=FAST_HASH)
        demo.load(db.session(), policy=policy, config=app.config)
        _frozen_stock(db.session(), config=app.config, policy=policy)
        db.commit()
    return app


def _frozen_stock(session: Session, *, config, policy: Policy) -> None:
    """Stock on its way to and on the ward, by the real operations as the demo people: a cryopreserved lot
    thawed from a WCB vial, filled yesterday and released, one of its bags shipped in liquid-nitrogen vapour,
    received on the ward and thawed there half an hour ago (its post-thaw label printed); and a released
    fresh bag dispatched ten minutes ago, its shipper label printed and not yet applied to the container."""
    lab, nurse = accounts.find_user(session, "lab"), accounts.find_user(session, "nurse")
    who = demo_lab.Actors(lab, accounts.find_user(session, "lab2"), policy, config)
    story = supply._Story(who, ZoneInfo(config["SITE_TIMEZONE"]), subjects.Protocol.from_config(config), config)
    fill_day = visits.site_today(config["SITE_TIMEZONE"]) - timedelta(days=1)
    lot = supply._dosing_lot(session, story, fill_day, [], 0, frozen=True)
    supply._test_and_release(session, story, lot, fill_day)
    thawed = session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.id)).first()
    now, ranges = utcnow(), config["TEMPERATURE_RANGES"]
    shipped = session.exec(select(Bag).where(Bag.quality_status == "released", Bag.custody_state == "at_lab",
                                             Bag.preservation == "fresh", Bag.expires_at > now)
                           .order_by(Bag.id)).first()
    labels = LabelSettings.from_config(config)
    for bag, minutes, temperature in ((thawed, 150, -175.0), (shipped, 10, 5.0)):
        custody.record_handover(session, actor=lab, record=bag, ranges=ranges, handover=custody.Handover(
            event="dispatched", location="cell processing lab", occurred_at=now - timedelta(minutes=minutes),
            temperature_c=temperature, handed_over_by=lab.full_name, received_by="hospital courier"))
    custody.record_handover(session, actor=nurse, record=thawed, ranges=ranges, handover=custody.Handover(
        event="received_at_ward", location="liver transplant ward", occurred_at=now - timedelta(minutes=100),
        temperature_c=-170.0, handed_over_by="hospital courier", received_by=nurse.full_name))
    session.flush()
    thaw.thaw(session, actor=nurse, bag_scan=thawed.bag_code, thawed_at=now - timedelta(minutes=30), labels=labels,
              thawed_life=timedelta(hours=config["THAWED_SHELF_LIFE_HOURS"]))
    print_jobs.print_shipper(session, actor=lab, bag_codes=[shipped.bag_code], ship_to="liver transplant ward",
                             settings=labels)


def _addresses(app) -> dict[str, list[tuple[str, str]]]:
    """The pages to visit, by the role that visits them: ``role -> [(endpoint, address)]``."""
    by_role: dict[str, list[tuple[str, str]]] = {role: [] for role in ROLES}
    with app.app_context():
        session = db.session()
        for endpoint, rule in sorted(page_routes(app).items()):
            if endpoint in NOT_VISITED:
                continue
            values = DEMO_FOR[endpoint](session) if endpoint in DEMO_FOR else {
                name: DEMO[name](session) for name in rule.arguments}
            allowed = getattr(app.view_functions[endpoint], "required_roles", None) or ROLES
            role = next(role for role in ROLES if role in allowed)
            with app.test_request_context():
                by_role[role].append((endpoint, url_for(endpoint, **values)))
    return by_role


@pytest.mark.browser
def test_every_page_reads_in_chinese_for_a_person_who_chose_chinese(demo_site, browser, live_server, request):
    shots = ARTIFACTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    visited, problems = visit_every_page(demo_site, browser, live_server, shots)
    assert visited >= 60, "fewer pages than the app has"
    assert problems == {}, "\n".join(f"{where}: {what}" for where, what in problems.items())


def visit_every_page(app, browser, base_url: str, shots: Path) -> tuple[int, dict[str, str]]:
    """Each page as a role allowed to open it, in Chinese: how many, and what is wrong where."""
    typed, known = _typed_by_people(app), _known_words()
    problems: dict[str, str] = {}
    n = 0
    for role, pages in _addresses(app).items():  # every role, for its own menu, even with no page of its own
        context = browser.new_context(base_url=base_url, viewport=TABLET)
        try:
            page = context.new_page()
            page.set_default_timeout(10_000)
            login(page, role)
            page.wait_for_selector("[data-testid=current-user]")
            _choose_chinese(page)
            page.goto("/")
            _assert_menu_in_chinese(page, f"{role} home")
            page.screenshot(path=str(shots / f"{role}-home.png"))
            for endpoint, address in pages:
                response = page.goto(address)
                n += 1
                page.screenshot(path=str(shots / f"{n:03d}-{role}-{endpoint}.png"))
                found = []
                if response is None or response.status >= 400:
                    found.append(f"answered {response and response.status}")
                if page.get_attribute("html", "lang") != "zh-Hans":
                    found.append(f"lang={page.get_attribute('html', 'lang')}")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > TABLET["width"]:
                    found.append(f"{width} px wide")
                if endpoint not in KNOWN_ENGLISH or KNOWN_ENGLISH[endpoint] is not None:
                    text = re.sub(KNOWN_ENGLISH.get(endpoint) or "(?!)", " ", page.evaluate(VISIBLE_TEXT))
                    english = english_in(text, typed, known)
                    if english:
                        found.append(f"English: {english}")
                if found:
                    problems[f"{role} {address} ({endpoint})"] = "; ".join(found)
        finally:
            context.close()
    return n, problems
