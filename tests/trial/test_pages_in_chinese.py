"""A coordinator who reads Chinese works the trial's pages in Chinese (docs/architecture.md, "Languages")."""

from __future__ import annotations

from datetime import timedelta

from tests.factories.trial import randomized, register, site_today


def test_a_coordinator_reading_chinese_sees_the_subjects_and_a_subjects_calendar_in_chinese(client, auth, api):
    subject = randomized(api, day0=site_today() - timedelta(days=27))
    failure = register(api, on_immunosuppressant=True)
    auth.login("coordinator")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    listing = client.get("/trial/").get_data(as_text=True)
    assert "试验受试者" in listing and "筛选失败" in listing and "第 4 周输注" in listing
    assert "Screen failure" not in listing
    page = client.get(f"/trial/subjects/{subject['subject_id']}").get_data(as_text=True)
    assert "访视日历" in page and "合格：满足全部入选标准" in page and "Visit calendar" not in page
    refused = client.get(f"/trial/subjects/{failure['subject_id']}").get_data(as_text=True)
    assert "不合格（筛选失败）。原因：" in refused and "已在接受免疫抑制剂治疗" in refused
    assert "登记受试者" in client.get("/trial/subjects/new").get_data(as_text=True)
    assert "组间平衡" in client.get("/trial/balance").get_data(as_text=True)
