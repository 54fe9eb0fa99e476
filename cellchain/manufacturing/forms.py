"""Lab page forms: register and hand over a cord, grow a lot, keep its batch record, fill bags and placebo."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field
from cellchain.manufacturing.rules.donor import SCREENING_TESTS

YES_NO = {"yes": True, "no": False}
HISTORY = {"ok": True, "risk": False}


class CollectionForm(PageForm):
    """A cord collection; each screening test's result is posted as ``screening.<test>``."""

    donor_code = text_field(_l("Donor code"))
    site = text_field(_l("Collection site"))
    collected_at = SiteDateTimeField(_l("Collected at (site time)"))
    specimen_collected_at = SiteDateTimeField(_l("Specimen collected at (site time, optional)"))
    consent_obtained = text_field(_l("Consent"))
    medical_history_ok = text_field(_l("Medical history"))

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

    test = text_field(_l("Test"))
    result = text_field(_l("Result"))
    result_date = text_field(_l("Reported on"))
    laboratory = text_field(_l("Laboratory"))


class DeterminationForm(SignatureForm):
    """The investigator's signed donor eligibility determination (meaning approved)."""


for _test in SCREENING_TESTS:  # one select per test of the donor's screening panel
    setattr(CollectionForm, f"screening_{_test}", text_field(_test, name=f"screening.{_test}"))


class HandoverForm(PageForm):
    event = text_field(_l("Event"))
    location = text_field(_l("Location"))
    temperature_c = text_field(_l("Temperature (°C)"))
    condition = text_field(_l("Condition"))
    handed_over_by = text_field(_l("From (person or place)"))
    received_by = text_field(_l("Received by"))
    notes = text_field(_l("Notes"))
    occurred_at = SiteDateTimeField(_l("Occurred at (site time; empty = now)"))


class PassageForm(PageForm):
    number = text_field(_l("Passage"))
    seeded_cells = text_field(_l("Cells seeded"))
    harvested_cells = text_field(_l("Cells harvested"))
    viability_pct = text_field(_l("Viability (%)"))
    seeded_at = SiteDateTimeField(_l("Seeded at (site time)"))
    harvested_at = SiteDateTimeField(_l("Harvested at (site time)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])

    def passage(self) -> dict[str, Any]:
        values = self.values()
        number = values.get("number")
        values["number"] = int(number) if isinstance(number, str) and number.isdigit() else number
        return values


class StepForm(PageForm):
    step = text_field(_l("Step"))
    passage_number = text_field(_l("Passage (only for per-passage steps)"))
    details = text_field(_l("Details"))
    materials = text_field(_l("Material lots used"))  # lines "<scan or lot> <quantity>" (materials/usage.py)
    performed_at = SiteDateTimeField(_l("Performed at (site time; empty = now)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])


class VerifyStepForm(SignatureForm):
    """A second person's signed verification of a batch-record step."""


class HarvestForm(PageForm):
    harvested_cells = text_field(_l("Cells harvested"))
    harvested_at = SiteDateTimeField(_l("Harvested at (site time; empty = now)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])


class FormulationForm(PageForm):
    cells_per_ml = text_field(_l("Concentration (cells/ml)"))
    volume_ml = text_field(_l("Volume (ml)"))
    performed_at = SiteDateTimeField(_l("Formulated at (site time; empty = now)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])


class FillForm(PageForm):
    count = text_field(_l("Number of standard bags"))
    volume_ml = text_field(_l("Volume per standard bag (ml)"))
    total_cells = text_field(
        _l("Cells per bag (optional: within %(tolerance)s of the formulation; bags carry the computed number)",
           tolerance="0.5%"))
    anticoagulant = text_field(_l("Anticoagulant"))
    anticoagulant_lot = text_field(_l("Anticoagulant lot"))
    anticoagulant_volume_ml = text_field(_l("Anticoagulant volume per bag (ml, optional)"))
    filled_at = SiteDateTimeField(_l("Filled at (site time; empty = now)"))
    expires_at = SiteDateTimeField(_l("Expires at (site time, optional)"))
    preservation = text_field(_l("Preservation"))
    frozen_at = SiteDateTimeField(_l("Frozen at (site time; empty = the fill time)"))
    instruments = TextAreaField(_l("Instruments used"), filters=[lambda v: v.strip() if isinstance(v, str) else v])
    named = TextAreaField(_l("Bags for named subjects: one per line, subject id and infusion week"),
                          filters=[lambda v: v.strip() if isinstance(v, str) else v])


class PlaceboForm(PageForm):
    count = text_field(_l("Number of bags"))
    volume_ml = text_field(_l("Volume per bag (ml)"))
    saline_lot = text_field(_l("Saline lot"))
    filled_at = SiteDateTimeField(_l("Filled at (site time; empty = now)"))
    expires_at = SiteDateTimeField(_l("Expires at (site time; empty = the shelf life from now)"))
