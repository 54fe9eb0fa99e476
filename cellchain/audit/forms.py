"""The e-signature every signing page takes: username, password and the meaning of the act."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField

from cellchain.audit import signatures
from cellchain.core.page_forms import PageForm, text_field


class SignatureForm(PageForm):
    """Base of every form that signs, with the inputs the ``signature_fields`` macro draws.

    The password is never put back into a page shown again after a refusal.
    """

    signature_username = text_field("Username")
    signature_password = PasswordField("Password")
    signature_meaning = HiddenField("Meaning")

    def signature(self, field: str = "signature") -> signatures.SignatureInput:
        """The signature as the operations take it; a missing part is named ``<field>.<part>`` (400)."""
        return signatures.parse_signature({"username": self.signature_username.data or "",
                                           "password": self.signature_password.data or "",
                                           "meaning": (self.signature_meaning.data or "").strip()}, field=field)


class ReviewChangesForm(PageForm):
    """QA reviews the outside changes the page showed, up to the newest of them (``through``)."""

    through = HiddenField("Through")
    note = text_field("Note")
