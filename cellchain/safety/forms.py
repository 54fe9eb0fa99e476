"""Safety page forms: an adverse event's assessment (record and amend), its signed confirmation, and the
signed report of a serious event to the sponsor."""

from __future__ import annotations

from typing import Any

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, RepeatedField, SiteDateTimeField, text_field

TEXT_FIELDS = ("term", "category", "description", "onset_on", "resolved_on", "grade", "causality", "expectedness",
               "action_taken", "outcome", "biopsy_proven", "rejection_treatment", "infusion_id")


class EventForm(PageForm):
    """The assessment as typed; the safety rules read each field and name every one they cannot take."""

    term = text_field("Term")
    category = text_field("Category")
    description = text_field("Description")
    onset_on = text_field("Onset date")
    resolved_on = text_field("Resolution date")
    grade = text_field("CTCAE grade")
    seriousness = RepeatedField("Seriousness criteria met")
    causality = text_field("Relatedness (WHO-UMC)")
    expectedness = text_field("Expectedness")
    action_taken = text_field("Action taken with the study product")
    outcome = text_field("Outcome")
    biopsy_proven = text_field("Biopsy-proven")
    rejection_treatment = text_field("Treatment of the rejection")
    infusion_id = text_field("Infusion")
    aware_at = SiteDateTimeField("Site aware at (site time)")
    reason = text_field("Reason for the change")

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

    sent_at = SiteDateTimeField("Sent at (site time; empty: now)")
    sent_to = text_field("Sent to")


class ClinicalDeviationForm(PageForm):
    """A clinical protocol deviation opened by hand (the coordinator or an investigator)."""

    kind = text_field("Kind")
    visit_id = text_field("Visit")
    description = text_field("What happened")


class ClinicalDecisionForm(SignatureForm):
    """The investigator approves or rejects (the signature's meaning says which); a rejection says why."""

    note = text_field("Note")


class ClinicalCloseForm(PageForm):
    note = text_field("What was done about it")
