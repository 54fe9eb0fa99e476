"""A nurse who reads Chinese does the bedside check in Chinese: the page, each check's words and a refusal
(docs/architecture.md, "Languages"); the English pages are unchanged (test_bedside_pages.py)."""

from __future__ import annotations

from cellchain.core import db
from cellchain.ward.rules import bedside_checks
from tests.conftest import PASSWORD
from tests.factories import ward
from tests.ward.test_bedside_pages import check_page, failed_checks, scene


def _nurse_reading_chinese(auth) -> None:
    auth.login("nurse")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303


def test_a_nurse_reading_chinese_sees_the_bedside_check_and_its_verdict_in_chinese(app, client, auth):
    made = scene(app)
    _nurse_reading_chinese(auth)
    first = client.get("/ward/bedside").get_data(as_text=True)
    assert "床旁核对" in first and "1. 扫描受试者腕带" in first and "Scan the subject" not in first
    html = check_page(auth, made.wristband, made.bag_scan).get_data(as_text=True)
    assert "全部核对通过" in html and "ALL CHECKS PASSED" not in html
    # each check's verdict tag is a word of the page, in Chinese, not an English word drawn by the style sheet
    assert html.count('<span class="check-tag">通过</span>') == len(bedside_checks.CHECK_NAMES)
    assert "PASS" not in html and "FAIL" not in html
    assert f"细胞袋 {made.bag.bag_code} 已分配给 {made.subject.subject_code}" in html  # the right-subject check
    assert "开始输注" in html and "第二名护士：核对细胞袋和腕带后签名" in html
    # the bag's expiry is written with the site's offset, never "CST" (which reads as US Central time)
    assert "UTC+08:00" in html and " CST" not in html


def test_a_nurse_reading_chinese_is_stopped_at_the_wrong_patient_in_chinese(app, client, auth):
    made = scene(app)
    with app.app_context():
        other = ward.subject(db.session())
        db.commit()
    _nurse_reading_chinese(auth)
    html = check_page(auth, ward.wristband(other), made.bag_scan).get_data(as_text=True)
    assert failed_checks(html) == ["right_subject", "chain_of_identity_matches"]
    assert "停止：不得输注。" in html and "2 项核对未通过" in html
    assert f"患者错误：细胞袋 {made.bag.bag_code} 分配给 {made.subject.subject_code}" in html
    assert "STOP: DO NOT INFUSE" not in html and "WRONG PATIENT" not in html
    assert html.count('<span class="check-tag">未通过</span>') == 2 and "FAIL" not in html and "PASS" not in html


def test_a_nurse_reading_chinese_reads_a_refused_start_in_chinese(app, client, auth):
    made = scene(app)
    _nurse_reading_chinese(auth)
    response = auth.post("/ward/infusions", {"wristband": made.wristband, "bag_part": [made.bag_scan],
                                             "ultrasound_monitored": "yes", "signature_username": "nurse",
                                             "signature_password": PASSWORD, "signature_meaning": "verified"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-reason="second_verifier_same_person"' in html
    assert "未完成：" in html and "第二核对人必须是与开始输注者不同的护士" in html
    assert "must be a different nurse" not in html
