"""Cell-banking page forms: freeze a bank from a lot, thaw a vial (scanned)."""

from __future__ import annotations

from wtforms import TextAreaField

from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field


class FreezeForm(PageForm):
    level = text_field("Bank level")
    passage = text_field("Frozen at passage")
    vial_count = text_field("Number of vials")
    cells_per_vial = text_field("Cells per vial")
    cryoprotectant = text_field("Cryoprotectant")
    frozen_at = SiteDateTimeField("Frozen at (site time; empty = now)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])


class ThawForm(PageForm):
    vial = text_field("Vial (scan its label)")
    purpose = text_field("The thaw starts")
    post_thaw_viability_pct = text_field("Post-thaw viability (%)")
    thawed_at = SiteDateTimeField("Thawed at (site time; empty = now)")
