"""Label page forms: print (or reprint, with a reason) an item's labels, and account for a printed label."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from cellchain.core.page_forms import PageForm, text_field


def _whole_number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


class PrintForm(PageForm):
    reason = text_field(_l("Reason for a reprint"))
    format = text_field(_l("Format"))
    passage = text_field(_l("Passage"))
    vessels = text_field(_l("Number of vessels"))

    def options(self, item_type: str) -> dict[str, Any]:
        """Culture vessel labels say which passage and how many vessels; nothing else takes options."""
        if item_type != "vessel":
            return {}
        return {"passage": _whole_number(self.passage.data), "vessels": _whole_number(self.vessels.data)}


class LabelStatusForm(PageForm):
    status = text_field(_l("Status"))
    reason = text_field(_l("Reason"))
