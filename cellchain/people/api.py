"""Bearer tokens for scanner stations and hospital systems."""

from __future__ import annotations

from flask import jsonify, request

from cellchain.core import db
from cellchain.core.api import bp, json_body
from cellchain.core.canonical import format_utc
from cellchain.core.errors import Invalid
from cellchain.people import accounts
from cellchain.people.security import current_user, login_required, login_throttle, policy


@bp.post("/auth/token")
def issue_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    fields = {k: "required" for k, v in (("username", username), ("password", password))
              if not isinstance(v, str) or not v}
    if fields:
        raise Invalid(fields)
    session = db.session()
    with login_throttle():
        user = accounts.check_credentials(session, username.strip(), password, policy=policy())
    plain, token = accounts.issue_token(session, user, policy=policy(), label=str(data.get("label", "")))
    return jsonify({"token": plain, "expires_at": format_utc(token.expires_at), "username": user.username,
                    "roles": sorted(user.roles)}), 201


@bp.post("/auth/revoke")
@login_required
def revoke_token():
    header = request.headers.get("Authorization", "")
    accounts.revoke_token(db.session(), actor=current_user(), plain=header[7:].strip())
    return jsonify({"revoked": True})


@bp.get("/auth/me")
@login_required
def me():
    user = current_user()
    return jsonify({"username": user.username, "full_name": user.full_name, "roles": sorted(user.roles)})
