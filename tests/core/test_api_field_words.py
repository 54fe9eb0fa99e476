"""A request the API cannot read is refused in the reader's language, naming each field: marshmallow's own
messages (an unknown field, a missing one, a value of the wrong kind, a value out of range), the words for a
body that is not a JSON object; and a page form posted without its security token (docs/architecture.md,
"Languages")."""

from __future__ import annotations

import pytest

from tests.core.test_api_language import _chooses
from tests.materials.test_certificate_api import _lot_code

VERIFY = "/api/v1/infusions/verify"
DEVIATIONS = "/api/v1/deviations"
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def _refused(response) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    return response.get_json()


def test_a_chinese_reader_is_told_in_chinese_that_a_field_is_unknown(api, client):
    body = _refused(client.post(VERIFY, json={"wristband": "S-001", "bag": "x", "extra": 1},
                                headers={**api.headers("nurse"), **ZH}))
    assert body["fields"] == {"extra": "未知字段。"}
    assert body["error"] == "extra: 未知字段。"


def _certificate_without_file(app, api, client, **headers: str):
    return client.post(f"/api/v1/material-lots/{_lot_code(app)}/certificates", data={"note": "no file"},
                       content_type="multipart/form-data", headers={**api.headers("lab"), **headers})


def test_a_chinese_reader_is_told_in_chinese_that_a_required_field_is_missing(app, api, client):
    body = _refused(_certificate_without_file(app, api, client, **ZH))
    assert body["fields"] == {"certificate": "缺少必填字段。"}


def test_a_chinese_reader_is_told_in_chinese_that_a_value_is_not_a_number(api, client):
    body = _refused(client.get(DEVIATIONS, query_string={"limit": "many"}, headers={**api.headers("qa"), **ZH}))
    assert body["fields"] == {"limit": "不是有效的整数。"}


def test_a_chinese_reader_reads_a_range_in_chinese_with_its_bounds(api, client):
    body = _refused(client.get(DEVIATIONS, query_string={"limit": "0"}, headers={**api.headers("qa"), **ZH}))
    assert body["fields"] == {"limit": "必须大于或等于 1 且小于或等于 200。"}


@pytest.mark.parametrize("send", [{"data": "wristband=S-001"}, {"json": ["S-001"]}])
def test_a_chinese_reader_is_told_in_chinese_to_send_a_json_object(api, client, send):
    body = _refused(client.post(VERIFY, headers={**api.headers("nurse"), **ZH}, **send))
    assert body["fields"] == {"body": "请以 Content-Type: application/json 发送一个 JSON 对象"}


def test_a_token_owner_who_reads_chinese_gets_chinese_without_asking(app, api, client):
    _chooses(app, "nurse", "zh")
    body = _refused(client.post(VERIFY, json={"wristband": "S-001", "bag": "x", "extra": 1},
                                headers=api.headers("nurse")))
    assert body["fields"] == {"extra": "未知字段。"}


def test_an_english_reader_still_reads_marshmallow_s_english(app, api, client):
    nurse = {**api.headers("nurse"), **EN}
    assert _refused(client.post(VERIFY, json={"wristband": "S-001", "bag": "x", "extra": 1},
                                headers=nurse))["fields"] == {"extra": "Unknown field."}
    assert _refused(_certificate_without_file(app, api, client, **EN))["fields"] == {
        "certificate": "Missing data for required field."}
    assert _refused(client.post(VERIFY, data="x", headers=nurse))["fields"] == {
        "body": "send a JSON object with Content-Type: application/json"}
    qa = {**api.headers("qa"), **EN}
    assert _refused(client.get(DEVIATIONS, query_string={"limit": "0"}, headers=qa))["fields"] == {
        "limit": "Must be greater than or equal to 1 and less than or equal to 200."}
    assert _refused(client.get(DEVIATIONS, query_string={"limit": "x"}, headers=qa))["fields"] == {
        "limit": "Not a valid integer."}


def test_a_chinese_reader_s_form_without_its_security_token_is_refused_in_chinese(client, auth):
    auth.login("admin")
    auth.post("/auth/language", {"language": "zh"})
    response = client.post("/admin/users", data={"username": "x", "full_name": "X", "password": "longenough",
                                                  "roles": "lab"})
    assert response.status_code == 400
    assert "表单的安全令牌缺失或已过期" in response.get_data(as_text=True)
