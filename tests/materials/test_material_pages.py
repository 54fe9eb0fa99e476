"""The materials pages: QA adds a catalogue entry, the lab receives a lot (refused while a human-origin lot lacks
its donor testing), attaches the certificate, and QC releases it by signing; the page shows all of it, in Chinese
too."""

from __future__ import annotations

import hashlib
from io import BytesIO

from sqlmodel import select

from cellchain.materials.models import Material, MaterialCertificate, MaterialLot
from tests.conftest import PASSWORD
from tests.factories.lab import in_db

PDF = b"%PDF-1.4\n% a certificate of analysis\n%%EOF\n"


def test_a_lot_goes_from_the_catalogue_to_release_through_the_pages(app, client, auth):
    auth.login("qa")
    added = auth.post("/materials/", {"name": "Human platelet lysate", "supplier": "Bio", "catalogue_number": "PL-1",
                                      "kind": "platelet_lysate", "storage": "-20 C", "human_animal_origin": "y"})
    assert added.status_code == 303
    auth.logout()
    with in_db(app) as session:
        material_id = session.exec(select(Material.id)).one()
    auth.login("lab")
    form = {"material_id": str(material_id), "supplier_lot": "PL-26-07", "expires_on": "2030-06-30",
            "quantity": "250", "unit": "ml"}
    refused = auth.post("/materials/lots", form)
    assert refused.status_code == 400 and "donor_testing" in refused.get_data(as_text=True)
    received = auth.post("/materials/lots", {**form, "origin": "pooled platelets", "donor_testing": "NAT negative"})
    assert received.status_code == 303
    code = received.headers["Location"].rsplit("/", 1)[-1]
    attached = auth.post(f"/materials/lots/{code}/certificates", {"certificate": (BytesIO(PDF), "coa.pdf")})
    assert attached.status_code == 303
    auth.logout()
    auth.login("qc")
    released = auth.post(f"/materials/lots/{code}/release", {"signature_username": "qc",
                                                             "signature_password": PASSWORD,
                                                             "signature_meaning": "released"})
    assert released.status_code == 303
    page = client.get(f"/materials/lots/{code}").get_data(as_text=True)
    assert "PL-26-07" in page and hashlib.sha256(PDF).hexdigest() in page
    with in_db(app) as session:
        lot = session.exec(select(MaterialLot).where(MaterialLot.code == code)).one()
        assert lot.status == "released" and lot.decision_signature_id
        certificate = session.exec(select(MaterialCertificate)).one()
    download = client.get(f"/materials/lots/{code}/certificates/{certificate.id}")
    assert download.status_code == 200 and download.data == PDF
    auth.post("/auth/language", {"language": "zh"})
    assert "物料批" in client.get(f"/materials/lots/{code}").get_data(as_text=True)
    assert client.get("/materials/").status_code == 200
