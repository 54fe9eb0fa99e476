"""The cell-banking API: freeze a bank from a lot, list and read banks and vials, thaw a vial, genealogy."""

from __future__ import annotations

from typing import Any

from flask import current_app

from cellchain.banking import banks, genealogy, vials
from cellchain.banking.models import CellBank
from cellchain.banking.schemas import (
    BankDetailOut,
    BankListOut,
    BankOut,
    FreezeIn,
    NodeSchema,
    VialOut,
    VialThawIn,
    VialThawOut,
)
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.schemas import PageQuery, RowWith
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.manufacturing.models import Lot
from cellchain.people.security import current_user, login_required, roles_required
from cellchain.ward.custody_records import EventRecord

BANKS = ["cell banks"]


@bp.post("/lots/<lot_id>/bank", tags=BANKS)
@roles_required("lab", action=N_("freeze a cell bank"))
@bp.arguments(FreezeIn)
@bp.response(201, BankOut)
def freeze_bank(data: dict[str, Any], lot_id: str) -> banks.BankRow:
    """Freeze a bank lot into a master or working cell bank of numbered vials"""
    bank: CellBank = banks.freeze_bank(db.session(), actor=current_user(), lot_number=lot_id, data=data,
                                       ranges=current_app.config["TEMPERATURE_RANGES"])
    return banks.BankRow(bank, lot_id, "awaiting_release", {"frozen": bank.vial_count})


@bp.get("/banks", tags=BANKS)
@login_required
@bp.arguments(PageQuery, location="query")
@bp.response(200, BankListOut)
def list_banks(_query: dict[str, Any]) -> dict[str, Any]:
    """Every cell bank with its status (its lot's) and vials per state, newest first, a page at a time"""
    page = banks.list_banks(db.session(), page=page_request(size_arg="limit"))
    return {"banks": page.rows, "next": next_cursor(page)}


@bp.get("/banks/<bank_code>", tags=BANKS)
@login_required
@bp.response(200, BankDetailOut)
def get_bank(bank_code: str) -> banks.BankView:
    """A cell bank with each of its vials"""
    return banks.bank_view(db.session(), bank_code)


@bp.get("/vials/<vial_code>", tags=BANKS)
@login_required
@bp.response(200, VialOut)
def get_vial(vial_code: str) -> RowWith:
    """A vial: its bank, state, thaw and chain of custody"""
    session = db.session()
    view = vials.vial_view(session, vial_code)
    return RowWith(view.vial, bank=view.bank, bank_status=view.bank_status, started_lot=view.started_lot,
                   instruments=view.instruments,
                   custody=[EventRecord(e, view.vial.vial_code, None) for e in view.events])


@bp.post("/vials/thaw", tags=BANKS)
@roles_required("lab", action=N_("thaw a vial"))
@bp.arguments(VialThawIn)
@bp.response(201, VialThawOut)
def thaw_vial(data: dict[str, Any]) -> RowWith:
    """Thaw a vial of a released bank: records post-thaw viability and the instruments used, and starts the next
    lot; refused naming an instrument out of service or past its calibration or maintenance due date"""
    cfg = current_app.config
    lot: Lot = vials.thaw_vial(db.session(), actor=current_user(), vial=data.get("vial"), data=data,
                               letter=cfg["LOCAL_DATA_IDENTIFIERS"]["vial"], dosing_from_mcb=cfg["DOSING_LOT_FROM_MCB"],
                               ranges=cfg["TEMPERATURE_RANGES"], passage_limit=cfg["PASSAGE_LIMIT"])
    return RowWith(lot, lot_id=lot.lot_number, vial_code=vials.scanned_vial_code(
        data.get("vial"), cfg["LOCAL_DATA_IDENTIFIERS"]["vial"]))


@bp.get("/collections/<din>/genealogy", tags=BANKS)
@login_required
@bp.response(200, NodeSchema)
def get_genealogy(din: str) -> genealogy.Node:
    """The cord's genealogy: lots, banks, thawed vials and bags as a tree"""
    return genealogy.genealogy(db.session(), din)
