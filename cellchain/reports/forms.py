"""Report page forms: QA's signed decision on a temperature excursion."""

from __future__ import annotations

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import text_field


class ExcursionDecisionForm(SignatureForm):
    decision = text_field("Decision")
    reason = text_field("Assessment")
