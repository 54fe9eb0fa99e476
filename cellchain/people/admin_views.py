"""Administrators manage accounts and roles; they cannot sign for anyone or touch the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from cellchain.core import db
from cellchain.core.page_forms import PageForm, Refusal, submit
from cellchain.core.words import N_
from cellchain.core.words.notes import note
from cellchain.people import accounts, directory, role_grants
from cellchain.people.forms import ActiveForm, ApproveGrantForm, CreateUserForm, EmailForm, ReasonForm, RolesForm
from cellchain.people.rules.roles import ROLES
from cellchain.people.security import current_user, policy, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _users_page(problem: Refusal | None = None, form: PageForm | None = None) -> str:
    session = db.session()
    users = directory.all_users(session)
    # a refused new account shows its roles ticked again, as it shows its username and name
    chosen = form.roles.data if isinstance(form, CreateUserForm) and problem is not None else []
    return render_template("admin/users.html", users=users, roles=ROLES, problem=problem, form=form or {},
                           chosen_roles=chosen or [], grants=role_grants.pending(session),
                           names={u.id: u.username for u in users}, me=current_user())


@bp.route("/users")
@roles_required("admin", action=N_("manage accounts"))
def users():
    return _users_page()


def _change(form: PageForm, change: Callable[[], Any]):
    """Post one of the page's forms: the change, a message, back to the list; a refusal shows it again."""
    def run():
        flash(change(), "success")
        return redirect(url_for("admin.users"))

    return submit(form, run, lambda refusal: _users_page(refusal, form))


@bp.route("/users", methods=["POST"])
@roles_required("admin", action=N_("create accounts"))
def create_user():
    form = CreateUserForm()

    def create():
        user = accounts.create_user(db.session(), actor=current_user(), username=form.username.data or "",
                                    full_name=form.full_name.data or "", password=form.password.data or "",
                                    roles=form.roles.data, policy=policy())
        return note("account_created", username=user.username)

    return _change(form, create)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin", action=N_("unlock accounts"))
def unlock(user_id: int):
    form = ReasonForm()

    def unlock_account():
        user = accounts.unlock(db.session(), actor=current_user(), user_id=user_id, reason=form.reason.data or "")
        return note("account_unlocked", username=user.username)

    return _change(form, unlock_account)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@roles_required("admin", action=N_("change roles"))
def set_roles(user_id: int):
    form = RolesForm()

    def change_roles():
        grant = accounts.set_roles(db.session(), actor=current_user(), user_id=user_id, roles=form.roles.data,
                                   reason=form.reason.data or "", policy=policy())
        user = accounts.get_user(db.session(), user_id)
        if grant is None:
            return note("roles_changed", username=user.username)
        return note("roles_wait", username=user.username, grant_id=grant.id)

    return _change(form, change_roles)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin", action=N_("deactivate accounts"))
def set_active(user_id: int):
    form = ActiveForm()

    def change_active():
        active = form.active.data == "1"
        user = accounts.set_active(db.session(), actor=current_user(), user_id=user_id, active=active,
                                   reason=form.reason.data or "")
        return note("account_activated" if active else "account_deactivated", username=user.username)

    return _change(form, change_active)


@bp.route("/users/<int:user_id>/email", methods=["POST"])
@roles_required("admin", action=N_("change e-mail addresses"))
def set_email(user_id: int):
    form = EmailForm()

    def change_email():
        user = accounts.set_email(db.session(), actor=current_user(), user_id=user_id, email=form.email.data)
        if user.email:
            return note("email_set", username=user.username, email=user.email)
        return note("email_cleared", username=user.username)

    return _change(form, change_email)


@bp.route("/role-grants/<int:grant_id>/approve", methods=["POST"])
@roles_required("admin", action=N_("approve role grants"))
def approve_grant(grant_id: int):
    form = ApproveGrantForm()

    def approve():
        grant = role_grants.approve(db.session(), actor=current_user(), grant_id=grant_id,
                                    signature=form.signature(), policy=policy())
        user = accounts.get_user(db.session(), grant.user_id)
        return note("grant_approved", grant_id=grant.id, username=user.username, roles=", ".join(grant.role_list))

    return _change(form, approve)
