"""People page forms: log in, and the administrator's account forms."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, RepeatedField, text_field


class LoginForm(PageForm):
    username = text_field("Username")
    password = PasswordField("Password")
    next = HiddenField()


class PasswordForm(PageForm):
    """Change one's own password: never shown back after a refusal."""

    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    repeat_password = PasswordField("New password again")


class LanguageForm(PageForm):
    language = text_field("Language")


class CreateUserForm(PageForm):
    username = text_field("Username")
    full_name = text_field("Printed name")
    password = PasswordField("Initial password")
    roles = RepeatedField("Roles")


class ReasonForm(PageForm):
    """Unlock an account: the reason goes into the audit trail."""

    reason = text_field("Reason")


class RolesForm(ReasonForm):
    roles = RepeatedField("Roles")


class EmailForm(PageForm):
    email = text_field("E-mail")


class ActiveForm(ReasonForm):
    active = text_field("Active")


class ApproveGrantForm(SignatureForm):
    """A second administrator approves a pending role grant with an e-signature (meaning approved)."""
