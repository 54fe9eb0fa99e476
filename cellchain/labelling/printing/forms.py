"""Printer page forms: a printer's details, sending labels to a printer, and the scan that applies a label."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from cellchain.core.page_forms import PageForm, text_field


class PrinterForm(PageForm):
    name = text_field(_l("Printer name"))
    place = text_field(_l("Where it stands"))
    kind = text_field(_l("Printer kind"))
    address = text_field(_l("Printer address"))
    dpi = text_field(_l("Print resolution"))
    label_sizes = text_field(_l("Label sizes"))
    active = text_field(_l("Printer in use"))

    def printer(self) -> dict[str, Any]:
        """The fields as the registry reads them (a resolution typed as digits is a number)."""
        dpi = self.dpi.data or ""
        return {"name": self.name.data or "", "place": self.place.data or "", "kind": self.kind.data or "",
                "address": self.address.data or "", "dpi": int(dpi) if dpi.isdigit() else dpi,
                "label_sizes": self.label_sizes.data or "", "active": self.active.data != "no"}


class SendForm(PageForm):
    printer_id = text_field(_l("Printer to use"))
    reason = text_field(_l("Reason for reprinting (a label printed before)"))
    passage = text_field(_l("Vessel passage"))
    vessels = text_field(_l("Vessels to label"))

    def printer(self) -> Any:
        text = self.printer_id.data or ""
        return int(text) if text.isdigit() else None

    def options(self, item_type: str) -> dict[str, Any]:
        if item_type != "vessel":
            return {}
        return {name: int(value) if value and value.isdigit() else None
                for name, value in (("passage", self.passage.data), ("vessels", self.vessels.data))}


class ApplyForm(PageForm):
    scan = text_field(_l("Scan of the label on its container"))
