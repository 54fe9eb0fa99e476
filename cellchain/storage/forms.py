"""Storage's page forms: units, racks or shelves, boxes, the put/take/move scans, readings and logger files."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField

from cellchain.core.page_forms import NumberField, PageForm, SiteDateTimeField, text_field


class UnitForm(PageForm):
    code = text_field("Code")
    name = text_field("Name")
    kind = text_field("Kind")
    low_c = NumberField("Lowest allowed (°C)", message="a number of degrees Celsius")
    high_c = NumberField("Highest allowed (°C)", message="a number of degrees Celsius")


class LocationForm(PageForm):
    code = text_field("Code")
    name = text_field("Name")
    kind = text_field("Rack or shelf")


class BoxForm(PageForm):
    code = text_field("Code")
    name = text_field("Name")
    rows = text_field("Rows")
    columns = text_field("Columns")


class StoreForm(PageForm):
    """A container's scan, then a position label's scan, or a box label's scan and the position."""

    container = text_field("Container")
    target = text_field("Box or position label")
    position = text_field("Position")
    reason = text_field("Reason")
    back = HiddenField()


class ReadingForm(PageForm):
    temperature_c = text_field("Temperature (°C)")
    measured_at = SiteDateTimeField("Measured at (site time; now if empty)")
    notes = text_field("Notes")


class ImportForm(PageForm):
    file = FileField("Logger file (CSV)")
