"""Instruments for tests: registered with their due dates, as the registry's operations write them."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.core.types import utcnow
from cellchain.equipment import instruments
from cellchain.equipment.models import Instrument
from tests.factories.lab import user

ZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return utcnow().astimezone(ZONE).date()


def make_instrument(session: Session, code: str = "CF-01", *, kind: str = "centrifuge", name: str = "Centrifuge 1",
                    calibration_in_days: int | None = 90, maintenance_in_days: int | None = 180) -> Instrument:
    def due(days: int | None) -> str | None:
        return None if days is None else (today() + timedelta(days=days)).isoformat()
    return instruments.register(session, actor=user(session, "lab"), zone=ZONE, data={
        "code": code, "name": name, "kind": kind, "place": "cleanroom B",
        "calibration_due": due(calibration_in_days), "maintenance_due": due(maintenance_in_days)})
