"""The catalogue of materials, and receiving their lots into quarantine with the certificate of analysis.

A lot is received with the supplier's lot number as printed (hyphens and all), its expiry, quantity and
unit, read from the supplier's GS1 barcode or typed; a human- or animal-origin material's lot also states
its origin and the donors' testing (EU GMP Annex 2; Ph. Eur. 5.2.12 for raw materials of biological origin
used in cell-based products). QC or QA then releases or rejects it (``decisions.py``). docs/rules.md,
"Materials".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.fields import read_fields
from cellchain.core.words import N_, translated
from cellchain.identifiers import gs1
from cellchain.materials.models import (
    MATERIAL_KINDS,
    MATERIAL_LOT_STATUSES,
    Material,
    MaterialCertificate,
    MaterialLot,
)
from cellchain.materials.rules.lots import SUPPLIER_LOT
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality.rules.spec_limits import parse_number

RECEIVERS = ("lab", "qc", "qa")
MAX_CERTIFICATE_MB = 10
MAX_CERTIFICATE = MAX_CERTIFICATE_MB * 1024 * 1024
# The request that carries a certificate: the PDF, its multipart part headers and the page form's other fields
# (CSRF token, submission id). Only the upload's views take it; every other body keeps MAX_CONTENT_LENGTH.
MAX_CERTIFICATE_BODY = MAX_CERTIFICATE + 64 * 1024
CERTIFICATE_SIZE = N_("a PDF file of up to {mb} MB")
CERTIFICATE_TOO_LARGE = N_("The certificate of analysis is larger than {mb} MB: attach a PDF of up to {mb} MB.")
MATERIAL_EXISTS = "material_exists"
MATERIAL_LOT_EXISTS = "material_lot_exists"
GS1_GTIN_UNKNOWN = "gs1_gtin_unknown"
UNITS = ("ml", "l", "g", "mg", "ug", "units", "vials", "bags", "bottles", "kits")


def _text(data: Mapping[str, Any], name: str, longest: int, *, required: bool = True) -> str | None:
    value = data.get(name)
    text = value.strip() if isinstance(value, str) else None
    if not text:
        if required:
            raise Invalid({name: translated(N_("required, up to {longest} characters")).format(longest=longest)})
        return None
    if len(text) > longest:
        raise Invalid({name: translated(N_("up to {max_reason} characters")).format(max_reason=longest)})
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "n", "no", "false", "0"):
        return False
    if value in ("y", "yes", "true", "1", "on"):
        return True
    raise Invalid({"human_animal_origin": translated(N_("true or false"))})


def _gtin(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not gs1.gtin_is_valid(value.strip()):
        raise Invalid({"gtin": translated(N_("14 digits with a right GS1 check digit"))})
    return value.strip()


def _kind(value: Any) -> str:
    if value not in MATERIAL_KINDS:
        raise Invalid({"kind": translated(N_("one of {choices}")).format(choices=', '.join(MATERIAL_KINDS))})
    return value


def create_material(session: Session, *, actor: Actor, data: Mapping[str, Any]) -> Material:
    """Add a material to the catalogue (QA or QC keep it); audited."""
    require_role(actor.roles, "qa", "qc", action=N_("add a material to the catalogue"))
    values = read_fields({
        "name": lambda: _text(data, "name", 120), "supplier": lambda: _text(data, "supplier", 120),
        "catalogue_number": lambda: _text(data, "catalogue_number", 40), "gtin": lambda: _gtin(data.get("gtin")),
        "kind": lambda: _kind(data.get("kind")), "storage": lambda: _text(data, "storage", 80),
        "human_animal_origin": lambda: _flag(data.get("human_animal_origin")),
    })
    clash = select(Material.id).where(Material.supplier == values["supplier"],
                                      Material.catalogue_number == values["catalogue_number"])
    if session.exec(clash).first() is not None or (
            values["gtin"] and session.exec(select(Material.id).where(Material.gtin == values["gtin"])).first()):
        raise Refused(Reason(MATERIAL_EXISTS, supplier=values["supplier"], catalogue_number=values["catalogue_number"]))
    row = Material(**values, created_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="material", record_id=row.id, action="create", new=values)
    return row


def material(session: Session, material_id: int) -> Material:
    row = session.get(Material, material_id)
    if row is None:
        raise NotFound(f"no material {material_id}")
    return row


def materials(session: Session) -> list[Material]:
    return list(session.exec(select(Material).order_by(Material.name, Material.id)))


def lot_by_code(session: Session, code: Any) -> MaterialLot:
    row = session.exec(select(MaterialLot).where(MaterialLot.code == str(code).strip())).first() \
        if isinstance(code, str) else None
    if row is None:
        raise NotFound(f"no material lot {str(code)[:20]}")
    return row


def list_lots(session: Session, *, status: str | None = None, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of the lots received, newest first, each with its material."""
    statement = select(MaterialLot, Material).join(Material, Material.id == MaterialLot.material_id)
    if status is not None and status not in MATERIAL_LOT_STATUSES:
        raise Invalid({"status": translated(N_("one of {choices}")).format(choices=', '.join(MATERIAL_LOT_STATUSES))})
    if status:
        statement = statement.where(MaterialLot.status == status)
    return db.keyset(session, statement, (MaterialLot.id,), page, descending=True)


def _date(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid({name: translated(N_("a date YYYY-MM-DD"))})


def _quantity(value: Any) -> float:
    number = parse_number(value, "quantity")
    if not 0 < number <= 1e7:
        raise Invalid({"quantity": translated(N_("more than 0"))})
    return number


def _from_scan(session: Session, data: Mapping[str, Any], substitute: str) -> dict[str, Any]:
    """The material, lot number and expiry a supplier's GS1 barcode carries (the typed fields win if given)."""
    scan = data.get("scan")
    if scan in (None, ""):
        return {}
    try:
        parsed = gs1.parse(scan, substitute)
    except Invalid as refusal:
        raise Invalid({"scan": refusal.fields["data"]}) from None
    found: dict[str, Any] = {}
    if parsed.gtin:
        row = session.exec(select(Material).where(Material.gtin == parsed.gtin)).first()
        if row is None:
            raise Refused(Reason(GS1_GTIN_UNKNOWN, gtin=parsed.gtin))
        found["material_id"] = row.id
    if parsed.lot:
        found["supplier_lot"] = parsed.lot
    if parsed.expiry:
        found["expires_on"] = parsed.expiry
    return found


def _supplier_lot(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not SUPPLIER_LOT.fullmatch(text):
        raise Invalid({"supplier_lot": translated(N_(
            "the lot number as printed: 1-20 letters, digits, hyphens or other GS1 characters"))})
    return text


def _material_id(session: Session, value: Any) -> Material:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid({"material_id": translated(N_("the catalogue entry's id"))})
    row = session.get(Material, value)
    if row is None:
        raise Invalid({"material_id": translated(N_("no such material in the catalogue"))})
    return row


def _next_code(session: Session) -> str:
    top = session.exec(select(func.max(MaterialLot.id))).one() or 0
    return f"ML-{top + 1:06d}"


def receive(session: Session, *, actor: Actor, data: Mapping[str, Any], gs_substitute: str = "") -> MaterialLot:
    """Receive a lot into quarantine (``POST /material-lots``), from a supplier's GS1 scan and/or typed fields."""
    require_role(actor.roles, *RECEIVERS, action=N_("receive a material lot"))
    scanned = _from_scan(session, data, gs_substitute)
    merged = {**scanned, **{k: v for k, v in data.items() if v not in (None, "")}}
    values = read_fields({
        "material": lambda: _material_id(session, merged.get("material_id")),
        "supplier_lot": lambda: _supplier_lot(merged.get("supplier_lot")),
        "expires_on": lambda: _date(merged.get("expires_on"), "expires_on"),
        "quantity": lambda: _quantity(merged.get("quantity")),
        "unit": lambda: _unit(merged.get("unit")),
        "origin": lambda: _text(merged, "origin", 2000, required=False),
        "donor_testing": lambda: _text(merged, "donor_testing", 2000, required=False),
    })
    product: Material = values.pop("material")
    if product.human_animal_origin:
        missing = {name: "required for a material of human or animal origin"
                   for name in ("origin", "donor_testing") if not values[name]}
        if missing:
            raise Invalid(missing)
    if session.exec(select(MaterialLot.id).where(MaterialLot.material_id == product.id,
                                                 MaterialLot.supplier_lot == values["supplier_lot"])).first():
        raise Refused(Reason(MATERIAL_LOT_EXISTS, material=product.name, supplier_lot=values["supplier_lot"]))
    quantity = values.pop("quantity")
    row = MaterialLot(code=_next_code(session), material_id=product.id, quantity_received=quantity,
                      quantity_left=quantity, status="quarantine", received_by=actor.id, **values)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="material_lot", record_id=row.id, action="receive",
                 new={"code": row.code, "material": product.name, "supplier_lot": row.supplier_lot,
                      "expires_on": row.expires_on, "quantity_received": quantity, "quantity_left": quantity,
                      "unit": row.unit, "status": row.status, "origin": row.origin,
                      "donor_testing": row.donor_testing, "scanned": bool(scanned)})
    return row


def _unit(value: Any) -> str:
    if value not in UNITS:
        raise Invalid({"unit": translated(N_("one of {choices}")).format(choices=', '.join(UNITS))})
    return value


def attach_certificate(session: Session, *, actor: Actor, code: str, filename: Any,
                       content: Any) -> MaterialCertificate:
    """Keep the supplier's certificate of analysis (a PDF) with the lot; its SHA-256 goes into the trail."""
    require_role(actor.roles, *RECEIVERS, action=N_("attach a certificate of analysis"))
    lot = lot_by_code(session, code)
    if not isinstance(content, bytes) or not content.startswith(b"%PDF-") or len(content) > MAX_CERTIFICATE:
        raise Invalid({"certificate": translated(CERTIFICATE_SIZE).format(mb=MAX_CERTIFICATE_MB)})
    name = filename.strip()[-120:] if isinstance(filename, str) and filename.strip() else "certificate.pdf"
    digest = hashlib.sha256(content).hexdigest()
    row = MaterialCertificate(material_lot_id=lot.id, filename=name, sha256=digest, size=len(content),
                              content=content, uploaded_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="material_lot", record_id=lot.id, action="attach_certificate",
                 new={"certificate_id": row.id, "filename": name, "sha256": digest, "size": len(content)})
    return row


def certificates(session: Session, lot: MaterialLot) -> list[MaterialCertificate]:
    return list(session.exec(select(MaterialCertificate).where(MaterialCertificate.material_lot_id == lot.id)
                             .order_by(MaterialCertificate.id)))


def certificate(session: Session, code: str, certificate_id: int) -> MaterialCertificate:
    lot = lot_by_code(session, code)
    row = session.get(MaterialCertificate, certificate_id)
    if row is None or row.material_lot_id != lot.id:
        raise NotFound(f"material lot {lot.code} has no certificate {certificate_id}")
    return row
