"""The audit chain's health, for monitors and inspectors."""

from __future__ import annotations

from cellchain.audit import trail
from cellchain.audit.rules.hash_chain import ChainReport
from cellchain.audit.schemas import AuditVerifyOut
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.people.security import roles_required


@bp.get("/audit/verify", tags=["audit"])
@roles_required("auditor", "qa", "admin", action="verify the audit trail")
@bp.response(200, AuditVerifyOut)
def verify() -> ChainReport:
    """Check the audit trail's hash chain"""
    return trail.verify_chain(db.session())
