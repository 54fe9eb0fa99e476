"""The ward's page forms: receive a bag, check it at the bedside, start (signed by a second nurse), complete."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import NumberField, PageForm, RepeatedField, SiteDateTimeField, text_field

VITALS = (("heart_rate", _l("Heart rate (/min)")), ("bp_systolic", _l("BP systolic (mmHg)")),
          ("bp_diastolic", _l("BP diastolic (mmHg)")), ("temperature_c", _l("Temperature (°C)")),
          ("spo2", _l("SpO2 (%)")), ("resp_rate", _l("Respiratory rate (/min)")))
REACTION_ROWS = 3


class ReceiveForm(PageForm):
    scan = text_field(_l("Scan the bag's 2D code"))
    temperature_c = NumberField(_l("Temperature on arrival (°C)"), message=_l("a number of degrees Celsius"))
    location = text_field(_l("Where"))
    condition = text_field(_l("Condition"))
    handed_over_by = text_field(_l("Handed over by"))
    received_by = text_field(_l("Received by"))

    def handover(self) -> dict[str, Any]:
        """The hand-over as ``custody.parse_handover`` reads it."""
        return {"event": "received_at_ward", "location": self.location.data, "condition": self.condition.data,
                "temperature_c": self.temperature_c.data, "handed_over_by": self.handed_over_by.data,
                "received_by": self.received_by.data}


class ThawForm(PageForm):
    scan = text_field(_l("Scan the frozen bag's label"))
    thawed_at = SiteDateTimeField(_l("Thawed at (site time; empty = now)"))
    location = text_field(_l("Where"))


class BedsideCheckForm(PageForm):
    wristband = HiddenField()
    bag_part = RepeatedField()
    scan = text_field()

    def bag_parts(self) -> list[str]:
        """The parts of the bag scanned so far, then this scan."""
        return [*self.bag_part.data, *([self.scan.data] if self.scan.data else [])]


class VitalSignsForm(PageForm):
    heart_rate = NumberField()
    bp_systolic = NumberField()
    bp_diastolic = NumberField()
    temperature_c = NumberField()
    spo2 = NumberField()
    resp_rate = NumberField()

    def vital_signs(self) -> dict[str, float]:
        """The readings given; one left empty is not taken."""
        readings = {name: self[name].data for name, _ in VITALS}
        return {name: value for name, value in readings.items() if value is not None}


class StartForm(VitalSignsForm, SignatureForm):
    """Start an infusion: the bag as checked, ultrasound confirmed, and the second nurse's signature."""

    wristband = HiddenField()
    bag_part = RepeatedField()
    ultrasound_monitored = BooleanField()


class CompleteForm(VitalSignsForm):
    volume_ml = NumberField(_l("Volume given (ml)"))
    partial_reason = text_field(_l("Why less than the bag was given (a partial infusion)"))
    ended_at = SiteDateTimeField(_l("Ended at (site time; empty = now)"))
    ultrasound_monitored = BooleanField()

    def reactions(self) -> list[dict[str, Any]]:
        """The reaction rows with a description; a row left empty is not a reaction."""
        rows = []
        for n in range(REACTION_ROWS):
            description = self[f"reaction_{n}_description"].data
            if description:
                rows.append({"description": description, "severity": self[f"reaction_{n}_severity"].data,
                             "onset_at": self[f"reaction_{n}_onset"].data})
        return rows


for _n in range(REACTION_ROWS):  # the page shows REACTION_ROWS rows of inputs, named by row
    setattr(CompleteForm, f"reaction_{_n}_description", text_field(_l("Description")))
    setattr(CompleteForm, f"reaction_{_n}_severity", text_field(_l("Severity")))
    setattr(CompleteForm, f"reaction_{_n}_onset", SiteDateTimeField(_l("Onset (site time)")))


class HandoverForm(PageForm):
    """One hand-over of the scanned cord or bag, as ``custody.parse_handover`` reads it."""

    kind = text_field()
    item = text_field()
    event = text_field(_l("Hand-over"))
    location = text_field(_l("Where"))
    temperature_c = text_field(_l("Temperature (°C)"))
    condition = text_field(_l("Condition"))
    handed_over_by = text_field(_l("From (person)"))
    received_by = text_field(_l("To (person)"))
    occurred_at = SiteDateTimeField(_l("When (site time; empty = now)"))
    notes = text_field(_l("Reason or note"))

    def handover(self) -> dict[str, Any]:
        return {name: self[name].data for name in ("event", "location", "temperature_c", "condition",
                                                   "handed_over_by", "received_by", "occurred_at", "notes")}


class DispatchForm(PageForm):
    """Bags scanned in a row into one shipping container, dispatched together."""

    bag = RepeatedField()
    ship_to = text_field(_l("Ship to"))
    location = text_field(_l("Dispatched from"))
    temperature_c = text_field(_l("Temperature at dispatch (°C)"))
    handed_over_by = text_field(_l("From (person)"))
    received_by = text_field(_l("To (courier or person)"))

    def handover(self) -> dict[str, Any]:
        return {"event": "dispatched", "location": self.location.data, "temperature_c": self.temperature_c.data,
                "handed_over_by": self.handed_over_by.data, "received_by": self.received_by.data,
                "notes": f"to {self.ship_to.data}" if self.ship_to.data else None}


class DiscardExpiredForm(PageForm):
    """Expired bags ticked on the list (or every one listed), discarded together with one reason."""

    bags = RepeatedField()
    every = text_field()
    reason = text_field(_l("Reason"))
    location = text_field(_l("Where"))
