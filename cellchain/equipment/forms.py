"""Equipment page forms: register an instrument, record a calibration or maintenance, take it out of service,
return it to service (QA's e-signature)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field


class InstrumentForm(PageForm):
    code = text_field(_l("Instrument identifier"))
    name = text_field(_l("Instrument name"))
    kind = text_field(_l("Kind of instrument"))
    place = text_field(_l("Place (room or area)"))
    calibration_due = text_field(_l("Calibration due"))
    maintenance_due = text_field(_l("Maintenance due"))


class ServiceForm(PageForm):
    done_on = text_field(_l("Done on (date)"))
    next_due = text_field(_l("Next due (date)"))
    done_by = text_field(_l("Performed by (person or company)"))
    certificate_ref = text_field(_l("Certificate or report"))
    out_of_tolerance = BooleanField(_l("Found out of tolerance"))


class OutOfServiceForm(PageForm):
    reason = text_field(_l("Reason for the change of status"))
    since = SiteDateTimeField(_l("Since (site time; empty = now)"))


class ReturnForm(SignatureForm):
    reason = text_field(_l("Reason for the change of status"))
