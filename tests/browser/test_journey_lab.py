"""A lab technician's day in the browser: a cord arrives, is grown into a lot, filled into bags, labelled.

Everything under test goes through the pages, as Li Wei (lab) does it and as Huang Tao (lab2) checks it:
no API call, no service call. Scans are keystrokes into the scan box followed by Enter, as a wedge
scanner sends them. The bag labels are read back with a barcode decoder from the printed PDF.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pymupdf
import pytest
import zxingcpp

from cellchain.identifiers.isbt128 import Din, check_character
from tests.browser.conftest import login
from tests.browser.wedge import assert_scan_focus, done, local_input, scan, submit
from tests.conftest import PASSWORD
from tests.factories import materials

pytestmark = pytest.mark.browser

SCREENING = ("HIV-1/2", "HBV", "HCV", "HTLV-I/II", "syphilis", "CMV")
PASSAGES = (  # (number, seeded, harvested, viability %, seeded days ago, harvested days ago)
    (0, 2_000_000, 8_000_000, 96.5, 9, 6),
    (1, 4_000_000, 20_000_000, 95.0, 6, 4),
    (2, 10_000_000, 60_000_000, 94.0, 4, 2),
)
# The heparin lot the fill names: the demo's released lot's number (cellchain/demo/materials.py), received
# and released in the test's database before the journey, as a site's fill needs (MATERIAL_LOTS_REQUIRED).
ANTICOAGULANT_LOT = "HEP2611A"
BAG_CODE = re.compile(r"^(?P<din>[A-Z0-9]{13})-(?P<product>[A-Z0-9]{5}[A-Z])(?P<division>[A-Z0-9]{2})$")


def _register_cord(page, tz: ZoneInfo) -> str:
    page.goto("/lab/")
    page.click("text=Register a cord")
    page.fill("input[name=donor_code]", "DONOR-0042")
    page.fill("input[name=collected_at]", local_input(tz, days=10))
    page.fill("input[name=site]", "Delivery room 2")
    page.check("input[name=consent_obtained][value=yes]")
    for test in SCREENING:
        page.select_option(f"select[name='screening.{test}']", "negative")
    page.fill("input[name=specimen_collected_at]", local_input(tz, days=10, hours=2))
    page.shots("register-cord-form")
    submit(page, page.locator("button", has_text="Register and issue DIN"))
    din = page.inner_text("[data-testid=din]")
    assert "Eligible" in page.inner_text("[data-testid=eligibility]")
    assert f"Cord registered with DIN {din}" in done(page)
    page.shots("cord-registered")
    return din


def _handover(page, event: str, location: str, temperature: str, occurred_at: str) -> None:
    form = page.locator("#receive form")
    form.locator("select[name=event]").select_option(event)
    form.locator("input[name=location]").fill(location)
    form.locator("input[name=temperature_c]").fill(temperature)
    form.locator("input[name=occurred_at]").fill(occurred_at)
    submit(page, form.locator("button[type=submit]"))
    assert f"Cord {event} at {location}" in done(page)


def _scan_from_lab_index(page, data: str) -> None:
    page.goto("/lab/")
    scan(page, data)


def _refused_scan_is_explained_and_focus_returns(page, din: str) -> None:
    wrong = "A" if check_character(din) != "A" else "B"
    _scan_from_lab_index(page, f"{din}{wrong}")
    alert = page.locator("[role=alert]").inner_text()
    assert "scan" in alert and "check character" in alert.lower(), alert
    assert_scan_focus(page)  # the next scan must land in the box again, without a click
    page.shots("keyed-din-wrong-check-refused")


def _record_passages(page, tz: ZoneInfo) -> None:
    for number, seeded, harvested, viability, seeded_ago, harvested_ago in PASSAGES:
        form = page.locator("#passage form")
        assert page.inner_text("#passage h2") == f"Record passage P{number}"
        form.locator("input[name=seeded_cells]").fill(str(seeded))
        form.locator("input[name=harvested_cells]").fill(str(harvested))
        form.locator("input[name=viability_pct]").fill(str(viability))
        form.locator("input[name=seeded_at]").fill(local_input(tz, days=seeded_ago))
        form.locator("input[name=harvested_at]").fill(local_input(tz, days=harvested_ago))
        submit(page, form.locator("button[type=submit]"))
        assert f"P{number} recorded" in done(page)
        assert page.locator(f"[data-testid=passages] tr[data-passage='{number}']").count() == 1
    page.shots("passages-p0-p2")


def _record_steps(page) -> None:
    form = page.locator("#steps form").last
    for step, details in (("tissue_processing", "method: explant\ncord length cm: 22"),
                          ("media_and_reagent_lots", "media lot: M2026-11\nserum lot: HPL-0412"),
                          ("wash", "buffer lot: PBS-0099")):
        form.locator("select[name=step]").select_option(step)
        form.locator("textarea[name=details]").fill(details)
        submit(page, form.locator("button", has_text="Record step"))
        assert f"Step {step} recorded" in done(page)
    page.shots("batch-steps-recorded")


def _harvest_formulate_fill(page) -> None:
    page.fill("#harvest input[name=harvested_cells]", "240000000")
    submit(page, page.locator("#harvest button[type=submit]"))
    assert "Harvest recorded" in done(page)
    page.fill("#formulation input[name=cells_per_ml]", "1400000")
    page.fill("#formulation input[name=volume_ml]", "150")
    submit(page, page.locator("#formulation button[type=submit]"))
    assert "Formulation recorded" in done(page)
    fill = page.locator("#fill form")
    fill.locator("input[name=count]").fill("3")
    fill.locator("input[name=volume_ml]").fill("50")
    fill.locator("input[name=total_cells]").fill("70000000")
    fill.locator("input[name=anticoagulant_lot]").fill(ANTICOAGULANT_LOT)
    submit(page, fill.locator("button.primary"))
    assert "3 bags filled, in quarantine" in done(page)
    page.shots("harvest-formulation-fill")


def _second_person_verifies(browser, live_server: str, lot_url: str) -> list[str]:
    """Huang Tao, in a browser of his own, signs every step that needs a second person."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, "lab2")
        page.goto(lot_url)
        verified = []
        while (forms := page.locator("[data-testid=batch-steps] form")).count():
            form = forms.first
            step = form.locator("..").locator("..").get_attribute("data-step")
            form.locator("input[name=signature_password]").fill(PASSWORD)
            submit(page, form.locator("button[type=submit]"))
            assert "verified by Huang Tao" in done(page)
            verified.append(step)
        assert page.locator("[data-testid=batch-complete]").is_visible()
        return verified
    finally:
        context.close()


def _decode_pages(pdf: bytes) -> list[set[str]]:
    """Every barcode on each page, read as a scanner would from a 300 dpi print."""
    pages = []
    for sheet in pymupdf.open(stream=pdf, filetype="pdf"):
        pix = sheet.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
        pages.append({result.text for result in zxingcpp.read_barcodes(image)})
    return pages


def _print_bag_labels(page, bag_codes: list[str]) -> list[str]:
    """Print the lot's bag labels; each page's barcodes must read back as its bag. Returns the 2D codes."""
    with page.expect_download() as download_info:
        page.click("a:has-text('Bag labels')")
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = _decode_pages(pdf)
    assert len(pages) == len(bag_codes)
    compounds = []
    for bag_code, found in zip(bag_codes, pages, strict=True):
        parts = BAG_CODE.match(bag_code)
        din_barcode = Din.parse(parts["din"]).barcode_data()
        product_barcode = f"=<{parts['product']}{parts['division']}"
        assert {din_barcode, product_barcode} <= found, (bag_code, found)
        two_d = [text for text in found if text.startswith("=+")]
        assert len(two_d) == 1 and din_barcode in two_d[0] and product_barcode in two_d[0], found
        compounds.append(two_d[0])
    return compounds


def test_lab_technician_takes_a_cord_from_receipt_to_labelled_bags(page, browser, live_server, app):
    tz = ZoneInfo(app.config["SITE_TIMEZONE"])
    materials.stocked(app, ANTICOAGULANT_LOT)
    login(page, "lab")
    din = _register_cord(page, tz)

    _refused_scan_is_explained_and_focus_returns(page, din)
    _scan_from_lab_index(page, Din.parse(din).barcode_data())  # the collection label's DIN barcode
    assert page.url.endswith(f"/lab/collections/{din}")
    page.shots("scanned-cord-opens-collection")

    _handover(page, "shipped", "Courier box 7", "18", local_input(tz, days=10, hours=-1))
    _handover(page, "received", "Cell processing lab", "6.5", local_input(tz, days=10, hours=-3))
    assert "at the lab" in page.inner_text("[data-testid=custody]")
    page.shots("cord-received-with-temperature")

    submit(page, page.locator("#start button"))
    assert page.inner_text("[data-testid=lot-id]") == din
    page.shots("lot-started")
    _scan_from_lab_index(page, f"{din[:5]} {din[5:7]} {din[7:]} {check_character(din)}")  # keyed, with K
    assert page.url.endswith(f"/lab/lots/{din}")
    lot_url = page.url

    _record_passages(page, tz)
    _record_steps(page)
    _harvest_formulate_fill(page)
    assert page.inner_text("[data-testid=lot-status]") == "awaiting release"

    verified = _second_person_verifies(browser, live_server, lot_url)
    assert sorted(verified) == ["fill", "formulation", "tissue_processing"]
    page.reload()
    assert page.locator("[data-testid=batch-complete]").is_visible()
    page.shots("batch-record-verified-by-second-person")

    bag_codes = page.locator("#genealogy li[data-bag]").evaluate_all("items => items.map(i => i.dataset.bag)")
    assert bag_codes == [f"{din}-D0001V{d}0" for d in "ABC"]
    label_2d = _print_bag_labels(page, bag_codes)
    page.shots("bag-labels-printed")

    _scan_from_lab_index(page, label_2d[1])  # what a scanner reads off the second printed label
    assert page.inner_text("[data-testid=bag-id]") == bag_codes[1]
    assert "quarantine" in page.inner_text("[data-testid=quality-status]")
    page.shots("printed-label-scanned-opens-bag")
