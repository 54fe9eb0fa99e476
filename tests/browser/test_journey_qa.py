"""A QA reviewer's day in the browser: from a lot's review to its signed, printed release certificate.

The lot is made before the browser starts (filled, batch record complete: ``factories.qc.make_lot``).
Everything after that goes through the pages: Chen Jing (qc) enters the results, one of them out of
specification, which opens a deviation, and its repeat; Wang Fang (qa) reviews, closes the deviation
and releases with her e-signature, then checks the certificate's QR code leads to a page that says it
matches the record.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pymupdf
import pytest
import zxingcpp
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.wedge import done, submit
from tests.conftest import PASSWORD
from tests.factories.qc import PASSING, SAMPLED_FORM, db_session, make_lot

pytestmark = pytest.mark.browser

OOS_TEST, OOS_VALUE, REPEAT_VALUE = "viability", "62", "93.5"  # limit: >= 70 %


def _record_result(page, test: str, value: str, *, repeat_of: str = "", reason: str = "") -> str:
    form = page.locator("#record form")
    form.locator("select[name=test]").select_option(test)
    form.locator("input[name=value]").fill(value)
    form.locator("select[name=sample_stage]").select_option("final_product")
    form.locator("input[name=sampled_at]").fill(SAMPLED_FORM["sampled_at"])
    if repeat_of:
        form.locator("select[name=repeat_of]").select_option(label=repeat_of)
        form.locator("textarea[name=reason]").fill(reason)
    submit(page, form.locator("button[type=submit]"))
    return done(page)


def _qc_enters_results(page, lot_id: str) -> str:
    """Every required test; viability is out of specification, opens a deviation, and is repeated."""
    login(page, "qc")
    page.goto("/qc/")
    assert "CD73" in page.inner_text(f"[data-testid=qc-work] tr[data-lot='{lot_id}']")
    page.click(f"[data-testid=qc-work] tr[data-lot='{lot_id}'] a")
    for test, value in PASSING.items():
        shown = OOS_VALUE if test == OOS_TEST else str(value)
        message = _record_result(page, test, shown)
        if test == OOS_TEST:
            assert "OUT OF SPECIFICATION" in message and "deviation DEV-" in message, message
            deviation = message.split("deviation ")[1].split()[0]
            verdict = page.inner_text(f"[data-testid=qc-table] tr[data-test={OOS_TEST}]")
            assert "OUT OF SPECIFICATION" in verdict  # in words, not only red
            page.shots("qc-out-of-spec-opens-deviation")
        else:
            assert "within specification" in message, message
    first_id = page.inner_text(f"[data-testid=qc-table] tr[data-test={OOS_TEST}]").split("result #")[1].split()[0]
    message = _record_result(page, OOS_TEST, REPEAT_VALUE, repeat_of=f"#{first_id} · Viability = {OOS_VALUE}",
                             reason="7-AAD stained 40 min late; sample re-run within 1 h")
    assert "within specification" in message
    row = page.inner_text(f"[data-testid=qc-table] tr[data-test={OOS_TEST}]")
    assert REPEAT_VALUE in row and f"#{first_id} = {OOS_VALUE} (out of spec)" in row
    page.shots("qc-repeat-within-spec")
    page.click("text=Log out")
    return deviation


def _qa_sees_the_gap_by_name(page, lot_id: str, deviation: str) -> None:
    login(page, "qa")
    page.goto("/qa/")
    queued = page.inner_text(f"[data-testid=qa-queue] tr[data-lot='{lot_id}']")
    assert "1 open point" in queued and "deviation open" in queued, queued
    assert deviation in page.inner_text("[data-testid=open-deviations]")
    page.shots("qa-queue")
    page.click(f"[data-testid=qa-queue] tr[data-lot='{lot_id}'] a")
    gaps = page.inner_text("[data-testid=release-gaps]")
    assert "Not releasable" in gaps
    assert f"deviation {deviation} (out of specification) is open, not closed" in gaps, gaps
    page.shots("lot-review-shows-gap")


def _qa_closes_the_deviation(page, deviation: str) -> None:
    page.click(f"[data-testid=lot-deviations] a:has-text('{deviation}')")
    page.fill("textarea[name=root_cause]", "Sample stained late: the first viability read-out is invalid.")
    page.fill("textarea[name=impact]", "None on the product; the repeat on the retained sample is 93.5 %.")
    submit(page, page.locator("button", has_text="Record investigation"))
    assert f"Deviation {deviation} is now investigated" in done(page)
    page.check("input[name=decision][value=accept]")
    page.fill("textarea[name=justification]", "Invalid first run (laboratory error); valid repeat within limit.")
    submit(page, page.locator("button", has_text="Record decision"))
    assert f"Deviation {deviation} is now decided" in done(page)
    page.fill("input[name=signature_password]", PASSWORD)
    submit(page, page.locator("button", has_text="Sign and close"))
    assert f"Deviation {deviation} is now closed" in done(page)
    assert page.inner_text("[data-testid=deviation-status]") == "closed"
    page.shots("deviation-closed-with-signature")


def _qa_releases(page, lot_id: str) -> None:
    page.click("a.din")  # back to the lot from the deviation
    assert "Every release condition holds" in page.inner_text("[data-testid=release-gaps]")
    form = page.locator("[data-testid=release-form]")
    form.locator("input[name=signature_password]").fill("not-my-password")
    submit(page, form.locator("button[type=submit]"))
    expect(page.locator("[data-testid=refusal]")).to_be_in_viewport()  # beside the form, not off-screen
    refusal = page.inner_text("[data-testid=refusal]")
    assert "Refused" in refusal and "password" in refusal.lower(), refusal
    assert page.inner_text("[data-testid=lot-status]") == "awaiting release"
    page.shots("release-refused-wrong-password")
    form.locator("input[name=signature_password]").fill(PASSWORD)
    submit(page, form.locator("button[type=submit]"))
    assert f"Lot {lot_id} released" in done(page)
    decision = page.inner_text("[data-testid=decision]")
    assert "Decision: released" in decision and "Wang Fang (QA reviewer)" in decision and "released" in decision
    page.shots("lot-released")


def _certificate(page, lot_id: str) -> tuple[str, list[str]]:
    with page.expect_download() as download_info:
        page.click("[data-testid=decision] a:has-text('Release certificate')")
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    document = pymupdf.open(stream=pdf, filetype="pdf")
    text = " ".join(" ".join(sheet.get_text().split()) for sheet in document)
    codes = []
    for sheet in document:
        pix = sheet.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
        codes += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return text, codes


def test_qa_reviewer_takes_a_lot_from_review_to_a_signed_printed_certificate(page, app, live_server):
    with db_session(app) as session:
        lot_id = make_lot(session, bags=3).lot_number

    deviation = _qc_enters_results(page, lot_id)
    _qa_sees_the_gap_by_name(page, lot_id, deviation)
    _qa_closes_the_deviation(page, deviation)
    _qa_releases(page, lot_id)

    text, codes = _certificate(page, lot_id)
    assert f"Lot {lot_id}" in text and "Wang Fang (QA reviewer)" in text, text
    assert deviation in text and "released" in text
    assert len(codes) == 1
    verify = urlsplit(codes[0])
    assert f"{verify.scheme}://{verify.netloc}" == live_server
    assert verify.path == f"/qa/certificates/{lot_id}/verify"
    page.shots("certificate-downloaded")

    page.goto(codes[0])
    verdict = page.inner_text("[data-testid=certificate-verdict]")
    assert verdict.startswith("MATCHES"), verdict
    assert "Wang Fang (QA reviewer)" in page.inner_text("dl.facts")
    page.shots("certificate-qr-verifies")
