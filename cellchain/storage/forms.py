"""Storage's page forms: units, racks or shelves, boxes, the put/take/move scans, readings and logger files."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField

from cellchain.core.page_forms import NumberField, PageForm, SiteDateTimeField, text_field


class UnitForm(PageForm):
    code = text_field(_l("Code"))
    name = text_field(_l("Name"))
    kind = text_field(_l("Kind"))
    low_c = NumberField(_l("Lowest allowed (°C)"), message=_l("a number of degrees Celsius"))
    high_c = NumberField(_l("Highest allowed (°C)"), message=_l("a number of degrees Celsius"))


class LocationForm(PageForm):
    code = text_field(_l("Code"))
    name = text_field(_l("Name"))
    kind = text_field(_l("Rack or shelf"))


class BoxForm(PageForm):
    code = text_field(_l("Code"))
    name = text_field(_l("Name"))
    rows = text_field(_l("Rows"))
    columns = text_field(_l("Columns"))


class StoreForm(PageForm):
    """A container's scan, then a position label's scan, or a box label's scan and the position."""

    container = text_field(_l("Container"))
    target = text_field(_l("Box or position label"))
    position = text_field(_l("Position"))
    reason = text_field(_l("Reason"))
    back = HiddenField()


class ReadingForm(PageForm):
    temperature_c = text_field(_l("Temperature (°C)"))
    measured_at = SiteDateTimeField(_l("Measured at (site time; now if empty)"))
    notes = text_field(_l("Notes"))


class ImportForm(PageForm):
    file = FileField(_l("Logger file (CSV)"))
