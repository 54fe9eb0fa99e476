"""Equipment page forms: register an instrument, record a calibration or maintenance, take it out of service,
return it to service (QA's e-signature)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field


class InstrumentForm(PageForm):
    code = text_field(_l("Identifier"))
    name = text_field(_l("Name"))
    kind = text_field(_l("Kind"))
    place = text_field(_l("Place"))
    calibration_due = text_field(_l("Calibration due"))
    maintenance_due = text_field(_l("Maintenance due"))


class ServiceForm(PageForm):
    done_on = text_field(_l("Done on"))
    next_due = text_field(_l("Next due"))
    done_by = text_field(_l("Done by"))
    certificate_ref = text_field(_l("Certificate or report"))
    out_of_tolerance = BooleanField(_l("Found out of tolerance"))


class OutOfServiceForm(PageForm):
    reason = text_field(_l("Reason"))
    since = SiteDateTimeField(_l("Since (site time; empty = now)"))


class ReturnForm(SignatureForm):
    reason = text_field(_l("Reason"))
