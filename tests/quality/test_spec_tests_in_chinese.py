"""The standard QC tests of a specification read in Chinese for a reader of Chinese (the QC pages, the QA
review, the certificate of analysis), while the stored specification keeps its English (docs/architecture.md,
"Languages")."""

from __future__ import annotations

import html

from cellchain.quality.rules import spec_limits
from tests.core.test_languages import _catalogue
from tests.factories.qc import db_session, make_lot
from tests.quality.test_release_certificate_in_chinese import _pdf_text, _released_lot


def _chinese(auth, username: str) -> None:
    auth.login(username)
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303


def test_every_name_and_method_of_the_standard_tests_has_a_chinese_translation():
    catalogue = _catalogue()
    assert "CD73 (identity)" in spec_limits.STANDARD_WORDS and "flow cytometry" in spec_limits.STANDARD_WORDS
    untranslated = [w for w in spec_limits.STANDARD_WORDS if catalogue.get(w) is None or not catalogue.get(w).string]
    assert sorted(untranslated) == []


def test_a_qc_analyst_reading_chinese_sees_the_standard_test_names_and_methods_in_chinese(app, api, client, auth):
    lot_id = _released_lot(app, api)
    _chinese(auth, "qc")
    page = html.unescape(client.get(f"/qc/lots/{lot_id}").get_data(as_text=True))
    assert "CD73（鉴别）" in page and "HLA-DR（纯度）" in page and "流式细胞术" in page and "内毒素" in page
    assert "CD73 (identity)" not in page and "flow cytometry" not in page
    with db_session(app) as session:
        open_lot = make_lot(session, n=2).lot_number
    batch = html.unescape(client.get(f"/qc/lots/{open_lot}/batch").get_data(as_text=True))
    assert "支原体（阴性 = 未检出）" in batch and "PCR 或培养法" in batch
    assert "Mycoplasma (negative" not in batch and "PCR or culture" not in batch


def test_a_reader_of_chinese_downloads_a_certificate_of_analysis_naming_the_tests_in_chinese(app, api, client, auth):
    lot_id = _released_lot(app, api)
    _chinese(auth, "qc")
    text = _pdf_text(client, lot_id)
    assert "cd73: CD73（鉴别）" in text and "流式细胞术" in text and "内毒素" in text
    assert "CD73 (identity)" not in text and "flow cytometry" not in text


def test_the_stored_specification_keeps_its_english_names_for_a_reader_of_chinese(app, api):
    _released_lot(app, api)
    app.config["DEFAULT_LANGUAGE"] = "zh"
    stored = api.get("/api/v1/specifications/current", as_="qc").get_json()
    tests = {t["code"]: t for t in stored["definition"]["tests"]}
    assert tests["cd73"]["name"] == "CD73 (identity)" and tests["cd73"]["method"] == "flow cytometry"
