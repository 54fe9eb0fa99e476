"""QC and QA page forms: a QC result, release and reject (signed), deviations from opening to closing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, site_zone, text_field


class ResultForm(PageForm):
    test = text_field(_l("Test"))
    value = text_field(_l("Value"))
    sample_stage = text_field(_l("Sample stage"))
    sampled_at = SiteDateTimeField(_l("Sampled at (site time)"))
    tested_at = SiteDateTimeField(_l("Tested at (site time, optional)"))
    repeat_of = text_field(_l("Repeats result"))
    reason = text_field(_l("Reason for the repeat"))

    def result(self) -> dict[str, Any]:
        """The result as ``qc.parse_result`` reads it, which names every field it cannot take."""
        return {"test": self.test.data, "value": self.value.data, "sample_stage": self.sample_stage.data,
                "sampled_at": self.sampled_at.data, "tested_at": self.tested_at.data,
                "repeat_of": self.repeat_of.data, "reason": self.reason.data}


ROW_FIELDS = ("value", "sample_stage", "sampled_at", "tested_at")


def _site_time(text: str) -> Any:
    """A ``datetime-local`` value as the site's wall clock; anything unreadable goes on as typed, so that
    ``qc.parse_result`` names the row's field."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo else moment.replace(tzinfo=site_zone())


class ResultsForm(PageForm):
    """Every open test of a lot on one form: inputs ``<test>.value``, ``<test>.sample_stage``,
    ``<test>.sampled_at``, ``<test>.tested_at``. A row whose value is left empty is not sent (its test is
    not done yet)."""

    def rows(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        """The rows with a value, by test code, as ``qc.record_results`` reads them."""
        rows = {}
        for code in codes:
            typed = {name: request.form.get(f"{code}.{name}", "").strip() for name in ROW_FIELDS}
            if not typed["value"]:
                continue
            for name in ("sampled_at", "tested_at"):
                typed[name] = _site_time(typed[name]) if typed[name] else None
            rows[code] = typed
        return rows


class ReleaseForm(SignatureForm):
    """Release a lot: the QA person's signature is the whole form."""


class RejectForm(SignatureForm):
    reason = text_field("Reason")


class LiftHoldForm(SignatureForm):
    """Lift a hold: QA's e-signature (meaning approved) and the reason."""

    reason = text_field("Reason")


class PlaceHoldForm(SignatureForm):
    """Hold a collection, bank, lot or bag (a recall when ``recall`` is ticked): QA's reason and e-signature."""

    reason = text_field("Reason")
    recall = text_field()  # a ticked box posts "yes"


class DeviationForm(PageForm):
    kind = text_field("Kind")
    description = text_field("Description")
    lot_id = text_field()
    test = text_field("Test code")


class InvestigateForm(PageForm):
    root_cause = text_field("Root cause")
    impact = text_field("Impact on the product")


class DecideForm(PageForm):
    decision = text_field("Decision")
    justification = text_field("Justification")


class CloseForm(SignatureForm):
    """Close a deviation, signed."""
