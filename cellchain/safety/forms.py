"""Safety page forms: an adverse event's assessment (record and amend), its signed confirmation, and the
signed report of a serious event to the sponsor."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, RepeatedField, SiteDateTimeField, text_field

TEXT_FIELDS = ("term", "category", "description", "onset_on", "resolved_on", "grade", "causality", "expectedness",
               "action_taken", "outcome", "biopsy_proven", "rejection_treatment", "infusion_id")


class EventForm(PageForm):
    """The assessment as typed; the safety rules read each field and name every one they cannot take."""

    term = text_field(_l("Term"))
    category = text_field(_l("Category"))
    description = text_field(_l("Description"))
    onset_on = text_field(_l("Onset date"))
    resolved_on = text_field(_l("Resolution date"))
    grade = text_field(_l("CTCAE grade"))
    seriousness = RepeatedField(_l("Seriousness criteria met"))
    causality = text_field(_l("Relatedness (WHO-UMC)"))
    expectedness = text_field(_l("Expectedness"))
    action_taken = text_field(_l("Action taken with the study product"))
    outcome = text_field(_l("Outcome"))
    biopsy_proven = text_field(_l("Biopsy-proven"))
    rejection_treatment = text_field(_l("Treatment of the rejection"))
    infusion_id = text_field(_l("Infusion"))
    aware_at = SiteDateTimeField(_l("Site aware at (site time)"))
    reason = text_field(_l("Reason for the change"))

    def assessment(self) -> dict[str, Any]:
        """What ``events.record`` and ``events.amend`` read; awareness left empty keeps (or defaults) it."""
        values: dict[str, Any] = {name: getattr(self, name).data for name in TEXT_FIELDS}
        values["seriousness"] = list(self.seriousness.data or [])
        if self.aware_at.data is not None:
            values["aware_at"] = self.aware_at.data
        if self.reason.data:
            values["reason"] = self.reason.data
        return values


class ConfirmForm(SignatureForm):
    """The investigator confirms the assessment: the signature (meaning approved) is the whole form."""


class ReportForm(SignatureForm):
    """The signed report of a serious event to the sponsor (meaning authored): when it went and to whom."""

    sent_at = SiteDateTimeField(_l("Sent at (site time; empty: now)"))
    sent_to = text_field(_l("Sent to"))


class ClinicalDeviationForm(PageForm):
    """A clinical protocol deviation opened by hand (the coordinator or an investigator)."""

    kind = text_field(_l("Kind"))
    visit_id = text_field(_l("Visit"))
    description = text_field(_l("What happened"))


class ClinicalDecisionForm(SignatureForm):
    """The investigator approves or rejects (the signature's meaning says which); a rejection says why."""

    note = text_field(_l("Note"))


class ClinicalCloseForm(PageForm):
    note = text_field(_l("What was done about it"))
