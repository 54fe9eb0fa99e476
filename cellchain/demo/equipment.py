"""Demo instruments: the cleanroom's cabinet, incubators, centrifuge, cell counter and controlled-rate freezer,
with calibration and maintenance due dates (one calibration falling due within the dashboard's window, one
incubator's maintenance overdue, not used since), a maintenance record, and the instruments each demo step
uses (``USED``, read by the lab, bank and supply loaders). The storage units register themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.core.types import utcnow
from cellchain.equipment import instruments
from cellchain.equipment.models import Instrument
from cellchain.people import accounts

# code, name, kind, place, calibration due in days (None: not calibrated), maintenance due in days
INSTRUMENTS: tuple[tuple[str, str, str, str, int | None, int | None], ...] = (
    ("BSC-01", "Biosafety cabinet 1", "biosafety_cabinet", "Cleanroom B", 160, 160),
    ("INC-01", "CO2 incubator 1", "incubator", "Cleanroom B", 200, 90),
    ("INC-02", "CO2 incubator 2", "incubator", "Cleanroom B", 240, -4),
    ("CF-01", "Centrifuge 1", "centrifuge", "Cleanroom B", 300, 120),
    ("CC-01", "Cell counter 1", "cell_counter", "QC lab", 12, 200),
    ("CRF-01", "Controlled-rate freezer 1", "controlled_rate_freezer", "Cryostore", 280, 180),
)

USED: dict[str, list[str]] = {
    "tissue_processing": ["BSC-01"],
    "passage": ["BSC-01", "INC-01", "CF-01"],
    "harvest": ["BSC-01", "CF-01", "CC-01"],
    "wash": ["BSC-01", "CF-01"],
    "formulation": ["BSC-01", "CC-01"],
    "fill": ["BSC-01"],
    "bank_freeze": ["BSC-01", "CRF-01"],
}
"""The instruments each demo step scans (a step's code; a passage's for every passage)."""


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """The demo instruments not registered yet, and INC-01's last maintenance; the number made."""
    del policy  # no signatures here; the signature matches the other demo loaders
    lab = accounts.find_user(session, "lab")
    if lab is None or session.exec(select(Instrument.id).where(Instrument.code == "BSC-01")).first() is not None:
        return 0
    zone = ZoneInfo(config["SITE_TIMEZONE"])
    today = utcnow().astimezone(zone).date()

    def due(days: int | None) -> str | None:
        return None if days is None else (today + timedelta(days=days)).isoformat()

    for code, name, kind, place, calibration, maintenance in INSTRUMENTS:
        instruments.register(session, actor=lab, zone=zone, data={
            "code": code, "name": name, "kind": kind, "place": place, "calibration_due": due(calibration),
            "maintenance_due": due(maintenance)})
    instruments.record_service(session, actor=lab, code="INC-01", service="maintenance", zone=zone, data={
        "done_on": due(-20), "next_due": due(345), "done_by": "Thermo service engineer", "certificate_ref": "SR-4471"})
    return len(INSTRUMENTS) + 1
