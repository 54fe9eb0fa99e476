"""The audit chain's health, for monitors and inspectors."""

from __future__ import annotations

from cellchain.audit import reconcile, row_changes, trail
from cellchain.audit.schemas import AuditVerifyOut, AuditVerifyQuery
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.words import N_
from cellchain.people.security import roles_required


@bp.get("/audit/verify", tags=["audit"])
@roles_required("auditor", "qa", "admin", action=N_("verify the audit trail"))
@bp.arguments(AuditVerifyQuery, location="query")
@bp.response(200, AuditVerifyOut)
def verify(query: dict) -> dict:
    """Check the audit trail: links, hashes, keyed seals and signed checkpoints (?incremental=true), and every
    regulated record against the values its newest entries recorded"""
    session = db.session()
    chain = trail.verify_chain(session, incremental=query["incremental"]).as_dict()
    records = reconcile.reconcile(session).as_dict()
    return {**chain, "ok": chain["ok"] and records["ok"], "chain_ok": chain["ok"], "records": records,
            "outside_changes": row_changes.count(session)}
