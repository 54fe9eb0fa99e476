"""Administrators manage accounts and roles; they cannot sign for anyone or touch the audit trail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlmodel import select

from cellchain.core import db
from cellchain.people import accounts
from cellchain.people.models import User
from cellchain.people.rules.roles import ROLES
from cellchain.people.security import current_user, policy, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles_required("admin", action="manage accounts")
def users():
    people = db.session().exec(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=people, roles=ROLES)


@bp.route("/users", methods=["POST"])
@roles_required("admin", action="create accounts")
def create_user():
    form = request.form
    user = accounts.create_user(db.session(), actor=current_user(), username=form.get("username", "").strip(),
                                full_name=form.get("full_name", ""), password=form.get("password", ""),
                                roles=form.getlist("roles"), policy=policy())
    flash(f"Account {user.username} created.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin", action="unlock accounts")
def unlock(user_id: int):
    user = accounts.unlock(db.session(), actor=current_user(), user_id=user_id, reason=request.form.get("reason", ""))
    flash(f"Account {user.username} unlocked.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@roles_required("admin", action="change roles")
def set_roles(user_id: int):
    user = accounts.set_roles(db.session(), actor=current_user(), user_id=user_id,
                              roles=request.form.getlist("roles"), reason=request.form.get("reason", ""))
    flash(f"Roles of {user.username} changed.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin", action="deactivate accounts")
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    user = accounts.set_active(db.session(), actor=current_user(), user_id=user_id, active=active,
                               reason=request.form.get("reason", ""))
    flash(f"Account {user.username} {'activated' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.users"))
