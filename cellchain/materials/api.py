"""API: the catalogue of materials, receiving lots, their release or rejection (signed), certificates, and the
material lots of a batch step (docs/architecture.md, "The JSON API")."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.error_handlers import body_limit
from cellchain.core.schemas import FILE_BODY, RowWith
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.materials import catalogue, decisions, steps
from cellchain.materials.schemas import (
    CertificateIn,
    MaterialCertificateSchema,
    MaterialDecisionIn,
    MaterialIn,
    MaterialLotSchema,
    MaterialLotsOut,
    MaterialLotsQuery,
    MaterialSchema,
    MaterialsOut,
    ReceiveIn,
    StepMaterialsIn,
    StepMaterialsOut,
)
from cellchain.people.security import current_user, policy, roles_required

TAGS = ["materials"]
READERS = ("lab", "qc", "qa", "auditor")


@bp.post("/materials", tags=TAGS)
@roles_required("qc", "qa", action=N_("add a material to the catalogue"))
@bp.arguments(MaterialIn)
@bp.response(201, MaterialSchema)
def create_material(data: dict[str, Any]) -> Any:
    """Add a material (medium, platelet lysate, serum, enzyme, DMSO, anticoagulant, saline, bag ...) to the catalogue"""
    return catalogue.create_material(db.session(), actor=current_user(), data=data)


@bp.get("/materials", tags=TAGS)
@roles_required(*READERS, action=N_("read the catalogue of materials"))
@bp.response(200, MaterialsOut)
def list_materials() -> dict[str, Any]:
    """The catalogue of materials"""
    return {"materials": catalogue.materials(db.session())}


@bp.post("/material-lots", tags=TAGS)
@roles_required(*catalogue.RECEIVERS, action=N_("receive a material lot"))
@bp.arguments(ReceiveIn)
@bp.response(201, MaterialLotSchema)
def receive_lot(data: dict[str, Any]) -> decisions.LotDetail:
    """Receive a lot into quarantine, from the supplier's GS1 barcode (``scan``) and/or typed fields"""
    session = db.session()
    row = catalogue.receive(session, actor=current_user(), data=data,
                            gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
    return decisions.detail(session, row.code)


@bp.get("/material-lots", tags=TAGS)
@roles_required(*READERS, action=N_("read the material lots"))
@bp.arguments(MaterialLotsQuery, location="query")
@bp.response(200, MaterialLotsOut)
def list_lots(query: dict[str, Any]) -> dict[str, Any]:
    """The lots received, newest first, a page at a time"""
    page = catalogue.list_lots(db.session(), status=query.get("status") or None, page=page_request(size_arg="limit"))
    return {"lots": [RowWith(lot, lot=lot, material=material) for lot, material in page.rows],
            "next": next_cursor(page)}


@bp.get("/material-lots/<material_code>", tags=TAGS)
@roles_required(*READERS, action=N_("read a material lot"))
@bp.response(200, MaterialLotSchema)
def get_lot(material_code: str) -> decisions.LotDetail:
    """A material lot: its material, status and signed decision, certificates and every use"""
    return decisions.detail(db.session(), material_code)


def _decide(material_code: str, data: dict[str, Any], decision: str) -> decisions.LotDetail:
    session = db.session()
    decisions.decide(session, actor=current_user(), code=material_code, decision=decision,
                     signature=signatures.parse_signature(data.get("signature")), reason=data.get("reason"),
                     policy=policy())
    return decisions.detail(session, material_code)


@bp.post("/material-lots/<material_code>/release", tags=TAGS)
@roles_required(*decisions.DECIDERS, action=N_("release a material lot"))
@bp.arguments(MaterialDecisionIn)
@bp.response(200, MaterialLotSchema)
def release_lot(data: dict[str, Any], material_code: str) -> decisions.LotDetail:
    """QC or QA releases a lot in quarantine for use (e-signature, meaning released); not its receiver"""
    return _decide(material_code, data, "release")


@bp.post("/material-lots/<material_code>/reject", tags=TAGS)
@roles_required(*decisions.DECIDERS, action=N_("reject a material lot"))
@bp.arguments(MaterialDecisionIn)
@bp.response(200, MaterialLotSchema)
def reject_lot(data: dict[str, Any], material_code: str) -> decisions.LotDetail:
    """QC or QA rejects a lot in quarantine (e-signature, meaning rejected, and a reason)"""
    return _decide(material_code, data, "reject")


@bp.post("/material-lots/<material_code>/certificates", tags=TAGS)
@body_limit(catalogue.MAX_CERTIFICATE_BODY, limit_mb=catalogue.MAX_CERTIFICATE_MB, field="certificate",
            message=catalogue.CERTIFICATE_TOO_LARGE)
@roles_required(*catalogue.RECEIVERS, action=N_("attach a certificate of analysis"))
@bp.arguments(CertificateIn, location="files")
@bp.response(201, MaterialCertificateSchema)
def attach_certificate(data: dict[str, Any], material_code: str) -> Any:
    """Attach the supplier's certificate of analysis to a lot (a PDF, ``multipart/form-data`` part
    ``certificate``); the same operation as the lot's page, its SHA-256 kept in the audit trail"""
    upload = data["certificate"]
    return catalogue.attach_certificate(db.session(), actor=current_user(), code=material_code,
                                        filename=getattr(upload, "filename", None), content=upload.read())


@bp.get("/material-lots/<material_code>/certificates/<int:certificate_id>", tags=TAGS)
@roles_required(*READERS, action=N_("read a certificate of analysis"))
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The certificate of analysis as uploaded")
def certificate(material_code: str, certificate_id: int) -> Response:
    """The certificate of analysis kept with the lot (its SHA-256 is in the lot's record)"""
    row = catalogue.certificate(db.session(), material_code, certificate_id)
    return Response(row.content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{row.sha256[:12]}.pdf"'})


@bp.post("/lots/<lot_id>/batch-steps/<int:step_id>/materials", tags=TAGS)
@roles_required("lab", action=N_("record the material lots of a step"))
@bp.arguments(StepMaterialsIn)
@bp.response(201, StepMaterialsOut)
def step_materials(data: dict[str, Any], lot_id: str, step_id: int) -> dict[str, Any]:
    """Record the material lots used at a step already recorded (scanned, with quantities); each must have been
    released, in date and not held when the step was performed"""
    uses = steps.add_to_step(db.session(), actor=current_user(), lot_number=lot_id, step_id=step_id, data=data,
                             gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
    return {"uses": [RowWith(u, lot_number=lot_id) for u in uses]}
