"""A lab technician who reads Chinese sees the lot page and the batch record PDF in Chinese; English readers
see them as before (docs/architecture.md, "Languages")."""

from __future__ import annotations

import pymupdf

from tests.factories.lab import formulated_lot, in_db, make_bag


def choose_chinese(auth, username: str = "lab") -> None:
    auth.login(username)
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.get_text() for page in pymupdf.open(stream=data, filetype="pdf")).split())


def filled_lot(app) -> str:
    with in_db(app) as session:
        lot = formulated_lot(session)
        make_bag(session, lot, "A0")
        return lot.lot_number


def test_a_chinese_reader_sees_the_lot_page_in_chinese(app, client, auth):
    lot_id = filled_lot(app)
    choose_chinese(auth)
    page = client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    for words in ("批次", "谱系", "批生产记录（PDF）", "生长", "累计群体倍增", "第二人复核", "接种", "收获"):
        assert words in page, words
    for english in ("Batch record (PDF)", "Genealogy</h2>", "Second-person verification", "Record a step"):
        assert english not in page, english


def test_a_chinese_reader_prints_the_batch_record_in_chinese(app, client, auth):
    lot_id = filled_lot(app)
    choose_chinese(auth)
    response = client.get(f"/api/v1/lots/{lot_id}/batch-record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for words in (f"批生产记录 - 批次 {lot_id}", "供者合格性", "传代", "步骤", "完整性", "已灌装的细胞袋", "1 袋：",
                  "第二人复核（电子签名）", "第 1 页", "从 cellchain 打印"):
        assert words in text, words
    assert "Batch record - lot" not in text and "Completeness" not in text
    fonts = {font[3] for page in pymupdf.open(stream=response.data, filetype="pdf") for font in page.get_fonts()}
    assert "STSong-Light" in fonts


def test_an_english_reader_still_gets_the_lot_page_and_batch_record_in_english(app, client, auth):
    lot_id = filled_lot(app)
    auth.login("lab")
    page = client.get(f"/lab/lots/{lot_id}").get_data(as_text=True)
    assert "Batch record (PDF)" in page and "批次" not in page
    text = pdf_text(client.get(f"/api/v1/lots/{lot_id}/batch-record.pdf").data)
    assert f"Batch record - lot {lot_id}" in text and "Completeness" in text and "批" not in text


def test_a_chinese_reader_sees_the_bank_storage_qc_and_label_pages_in_chinese(app, client, auth):
    lot_id = filled_lot(app)
    choose_chinese(auth)
    pages = {"/banks/": ("细胞库", "筛选"), "/storage/": ("储存设备", "它在哪里？"), "/labels/": ("标签平衡核对",)}
    qc_pages = {"/qc/": ("质控工作清单",), f"/qc/lots/{lot_id}": ("质控结果 · 批次", "检测项目")}
    for url, words in pages.items():
        assert all(word in client.get(url).get_data(as_text=True) for word in words), url
    auth.logout()
    choose_chinese(auth, "qc")
    for url, words in qc_pages.items():
        assert all(word in client.get(url).get_data(as_text=True) for word in words), url


def test_a_refused_passage_tells_a_chinese_reader_which_field_is_wrong_in_chinese(app, client, auth):
    lot_id = filled_lot(app)
    choose_chinese(auth)
    response = auth.post(f"/lab/lots/{lot_id}/passages", {"number": "3", "seeded_cells": "many",
                                                          "harvested_cells": "10", "viability_pct": "101"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "不是 0 至 100 之间的百分比" in page or "0 至 100" in page
