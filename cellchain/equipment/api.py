"""API: the instrument registry (docs/rules.md, "Equipment"). The lab and QA keep it; QA alone returns an
instrument to service, by e-signature; QC and the auditor read it. Batch steps name the instruments they used
in their own bodies (``instruments``)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from cellchain.audit.signatures import parse_signature
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.page_forms import site_zone
from cellchain.core.schemas import ErrorSchema, PageQuery
from cellchain.core.types import utcnow
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.equipment import instruments
from cellchain.equipment.instruments import KEEPERS, READERS
from cellchain.equipment.models import Instrument
from cellchain.equipment.schemas import (
    DueOut,
    InstrumentIn,
    InstrumentOut,
    InstrumentsOut,
    OutOfServiceIn,
    ReturnIn,
    ServiceIn,
)
from cellchain.people.security import current_user, policy, roles_required

TAGS = ["equipment"]
BAD_INPUT = "a field is missing, unknown or wrong: ``fields`` names each"


def _answer(row: Instrument) -> dict[str, Any]:
    return {"instrument": row, "history": instruments.events_of(db.session(), row.id)}


@bp.get("/instruments", tags=TAGS)
@roles_required(*READERS, action=N_("read the instrument registry"))
@bp.arguments(PageQuery, location="query")
@bp.response(200, InstrumentsOut)
def list_instruments(_query: dict[str, Any]) -> dict[str, Any]:
    """Every instrument, by identifier, a page at a time (?limit=, ?cursor= from ``next``)"""
    page = instruments.list_instruments(db.session(), page_request(size_arg="limit"))
    return {"instruments": page.rows, "next": next_cursor(page)}


@bp.post("/instruments", tags=TAGS)
@roles_required(*KEEPERS, action=N_("register an instrument"))
@bp.arguments(InstrumentIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, InstrumentOut)
def register(data: dict[str, Any]) -> dict[str, Any]:
    """Register an instrument with its identifier, place and calibration and maintenance due dates"""
    return _answer(instruments.register(db.session(), actor=current_user(), data=data, zone=site_zone()))


@bp.get("/instruments/due", tags=TAGS)
@roles_required(*READERS, action=N_("read the instrument registry"))
@bp.response(200, DueOut)
def falls_due() -> dict[str, Any]:
    """Calibrations and maintenance overdue or due within ``EQUIPMENT_DUE_DAYS`` days"""
    days = current_app.config["EQUIPMENT_DUE_DAYS"]
    today = utcnow().astimezone(site_zone()).date()
    return {"days": days, "due": instruments.falls_due(db.session(), today=today, days=days)}


@bp.get("/instruments/<instrument_code>", tags=TAGS)
@roles_required(*READERS, action=N_("read the instrument registry"))
@bp.response(200, InstrumentOut)
def get_instrument(instrument_code: str) -> dict[str, Any]:
    """An instrument with its service history"""
    return _answer(instruments.by_code(db.session(), instrument_code))


@bp.post("/instruments/<instrument_code>/calibrations", tags=TAGS)
@roles_required(*KEEPERS, action=N_("record a calibration"))
@bp.arguments(ServiceIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, InstrumentOut)
def record_calibration(data: dict[str, Any], instrument_code: str) -> dict[str, Any]:
    """Record a calibration done: the day, the next due day, by whom, the certificate, any out-of-tolerance finding"""
    session = db.session()
    instruments.record_service(session, actor=current_user(), code=instrument_code, service="calibration", data=data,
                               zone=site_zone())
    return _answer(instruments.by_code(session, instrument_code))


@bp.post("/instruments/<instrument_code>/maintenance", tags=TAGS)
@roles_required(*KEEPERS, action=N_("record a maintenance"))
@bp.arguments(ServiceIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(201, InstrumentOut)
def record_maintenance(data: dict[str, Any], instrument_code: str) -> dict[str, Any]:
    """Record a maintenance done: the day, the next due day, by whom, the service report"""
    session = db.session()
    instruments.record_service(session, actor=current_user(), code=instrument_code, service="maintenance", data=data,
                               zone=site_zone())
    return _answer(instruments.by_code(session, instrument_code))


@bp.post("/instruments/<instrument_code>/out-of-service", tags=TAGS)
@roles_required(*KEEPERS, action=N_("take an instrument out of service"))
@bp.arguments(OutOfServiceIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, InstrumentOut)
def take_out_of_service(data: dict[str, Any], instrument_code: str) -> dict[str, Any]:
    """Take an instrument out of service with the reason, from now or from a stated earlier time"""
    return _answer(instruments.take_out_of_service(db.session(), actor=current_user(), code=instrument_code, data=data))


@bp.post("/instruments/<instrument_code>/return-to-service", tags=TAGS)
@roles_required("qa", action=N_("return an instrument to service"))
@bp.arguments(ReturnIn)
@bp.alt_response(400, schema=ErrorSchema, description=BAD_INPUT)
@bp.response(200, InstrumentOut)
def return_to_service(data: dict[str, Any], instrument_code: str) -> dict[str, Any]:
    """QA returns an instrument to service by e-signature (meaning approved), with the reason"""
    row = instruments.return_to_service(db.session(), actor=current_user(), code=instrument_code,
                                        reason=data.get("reason"), signature=parse_signature(data.get("signature")),
                                        policy=policy())
    return _answer(row)
