"""A certificate of analysis may be as large as the operation allows (10 MB), through the lot's page and the API,
while every other request keeps the site's body limit (MAX_CONTENT_LENGTH, 2 MB); a body past either is a 413
that names the limit, never a 500 (docs/rules.md, "Materials"; docs/security.md, "Every response")."""

from __future__ import annotations

from io import BytesIO

from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from cellchain.core.submissions.ledger import new_id as new_submission_id
from cellchain.materials.models import MaterialCertificate
from tests.factories.lab import in_db
from tests.materials.scene import material, received

MB = 1024 * 1024


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.4\n% a scanned certificate of analysis\n"
    return head + b"0" * (size - len(head) - 6) + b"%%EOF\n"


def _send(client, url: str, size: int, headers: dict | None = None, **fields: str):
    """POST a multipart body made in memory (the test client would spool one this large to a file it never
    closes)."""
    boundary, body = encode_multipart({**fields, "certificate": FileStorage(BytesIO(_pdf(size)), filename="coa.pdf",
                                                                            content_type="application/pdf")})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers or {})


def _page(client, auth, code: str, size: int):
    return _send(client, f"/materials/lots/{code}/certificates", size, csrf_token=auth.csrf(),
                 submission_id=new_submission_id())


def _lot_code(app) -> str:
    with in_db(app) as session:
        return received(session, material(session, "medium"), "MED-26-09", status="quarantine").code


def _kept(app) -> list[int]:
    with in_db(app) as session:
        return [c.size for c in session.exec(select(MaterialCertificate).order_by(MaterialCertificate.id))]


def test_a_5_mb_certificate_is_attached_through_the_page_and_through_the_api(app, client, auth, api):
    code = _lot_code(app)
    auth.login("lab")
    page = _page(client, auth, code, 5 * MB)
    assert page.status_code == 303
    answer = _send(client, f"/api/v1/material-lots/{code}/certificates", 5 * MB, api.headers("qc"))
    assert answer.status_code == 201, answer.get_json()
    assert _kept(app) == [5 * MB, 5 * MB]


def test_an_11_mb_certificate_is_refused_with_413_naming_the_10_mb_limit_and_nothing_is_kept(app, client, auth, api):
    code = _lot_code(app)
    answer = _send(client, f"/api/v1/material-lots/{code}/certificates", 11 * MB, api.headers("lab"))
    assert answer.status_code == 413
    body = answer.get_json()
    assert "10 MB" in body["error"] and "10 MB" in body["fields"]["certificate"]
    auth.login("lab")
    page = _page(client, auth, code, 11 * MB)
    assert page.status_code == 413 and "10 MB" in page.get_data(as_text=True)
    assert _kept(app) == []


def test_the_413_of_a_certificate_reads_in_chinese_for_a_chinese_reader(app, client, api):
    code = _lot_code(app)
    answer = _send(client, f"/api/v1/material-lots/{code}/certificates", 11 * MB,
                   {**api.headers("lab"), "Accept-Language": "zh-CN"})
    assert answer.status_code == 413 and "检验报告超过 10 MB" in answer.get_json()["error"]


def test_an_ordinary_json_endpoint_still_refuses_a_3_mb_body(app, client, api):
    body = b'{"data": "' + b"A" * (3 * MB) + b'"}'
    answer = client.post("/api/v1/scans", data=body, content_type="application/json", headers=api.headers("lab"))
    assert answer.status_code == 413 and "error" in answer.get_json()
