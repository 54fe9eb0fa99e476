"""The audit chain's health, for monitors and inspectors."""

from __future__ import annotations

from flask import jsonify

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.people.security import roles_required


@bp.get("/audit/verify")
@roles_required("auditor", "qa", "admin", action="verify the audit trail")
def verify():
    return jsonify(trail.verify_chain(db.session()).as_dict())
