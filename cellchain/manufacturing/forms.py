"""Lab page forms: register and hand over a cord, grow a lot, keep its batch record, fill bags and placebo."""

from __future__ import annotations

from typing import Any

from wtforms import TextAreaField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field
from cellchain.manufacturing.rules.donor import SCREENING_TESTS

YES_NO = {"yes": True, "no": False}
HISTORY = {"ok": True, "risk": False}


class CollectionForm(PageForm):
    """A cord collection; each screening test's result is posted as ``screening.<test>``."""

    donor_code = text_field("Donor code")
    site = text_field("Collection site")
    collected_at = SiteDateTimeField("Collected at (site time)")
    specimen_collected_at = SiteDateTimeField("Specimen collected at (site time, optional)")
    consent_obtained = text_field("Consent")
    medical_history_ok = text_field("Medical history")

    def collection(self) -> dict[str, Any]:
        """The collection as ``collections.register_collection`` reads it; an unanswered radio stays None."""
        screening = {test: self[f"screening_{test}"].data for test in SCREENING_TESTS
                     if self[f"screening_{test}"].data}
        return {"donor_code": self.donor_code.data or "", "site": self.site.data or "",
                "collected_at": self.collected_at.data, "specimen_collected_at": self.specimen_collected_at.data,
                "consent_obtained": YES_NO.get(self.consent_obtained.data or ""),
                "medical_history_ok": HISTORY.get(self.medical_history_ok.data or ""), "screening": screening}


class DonorResultForm(PageForm):
    """A maternal screening result that arrived after registration."""

    test = text_field("Test")
    result = text_field("Result")
    result_date = text_field("Reported on")
    laboratory = text_field("Laboratory")


class DeterminationForm(SignatureForm):
    """The investigator's signed donor eligibility determination (meaning approved)."""


for _test in SCREENING_TESTS:  # one select per test of the donor's screening panel
    setattr(CollectionForm, f"screening_{_test}", text_field(_test, name=f"screening.{_test}"))


class HandoverForm(PageForm):
    event = text_field("Event")
    location = text_field("Location")
    temperature_c = text_field("Temperature (°C)")
    condition = text_field("Condition")
    handed_over_by = text_field("From (person or place)")
    received_by = text_field("Received by")
    notes = text_field("Notes")
    occurred_at = SiteDateTimeField("Occurred at (site time; empty = now)")


class PassageForm(PageForm):
    number = text_field("Passage")
    seeded_cells = text_field("Cells seeded")
    harvested_cells = text_field("Cells harvested")
    viability_pct = text_field("Viability (%)")
    seeded_at = SiteDateTimeField("Seeded at (site time)")
    harvested_at = SiteDateTimeField("Harvested at (site time)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])

    def passage(self) -> dict[str, Any]:
        values = self.values()
        number = values.get("number")
        values["number"] = int(number) if isinstance(number, str) and number.isdigit() else number
        return values


class StepForm(PageForm):
    step = text_field("Step")
    passage_number = text_field("Passage (only for per-passage steps)")
    details = text_field("Details")
    materials = text_field("Material lots used")  # lines "<scan or lot> <quantity>" (materials/usage.py)
    performed_at = SiteDateTimeField("Performed at (site time; empty = now)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])


class VerifyStepForm(SignatureForm):
    """A second person's signed verification of a batch-record step."""


class HarvestForm(PageForm):
    harvested_cells = text_field("Cells harvested")
    harvested_at = SiteDateTimeField("Harvested at (site time; empty = now)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])


class FormulationForm(PageForm):
    cells_per_ml = text_field("Concentration (cells/ml)")
    volume_ml = text_field("Volume (ml)")
    performed_at = SiteDateTimeField("Formulated at (site time; empty = now)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])


class FillForm(PageForm):
    count = text_field("Number of standard bags")
    volume_ml = text_field("Volume per standard bag (ml)")
    total_cells = text_field("Cells per bag (optional: within 0.5% of the formulation; bags carry the computed number)")
    anticoagulant = text_field("Anticoagulant")
    anticoagulant_lot = text_field("Anticoagulant lot")
    anticoagulant_volume_ml = text_field("Anticoagulant volume per bag (ml, optional)")
    filled_at = SiteDateTimeField("Filled at (site time; empty = now)")
    expires_at = SiteDateTimeField("Expires at (site time, optional)")
    preservation = text_field("Preservation")
    frozen_at = SiteDateTimeField("Frozen at (site time; empty = the fill time)")
    instruments = TextAreaField("Instruments used", filters=[lambda v: v.strip() if isinstance(v, str) else v])
    named = TextAreaField("Bags for named subjects: one per line, subject id and infusion week",
                          filters=[lambda v: v.strip() if isinstance(v, str) else v])


class PlaceboForm(PageForm):
    count = text_field("Number of bags")
    volume_ml = text_field("Volume per bag (ml)")
    saline_lot = text_field("Saline lot")
    filled_at = SiteDateTimeField("Filled at (site time; empty = now)")
    expires_at = SiteDateTimeField("Expires at (site time; empty = the shelf life from now)")
