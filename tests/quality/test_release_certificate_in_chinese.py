"""A QA reviewer who reads Chinese gets the release certificate in Chinese (docs/architecture.md,
"Languages"); the certificate of an English reader stays as it was."""

from __future__ import annotations

import pymupdf

from tests.quality.test_release_certificate import PDF, _released_lot, _text


def _pdf_text(client, lot_id: str) -> str:
    response = client.get(PDF.format(lot_id))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return _text(pymupdf.open(stream=response.data, filetype="pdf"))


def test_a_qa_reviewer_who_reads_chinese_downloads_the_release_certificate_in_chinese(app, api, client, auth):
    lot_id = _released_lot(app, api)
    auth.login("qa")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    text = _pdf_text(client, lot_id)
    assert "放行证书 - 检验报告书" in text and f"批次 {lot_id}" in text
    assert "质量控制结果" in text and "符合质量标准" in text and "复测" in text
    assert "决定：已放行" in text and "签名人：Wang Fang (QA reviewer)" in text
    assert "签名后数据是否更改：否" in text and "QA 决定与电子签名" in text
    assert "Decision: RELEASED" not in text and "within specification" not in text


def test_the_same_certificate_stays_in_english_for_an_english_reader(app, api, client, auth):
    lot_id = _released_lot(app, api, with_repeat=False)
    auth.login("qa")
    text = _pdf_text(client, lot_id)
    assert "Release certificate - certificate of analysis" in text and "Decision: RELEASED" in text
    assert "放行" not in text


def test_a_qa_reviewer_reading_chinese_reviews_a_lot_and_its_deviation_in_chinese(app, api, client, auth):
    lot_id = _released_lot(app, api)
    auth.login("qa")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    lot = client.get(f"/qa/lots/{lot_id}").get_data(as_text=True)
    assert "QA 审核 · 批次" in lot and "批生产记录" in lot and "放行证书（PDF）" in lot and "Batch record" not in lot
    deviations = client.get("/qa/deviations").get_data(as_text=True)
    assert "偏差" in deviations and "筛选" in deviations
    number = deviations.split('href="/qa/deviations/')[1].split('"')[0]
    deviation = client.get(f"/qa/deviations/{number}").get_data(as_text=True)
    assert "根本原因" in deviation and "Root cause" not in deviation
    assert "证书核验" in client.get(f"/qa/certificates/{lot_id}/verify").get_data(as_text=True)
    assert "暂扣与召回" in client.get("/qa/holds").get_data(as_text=True)
