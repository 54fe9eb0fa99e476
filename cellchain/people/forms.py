"""People page forms: log in, and the administrator's account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, RepeatedField, text_field


class LoginForm(PageForm):
    username = text_field(_l("Username"))
    password = PasswordField(_l("Password"))
    next = HiddenField()


class PasswordForm(PageForm):
    """Change one's own password: never shown back after a refusal."""

    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"))
    repeat_password = PasswordField(_l("New password again"))


class LanguageForm(PageForm):
    language = text_field(_l("Language"))


class CreateUserForm(PageForm):
    username = text_field(_l("Username"))
    full_name = text_field(_l("Printed name"))
    password = PasswordField(_l("Initial password"))
    roles = RepeatedField(_l("Roles"))


class ReasonForm(PageForm):
    """Unlock an account: the reason goes into the audit trail."""

    reason = text_field(_l("Reason"))


class RolesForm(ReasonForm):
    roles = RepeatedField(_l("Roles"))


class EmailForm(PageForm):
    email = text_field(_l("E-mail"))


class ActiveForm(ReasonForm):
    active = text_field(_l("Active"))


class ApproveGrantForm(SignatureForm):
    """A second administrator approves a pending role grant with an e-signature (meaning approved)."""
