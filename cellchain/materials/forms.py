"""The materials pages' forms: a catalogue entry, a lot received, a certificate, a signed decision, a step's lots."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, text_field


class MaterialForm(PageForm):
    name = text_field(_l("Name"))
    supplier = text_field(_l("Supplier"))
    catalogue_number = text_field(_l("Catalogue number"))
    gtin = text_field(_l("GTIN"))
    kind = text_field(_l("Kind"))
    storage = text_field(_l("Storage condition"))
    human_animal_origin = BooleanField(_l("Of human or animal origin"))


class ReceiveForm(PageForm):
    scan = text_field(_l("Supplier's barcode"))
    material_id = text_field(_l("Material"))
    supplier_lot = text_field(_l("Supplier's lot number"))
    expires_on = text_field(_l("Expiry"))
    quantity = text_field(_l("Quantity"))
    unit = text_field(_l("Unit"))
    origin = text_field(_l("Origin"))
    donor_testing = text_field(_l("Donor testing"))


class CertificateForm(PageForm):
    certificate = FileField(_l("Certificate of analysis (PDF)"))


class DecisionForm(SignatureForm):
    reason = text_field(_l("Reason"))


class StepMaterialsForm(PageForm):
    materials = text_field(_l("Material lots used"))
