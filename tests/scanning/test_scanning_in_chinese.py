"""A reader of Chinese reads the search's descriptions of what it found and the names of what a scan decoded in
Chinese; the API keeps its codes and answers its words in the reader's language (docs/architecture.md,
"Languages")."""

from __future__ import annotations

import re

from cellchain.identifiers import gs1
from cellchain.identifiers.isbt128 import Din
from tests.factories import ward as w
from tests.factories.qc import db_session


def choose_chinese(auth, username: str) -> None:
    auth.login(username)
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303


def _made(app) -> tuple[str, str]:
    with db_session(app) as session:
        bag = w.bag(session)
        return bag.bag_code, bag.din


def _hits(page: str) -> dict[str, str]:
    """Each hit's words on the search page, by its ``type:key``."""
    return {hit: " ".join(re.sub(r"<[^>]+>", " ", words).split())
            for hit, words in re.findall(r'<li data-hit="([^"]+)">.*?·\s*(.*?)</li>', page, re.S)}


def test_a_chinese_reader_reads_what_the_search_found_in_chinese(app, client, auth):
    bag, din = _made(app)
    choose_chinese(auth, "lab")
    hits = _hits(client.get(f"/scan/search?q={din[:10]}").get_data(as_text=True))
    assert hits[f"collection:{din}"] == "脐带，供者合格"
    assert hits[f"lot:{din}"].startswith("给药批次，")
    assert hits[f"bag:{bag}"].startswith("UC-MSC细胞袋，")
    for english in ("cord, donor", " lot, ", " bag, "):
        assert not any(english in words for words in hits.values()), english


def test_an_english_reader_reads_the_same_hits_in_english(app, client, auth):
    bag, din = _made(app)
    auth.login("lab")
    hits = _hits(client.get(f"/scan/search?q={din[:10]}").get_data(as_text=True))
    assert hits[f"collection:{din}"] == "cord, donor eligible"
    assert hits[f"lot:{din}"].startswith("dosing lot, ") and hits[f"bag:{bag}"].startswith("UC-MSC bag, ")


def test_the_search_api_keeps_its_codes_and_words_its_hits_in_the_readers_language(app, api):
    bag, din = _made(app)
    app.config["DEFAULT_LANGUAGE"] = "zh"
    body = api.get(f"/api/v1/search?q={din[:10]}", as_="nurse").get_json()
    found = {(hit["type"], hit["key"]): hit for hit in body["hits"]}
    assert found[("collection", din)]["words"] == "脐带，供者合格"
    assert found[("bag", bag)]["api"] == f"/api/v1/bags/{bag}"
    scanned = api.get(f"/api/v1/search?q={bag}", as_="nurse").get_json()["scanned"]
    assert (scanned["type"], scanned["key"], scanned["words"]) == ("bag", bag, "扫描的细胞袋编号")


def _facts(page: str) -> dict[str, str]:
    """The scan station's names and values of what a scan decoded."""
    section = page[page.index('data-testid="scan-result"'):page.index('data-testid="scan-record"')]
    return {name: " ".join(value.split()) for name, value in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>",
                                                                         section, re.S)}


def test_a_chinese_reader_reads_the_fields_of_a_scanned_product_code_in_chinese(client, auth):
    choose_chinese(auth, "qc")
    page = auth.post("/scan/", {"scan": "=<D0001VA0"}, follow_redirects=True).get_data(as_text=True)
    assert "这是产品代码" in page
    assert _facts(page) == {"产品代码": "D0001", "采集类型": "V", "分装号": "A0"}


def test_a_chinese_reader_reads_the_application_identifiers_of_a_supplier_barcode_in_chinese(client, auth):
    gtin = "0950110153000" + str(gs1.gtin_check_digit("0950110153000"))
    scanned = "]C1" + gs1.encode({"01": gtin, "17": "271231", "10": "AB12", "21": "SN7", "91": "X1"}, separator="|")
    choose_chinese(auth, "lab")
    page = client.get("/scan/", query_string={"scan": scanned}).get_data(as_text=True)
    assert "这是供应商 GS1 条码" in page
    assert _facts(page) == {"GTIN": gtin, "有效期": "2027-12-31", "批号": "AB12", "序列号": "SN7",
                            "企业内部信息（AI 91）": "X1"}


def test_an_english_reader_reads_the_same_fields_in_english(client, auth):
    auth.login("qc")
    page = auth.post("/scan/", {"scan": "=<D0001VA0"}, follow_redirects=True).get_data(as_text=True)
    assert _facts(page) == {"Product code": "D0001", "Collection type": "V", "Division": "A0"}


def test_a_chinese_reader_is_told_why_a_scan_is_refused_in_chinese_after_its_code(client, auth):
    choose_chinese(auth, "lab")
    garbage = auth.post("/scan/", {"scan": "<script>alert(1)</script>"})
    page = garbage.get_data(as_text=True)
    assert garbage.status_code == 400 and "<strong>unrecognised</strong>：" in page  # the code, as the API answers it
    assert "不是 DIN、产品代码、日期、二维码、腕带或细胞袋编号" in page
    assert "not a DIN, product code" not in page
    short = auth.post("/scan/", {"scan": "=<D0001V"}).get_data(as_text=True)
    assert "<strong>product code</strong>：" in short and "产品代码为 10 个字符，实际为 8 个" in short


def test_the_scan_api_answers_a_refusal_with_its_code_then_the_readers_words(app, api):
    app.config["DEFAULT_LANGUAGE"] = "zh"
    cases = {"<script>alert(1)</script>": "unrecognised: 不是 DIN、产品代码、日期、二维码、腕带或细胞袋编号",
             "=<d0001va0": "caps_lock: 本次读取的大小写颠倒了", "A" * 1000: "too_long: 1000 个字符，最多 200 个",
             "0109501101530004": "gs1: (01) 09501101530004 不是校验位正确的 GTIN-14",
             "=G12341765432171": "din_flags_mismatch: 标志位 71 与 DIN G1234 17 654321 不符（应为 70）"}
    for data, words in cases.items():
        response = api.post("/api/v1/scans", as_="lab", json={"data": data})
        assert response.status_code == 400, data
        assert response.get_json()["fields"]["data"].startswith(words), response.get_json()


def test_a_scan_of_something_not_here_is_noted_in_the_readers_language(app, api):
    app.config["DEFAULT_LANGUAGE"] = "zh"
    din = "A999926999999"
    body = api.post("/api/v1/scans", as_="lab", json={"data": Din.parse(din).barcode_data()}).get_json()
    assert "record" not in body and body["note"] == f"本数据库中没有 DIN 为 {din} 的采集"
    app.config["DEFAULT_LANGUAGE"] = "en"
    body = api.post("/api/v1/scans", as_="lab", json={"data": Din.parse(din).barcode_data()}).get_json()
    assert body["note"] == f"no collection has DIN {din} in this database"
