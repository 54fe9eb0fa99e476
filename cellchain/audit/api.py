"""The audit chain's health, for monitors and inspectors."""

from __future__ import annotations

from cellchain.audit import trail
from cellchain.audit.schemas import AuditVerifyOut, AuditVerifyQuery
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.people.security import roles_required


@bp.get("/audit/verify", tags=["audit"])
@roles_required("auditor", "qa", "admin", action="verify the audit trail")
@bp.arguments(AuditVerifyQuery, location="query")
@bp.response(200, AuditVerifyOut)
def verify(query: dict) -> dict:
    """Check the audit trail: links, hashes, keyed seals and signed checkpoints (?incremental=true)"""
    return trail.verify_chain(db.session(), incremental=query["incremental"]).as_dict()
