"""A certificate of analysis uploaded through the API: the same operation as the lot's page (PDF only, the size
limit, its SHA-256 in the lot's audit trail), refused by field name, never a 500 on a malformed body."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pytest
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.materials.models import MaterialCertificate
from tests.factories.lab import in_db
from tests.materials.scene import material, received

PDF = b"%PDF-1.4\n% a certificate of analysis sent by the API\n%%EOF\n"


def _lot_code(app) -> str:
    with in_db(app) as session:
        return received(session, material(session, "medium"), "MED-26-01", status="quarantine").code


def _upload(client, api, code: str, as_: str, data: dict, **kwargs):
    return client.post(f"/api/v1/material-lots/{code}/certificates", data=data, headers=api.headers(as_),
                       content_type="multipart/form-data", **kwargs)


def test_the_lab_uploads_a_certificate_through_the_api_and_its_sha256_is_in_the_trail(app, client, api):
    code = _lot_code(app)
    answer = _upload(client, api, code, "lab", {"certificate": (BytesIO(PDF), "coa-med.pdf")})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["filename"] == "coa-med.pdf"
    lot = api.get(f"/api/v1/material-lots/{code}", as_="qa").get_json()
    assert [c["sha256"] for c in lot["certificates"]] == [body["sha256"]]
    download = api.get(f"/api/v1/material-lots/{code}/certificates/{body['id']}", as_="auditor")
    assert download.status_code == 200 and download.data == PDF
    with in_db(app) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "attach_certificate")).one()
        assert hashlib.sha256(PDF).hexdigest() in str(entry.new_values)


def test_a_certificate_that_is_not_a_pdf_is_refused_naming_the_field_and_nothing_is_kept(app, client, api):
    code = _lot_code(app)
    answer = _upload(client, api, code, "lab", {"certificate": (BytesIO(b"GIF89a not a pdf"), "coa.pdf")})
    assert answer.status_code == 400
    assert "PDF" in answer.get_json()["fields"]["certificate"]
    missing = _upload(client, api, code, "lab", {"note": "no file"})
    assert missing.status_code == 400 and "certificate" in missing.get_json()["fields"]
    as_json = api.post(f"/api/v1/material-lots/{code}/certificates", as_="lab", json={"certificate": "x"})
    assert as_json.status_code == 400 and "certificate" in as_json.get_json()["fields"]
    with in_db(app) as session:
        assert session.exec(select(MaterialCertificate)).all() == []


# Werkzeug drops the spooled file of a part cut off mid-body without closing it (the request is still refused)
@pytest.mark.filterwarnings("ignore:Exception ignored in. <function SpooledTemporaryFile.__del__"
                            ":pytest.PytestUnraisableExceptionWarning")
def test_a_malformed_multipart_body_is_a_4xx_never_a_500(app, client, api):
    code = _lot_code(app)
    for body, kind in ((b"--x\r\nContent-Disposition: form-data; name=\"certificate\"; filename=\"a.pdf\"\r\n\r\n%PDF-",
                        "multipart/form-data; boundary=x"),
                       (b"garbage", "multipart/form-data"), (b"--\r\n", "multipart/form-data; boundary=")):
        answer = client.post(f"/api/v1/material-lots/{code}/certificates", data=body, content_type=kind,
                             headers=api.headers("lab"))
        assert 400 <= answer.status_code < 500, (kind, answer.status_code)
    unknown = _upload(client, api, "ML-999999", "lab", {"certificate": (BytesIO(PDF), "coa.pdf")})
    assert unknown.status_code == 404


def test_the_api_document_states_the_upload_as_multipart_with_a_binary_part(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/material-lots/{material_code}/certificates"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert schema["properties"]["certificate"]["format"] == "binary" and schema["required"] == ["certificate"]
    assert "413" in operation["responses"] and "Roles: lab, qc, qa" in operation["description"]


def test_an_upload_retried_with_its_idempotency_key_keeps_one_certificate(app, client, api):
    code = _lot_code(app)
    key = {"Idempotency-Key": "coa-upload-1"}
    answers = [client.post(f"/api/v1/material-lots/{code}/certificates", data={"certificate": (BytesIO(PDF), "c.pdf")},
                           headers={**api.headers("lab"), **key}, content_type="multipart/form-data")
               for _ in range(2)]
    first, again = answers
    assert first.status_code == 201, first.get_json()
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    with in_db(app) as session:
        assert len(session.exec(select(MaterialCertificate)).all()) == 1
