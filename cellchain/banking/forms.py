"""Cell-banking page forms: freeze a bank from a lot, thaw a vial (scanned)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field


class FreezeForm(PageForm):
    level = text_field(_l("Bank level"))
    passage = text_field(_l("Frozen at passage"))
    vial_count = text_field(_l("Number of vials"))
    cells_per_vial = text_field(_l("Cells per vial"))
    cryoprotectant = text_field(_l("Cryoprotectant"))
    frozen_at = SiteDateTimeField(_l("Frozen at (site time; empty = now)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])


class ThawForm(PageForm):
    vial = text_field(_l("Vial (scan its label)"))
    purpose = text_field(_l("The thaw starts"))
    post_thaw_viability_pct = text_field(_l("Post-thaw viability (%)"))
    thawed_at = SiteDateTimeField(_l("Thawed at (site time; empty = now)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])
